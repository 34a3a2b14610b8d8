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
import { connectionRow } from './amqp-harness.js';

/** Stops or starts the RabbitMQ application of the second node (the primary broker of this test). */
function rabbit2(action: 'stop_app' | 'start_app'): void {
  const run = spawnSync('rabbitmqctl', ['-n', services().rabbit2Node, action], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`rabbitmqctl ${action} failed: ${run.stderr}`);
}

const TOTAL = 10_000;
const WINDOW = 50;

describe('AMQP broker failover (two RabbitMQ nodes)', function () {
  this.timeout(180_000);
  needs('rabbitmq', 'rabbitmq-2');
  const tag = randomUUID().slice(0, 8);
  const queue = `failover_${tag}`;
  let transport: AmqpTransport | undefined;

  after(async () => {
    await transport?.close();
    rabbit2('start_app');
    for (const url of [services().amqpUrl2, services().amqpUrl]) {
      const raw = await connect(url);
      const channel = await raw.createChannel();
      for (const q of [queue, errorQueueOf(queue), `${queue}_observer`]) await channel.deleteQueue(q);
      for (const x of [`oa_fo_${tag}`, `oa_fo_${tag}_failover`]) await channel.deleteExchange(x);
      await raw.close();
    }
  });

  it('loses no confirmed message when the primary stops mid-stream, and fails back when it returns', async () => {
    const metadata: MessagingMetadata = {
      exchanges: [
        { id: 1, name: `oa_fo_${tag}`, parent_exchange_id: null, routing_key_fragment: 'primary', failover_exchange_id: 2 },
        { id: 2, name: `oa_fo_${tag}_failover`, parent_exchange_id: null, routing_key_fragment: 'failover', failover_exchange_id: null },
      ],
      brokers: [
        { id: 1, name: 'rabbit2', failover_broker_id: 2 },
        { id: 2, name: 'rabbit', failover_broker_id: null },
      ],
      connections: [connectionRow(1, 1, services().amqpUrl2), connectionRow(2, 2, services().amqpUrl)],
      restrictions: [],
    };
    const { log, lines } = captureLogs();
    transport = new AmqpTransport({ metadata, exchangeId: 1, brokerId: 1, log, retryCount: 5, backoff: { initialMs: 100, maxMs: 500 }, probeIntervalMs: 1_000, publishTimeoutMs: 60_000 });
    const received = new Map<number, number>();
    let stoppedAt = 0;
    /** When the first message was consumed from the failover node. */
    let firstAfterStop = 0;
    await transport.consume({
      queue,
      decode: (p) => ({ ok: true, value: p as { n: number } }),
      handle: async ({ n }) => {
        received.set(n, (received.get(n) ?? 0) + 1);
        if (firstAfterStop === 0 && lines.some((l) => l.msg === 'subscribing' && l.kind === 'failover')) firstAfterStop = Date.now();
        return { type: 'ack' };
      },
    });
    // An observer on the primary node sees every message that goes through the primary exchange.
    const observerConnection = await connect(services().amqpUrl2);
    const observer = await observerConnection.createChannel();
    await observer.assertQueue(`${queue}_observer`, { durable: false });
    await observer.bindQueue(`${queue}_observer`, `oa_fo_${tag}`, `primary.${queue}`);

    const confirmed = new Set<number>();
    const publish = async (n: number): Promise<void> => {
      await transport!.publish({ exchangeId: 1, queue }, 'failover.test', { n });
      confirmed.add(n);
    };
    const started = Date.now();
    let stopping: Promise<void> | undefined;
    for (let n = 0; n < TOTAL; n += WINDOW) {
      await Promise.all(Array.from({ length: Math.min(WINDOW, TOTAL - n) }, (_, i) => publish(n + i)));
      if (stopping === undefined && confirmed.size >= 3_000) {
        stoppedAt = Date.now();
        stopping = Promise.resolve().then(() => rabbit2('stop_app'));
      }
    }
    await stopping;
    const publishedIn = Date.now() - started;
    expect(confirmed.size).to.equal(TOTAL);
    expect(transport.status().find((s) => s.brokerId === 1)?.active).to.equal('failover');
    await waitFor('consumption on the failover node', () => firstAfterStop > 0, 20_000);

    rabbit2('start_app');
    await waitFor('fail-back to the primary', () => transport!.status().find((s) => s.brokerId === 1)?.active === 'primary', 30_000);
    await observer.purgeQueue(`${queue}_observer`).catch(() => undefined);
    await observerConnection.close().catch(() => undefined);
    const back = await connect(services().amqpUrl2);
    const watch = await back.createChannel();
    await watch.assertQueue(`${queue}_observer`, { durable: false });
    await watch.bindQueue(`${queue}_observer`, `oa_fo_${tag}`, `primary.${queue}`);
    for (let n = TOTAL; n < TOTAL + 100; n++) await publish(n);
    const seenOnPrimary = (await watch.checkQueue(`${queue}_observer`)).messageCount;
    await back.close();

    await waitFor('every confirmed message consumed', () => [...confirmed].every((n) => received.has(n)), 60_000);
    const duplicates = [...received.values()].filter((c) => c > 1).length;
    const figures = {
      published: confirmed.size,
      consumed: received.size,
      lost: [...confirmed].filter((n) => !received.has(n)).length,
      duplicates,
      publishMs: publishedIn,
      resumedOnFailoverMs: firstAfterStop - stoppedAt,
      failoverLogged: lines.some((l) => l.msg === 'primary broker unreachable; switching to the failover broker'),
    };
    process.stdout.write(`      failover figures: ${JSON.stringify(figures)}\n`);
    expect(figures.lost).to.equal(0);
    expect(figures.failoverLogged).to.equal(true);
    expect(figures.resumedOnFailoverMs).to.be.below(10_000);
    expect(seenOnPrimary, 'messages published after fail-back go through the primary exchange').to.equal(100);
  });
});
