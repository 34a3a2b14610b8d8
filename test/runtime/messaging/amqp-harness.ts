import { connect, type ChannelModel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { AmqpTransport, type AmqpTransportOptions } from '../../../runtime/messaging/amqp-transport.js';
import { planQueueDeclarations } from '../../../runtime/messaging/core/declarations.js';
import type { MessageProperties } from '../../../runtime/messaging/core/delivery.js';
import { publishKeyFor, routeFor, type MessagingMetadata } from '../../../runtime/messaging/core/routing.js';
import { DEAD_LETTER_REASON_HEADER, errorQueueOf, type Destination, type Transport } from '../../../runtime/messaging/transport.js';
import type { TransportHarness } from '../../contracts/transport.contract.js';
import { captureLogs, type LogLine } from '../../helpers/log-capture.js';

/** Connection options of an amqp:// URL, as a messaging_broker_connections row. */
export function connectionRow(id: number, brokerId: number, url: string): MessagingMetadata['connections'][number] {
  const u = new URL(url);
  return {
    id,
    messaging_broker_id: brokerId,
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    host: u.hostname,
    port: u.port === '' ? null : Number(u.port),
    virtual_host: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : null,
  };
}

/** A deployment of one root exchange (unique per call) with two child exchanges, a (id 2) and b (id 3). */
export function twoExchangeMetadata(amqpUrl: string): MessagingMetadata {
  const root = `oa_test_${randomUUID().slice(0, 8)}`;
  return {
    exchanges: [
      { id: 1, name: root, parent_exchange_id: null, routing_key_fragment: 'test', failover_exchange_id: null },
      { id: 2, name: 'a', parent_exchange_id: 1, routing_key_fragment: 'a', failover_exchange_id: null },
      { id: 3, name: 'b', parent_exchange_id: 1, routing_key_fragment: 'b', failover_exchange_id: null },
    ],
    brokers: [{ id: 1, name: 'local', failover_broker_id: null }],
    connections: [connectionRow(1, 1, amqpUrl)],
    restrictions: [],
  };
}

/** The contract harness over a real broker: raw amqplib for what a test looks at from outside. */
export async function amqpHarness(
  amqpUrl: string,
  extra: Partial<AmqpTransportOptions> = {},
): Promise<TransportHarness & { lines: LogLine[]; rootExchange: string }> {
  const metadata = twoExchangeMetadata(amqpUrl);
  const { log, lines } = captureLogs();
  const raw: ChannelModel = await connect(amqpUrl);
  const channel = await raw.createChannel();
  const queues = new Set<string>();
  const record = (transport: Transport): Transport => ({
    publish: (to, type, payload, options) => (queues.add(to.queue), transport.publish(to, type, payload, options)),
    request: (to, type, payload, options) => (queues.add(to.queue), transport.request(to, type, payload, options)),
    consume: (spec) => (queues.add(spec.queue), transport.consume(spec)),
    close: () => transport.close(),
  });
  return {
    lines,
    rootExchange: metadata.exchanges[0]!.name,
    get warnings() {
      return lines.filter((l) => l.level >= 40).map((l) => l.msg);
    },
    exchanges: { a: 2, b: 3 },
    async make({ exchangeId, maxInFlight }) {
      const transport = new AmqpTransport({ metadata, exchangeId, brokerId: 1, log: log.child({ exchangeId }), ...(maxInFlight ? { maxInFlight } : {}), ...extra });
      return record(transport);
    },
    publisherUser: decodeURIComponent(new URL(amqpUrl).username),
    async publishRaw(to: Destination, bytes: Buffer, properties = {}) {
      queues.add(to.queue);
      const route = routeFor(metadata.exchanges, to.exchangeId);
      const plan = planQueueDeclarations(route, to.queue, errorQueueOf(to.queue));
      await channel.assertExchange(plan.exchange.name, 'topic', { durable: true });
      await channel.assertQueue(plan.queue.name, { durable: true, arguments: plan.queue.arguments });
      await channel.bindQueue(plan.queue.name, plan.exchange.name, plan.binding.key);
      channel.publish(route.rootExchangeName, publishKeyFor(route.routingKey, to.queue), bytes, { persistent: true, ...properties });
    },
    async takeDeadLetters(to: Destination) {
      queues.add(to.queue);
      await channel.assertQueue(errorQueueOf(to.queue), { durable: true });
      const letters: Array<{ body: Buffer; reason: string | undefined; properties: MessageProperties }> = [];
      for (;;) {
        const msg = await channel.get(errorQueueOf(to.queue), { noAck: true });
        if (msg === false) break;
        const reason: unknown = msg.properties.headers?.[DEAD_LETTER_REASON_HEADER];
        letters.push({ body: msg.content, reason: typeof reason === 'string' ? reason : undefined, properties: msg.properties });
      }
      return letters;
    },
    async cleanup() {
      for (const queue of queues) {
        await channel.deleteQueue(queue);
        await channel.deleteQueue(errorQueueOf(queue));
      }
      await channel.deleteExchange(metadata.exchanges[0]!.name);
      await raw.close();
    },
  };
}
