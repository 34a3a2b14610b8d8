import { expect } from 'chai';
import { connect } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { AmqpTransport } from '../../../runtime/messaging/amqp-transport.js';
import type { MessagingMetadata } from '../../../runtime/messaging/core/routing.js';
import { errorQueueOf } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { startTcpProxy } from '../../helpers/tcp-proxy.js';
import { connectionRow } from './amqp-harness.js';

/** Stops or starts the RabbitMQ application of the second node. */
function rabbit2(action: 'stop_app' | 'start_app'): void {
  const run = spawnSync('rabbitmqctl', ['-n', services().rabbit2Node, action], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`rabbitmqctl ${action} failed: ${run.stderr}`);
}

/**
 * Issue 19 item 1: a running AMQP transport told of new metadata moves where the change requires, on two real
 * RabbitMQ nodes, without being made again.
 */
describe('AmqpTransport.updateMetadata (two RabbitMQ nodes)', function () {
  this.timeout(120_000);
  needs('rabbitmq', 'rabbitmq-2');
  const tag = randomUUID().slice(0, 8);
  const root = `oa_mc_${tag}`;
  const queues: string[] = [];
  /** A queue of its own per test: durable queues outlive a test on either node. */
  let queue = '';
  beforeEach(function () {
    queue = `mc_${tag}_${queues.length}`;
    queues.push(queue);
  });
  const transports: AmqpTransport[] = [];
  let stopped = false;

  const exchanges: MessagingMetadata['exchanges'] = [
    { id: 1, name: root, parent_exchange_id: null, routing_key_fragment: 'one', failover_exchange_id: null },
    { id: 2, name: `${root}_two`, parent_exchange_id: null, routing_key_fragment: 'two', failover_exchange_id: null },
  ];
  const make = (metadata: MessagingMetadata, exchangeId = 1) => {
    const { log, lines } = captureLogs();
    const transport = new AmqpTransport({ metadata, exchangeId, brokerId: 1, log, retryCount: 2, backoff: { initialMs: 100, maxMs: 300 }, probeIntervalMs: 500, publishTimeoutMs: 30_000 });
    transports.push(transport);
    return { transport, lines };
  };
  const received: Array<{ n: number }> = [];
  const consumer = (transport: AmqpTransport) =>
    transport.consume({ queue, decode: (p) => ({ ok: true, value: p as { n: number } }), handle: async (m) => (received.push(m), { type: 'ack' }) });

  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
    if (stopped) rabbit2('start_app');
    stopped = false;
    received.length = 0;
  });

  after(async () => {
    for (const url of [services().amqpUrl, services().amqpUrl2]) {
      const raw = await connect(url);
      const channel = await raw.createChannel();
      for (const q of queues.flatMap((q) => [q, errorQueueOf(q)])) await channel.deleteQueue(q);
      for (const x of exchanges) await channel.deleteExchange(x.name);
      await raw.close();
    }
  });
  const primaryUp = (transport: AmqpTransport) => waitFor('the primary connection', () => transport.status().every((s) => s.active === 'primary'), 20_000);

  it('a connection row moved to another node: the link reconnects there and its consumers follow', async () => {
    const before: MessagingMetadata = { exchanges, brokers: [{ id: 1, name: 'b', failover_broker_id: null }], connections: [connectionRow(1, 1, services().amqpUrl)], restrictions: [] };
    const { transport, lines } = make(before);
    await consumer(transport);
    await transport.publish({ exchangeId: 1, queue }, 'mc.test', { n: 1 });
    await waitFor('the first message', () => received.length === 1);
    const after = { ...before, connections: [connectionRow(1, 1, services().amqpUrl2)] };
    const plan = transport.updateMetadata(after, 'test');
    expect(plan.links).to.deep.equal([{ brokerId: 1, action: 'reconnect', reason: 'connection 1 of broker 1 changed or was removed' }]);
    await transport.publish({ exchangeId: 1, queue }, 'mc.test', { n: 2 });
    await waitFor('the message through the new node', () => received.some((m) => m.n === 2), 20_000);
    // The queue it consumed now lives on the second node.
    const raw = await connect(services().amqpUrl2);
    const channel = await raw.createChannel();
    expect((await channel.checkQueue(queue)).consumerCount).to.equal(1);
    await raw.close();
    expect(lines.some((l) => l.msg === 'messaging metadata changed')).to.equal(true);
  });

  it('a restriction added: publishes into that exchange go through the restricted broker', async () => {
    const before: MessagingMetadata = {
      exchanges,
      brokers: [{ id: 1, name: 'b1', failover_broker_id: null }, { id: 2, name: 'b2', failover_broker_id: null }],
      connections: [connectionRow(1, 1, services().amqpUrl), connectionRow(2, 2, services().amqpUrl2)],
      restrictions: [],
    };
    const { transport } = make(before);
    await primaryUp(transport);
    const depth = async (url: string) => {
      const raw = await connect(url);
      raw.on('error', () => undefined);
      const channel = await raw.createChannel();
      channel.on('error', () => undefined); // a queue that is not there closes the channel: that is the answer -1
      try {
        return (await channel.checkQueue(queue).catch(() => ({ messageCount: -1 }))).messageCount;
      } finally {
        await raw.close().catch(() => undefined);
      }
    };
    await transport.publish({ exchangeId: 2, queue }, 'mc.test', { n: 1 });
    expect([await depth(services().amqpUrl), await depth(services().amqpUrl2)]).to.deep.equal([1, -1]);
    const plan = transport.updateMetadata({ ...before, restrictions: [{ id: 1, messaging_exchange_id: 2, messaging_broker_id: 2 }] }, 'test');
    expect(plan).to.include({ restrictionsChanged: true });
    await transport.publish({ exchangeId: 2, queue }, 'mc.test', { n: 2 });
    expect([await depth(services().amqpUrl), await depth(services().amqpUrl2)]).to.deep.equal([1, 1]);
  });

  it('says when it may have missed a change: its broker unreachable past the retry count, and connected again', async () => {
    const node = new URL(services().amqpUrl);
    const proxy = await startTcpProxy({ host: node.hostname, port: Number(node.port || 5672) });
    try {
      const row = { ...connectionRow(1, 1, services().amqpUrl), port: proxy.port };
      const stale: string[] = [];
      const transport = new AmqpTransport({
        metadata: { exchanges, brokers: [{ id: 1, name: 'b', failover_broker_id: null }], connections: [row], restrictions: [] },
        exchangeId: 1,
        brokerId: 1,
        log: captureLogs().log,
        retryCount: 2,
        backoff: { initialMs: 50, maxMs: 100 },
        onStale: (why) => stale.push(why),
      });
      transports.push(transport);
      await primaryUp(transport);
      expect(stale).to.deep.equal([]);
      proxy.drop();
      await waitFor('the broker reported unreachable', () => stale.includes('broker 1 unreachable after 2 attempts'), 20_000);
      proxy.restore();
      await waitFor('the reconnect reported', () => stale.some((w) => /connected again/.test(w)), 20_000);
    } finally {
      await proxy.close();
    }
  });

  it('a failover broker added while it runs is used once the primary stops, with no new transport', async () => {
    const before: MessagingMetadata = { exchanges, brokers: [{ id: 1, name: 'rabbit2', failover_broker_id: null }], connections: [connectionRow(1, 1, services().amqpUrl2)], restrictions: [] };
    const { transport, lines } = make(before);
    await consumer(transport);
    await primaryUp(transport);
    const after: MessagingMetadata = {
      ...before,
      brokers: [{ id: 1, name: 'rabbit2', failover_broker_id: 2 }, { id: 2, name: 'rabbit', failover_broker_id: null }],
      connections: [...before.connections, connectionRow(2, 2, services().amqpUrl)],
    };
    expect(transport.updateMetadata(after, 'test').links.map((l) => l.action)).to.deep.equal(['retarget-failover']);
    expect(transport.status()).to.deep.equal([{ brokerId: 1, active: 'primary' }]);
    stopped = true;
    rabbit2('stop_app');
    await transport.publish({ exchangeId: 1, queue }, 'mc.test', { n: 7 });
    await waitFor('the message consumed on the failover', () => received.some((m) => m.n === 7), 30_000);
    expect(transport.status()).to.deep.equal([{ brokerId: 1, active: 'failover' }]);
    expect(lines.some((l) => l.msg === 'primary broker unreachable; switching to the failover broker')).to.equal(true);
  });
});
