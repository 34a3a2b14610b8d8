import { connect, type ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { AmqpTransport } from '../../runtime/messaging/amqp-transport.js';
import { createLogger } from '../../runtime/logger.js';
import { errorQueueOf } from '../../runtime/messaging/transport.js';
import { twoExchangeMetadata } from '../runtime/messaging/amqp-harness.js';
import type { BenchResult } from './report.js';

/**
 * The AMQP transport against raw amqplib on the same broker, in the same run: throughput of confirmed publishes
 * consumed with manual acks (same window, same prefetch), and RPC round-trip latency over direct reply-to.
 */
const MESSAGES = 5_000;
const WINDOW = 100;
const PREFETCH = 10;
const RPCS = 1_000;
const PAYLOAD = { n: 0, text: 'x'.repeat(200) };

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** The same broker work as the transport's: a durable topic exchange, a key `<routing_key>.<queue>`, persistent. */
async function rawThroughput(url: string, queue: string, exchange: string): Promise<number> {
  const conn = await connect(url, { noDelay: true });
  const pub = await conn.createConfirmChannel();
  const sub = await conn.createChannel();
  await sub.assertExchange(exchange, 'topic', { durable: true });
  await sub.assertQueue(queue, { durable: true });
  await sub.bindQueue(queue, exchange, `test.a.${queue}`);
  await sub.prefetch(PREFETCH);
  let consumed = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  await sub.consume(queue, (msg) => {
    if (!msg) return;
    JSON.parse(msg.content.toString('utf8'));
    sub.ack(msg);
    if (++consumed === MESSAGES) done();
  });
  const started = process.hrtime.bigint();
  const body = Buffer.from(JSON.stringify({ id: 'x', type: 'bench', sent_at: 0, payload: PAYLOAD }));
  for (let i = 0; i < MESSAGES; i += WINDOW) {
    await Promise.all(
      Array.from({ length: WINDOW }, () => new Promise<void>((resolve, reject) => {
        pub.publish(exchange, `test.a.${queue}`, body, { persistent: true, contentType: 'application/json', mandatory: true }, (err: unknown) => (err ? reject(err) : resolve()));
      })),
    );
  }
  await all;
  const rate = MESSAGES / seconds(started);
  await sub.deleteQueue(queue);
  await conn.close();
  return rate;
}

async function oursThroughput(transport: AmqpTransport, queue: string): Promise<number> {
  let consumed = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const subscription = await transport.consume({
    queue,
    decode: (p) => ({ ok: true, value: p }),
    handle: async () => {
      if (++consumed === MESSAGES) done();
      return { type: 'ack' };
    },
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES; i += WINDOW) {
    await Promise.all(Array.from({ length: WINDOW }, () => transport.publish({ exchangeId: 2, queue }, 'bench', PAYLOAD)));
  }
  await all;
  const rate = MESSAGES / seconds(started);
  await subscription.cancel();
  return rate;
}

/** Client and server on separate connections, as two processes (and the transport) have them. */
async function rawRpc(url: string, queue: string): Promise<number[]> {
  const conn = await connect(url, { noDelay: true });
  const serverConn = await connect(url, { noDelay: true });
  const server = await serverConn.createChannel();
  await server.assertQueue(queue, { durable: false, autoDelete: true });
  await server.consume(queue, (msg) => {
    if (!msg) return;
    server.sendToQueue(msg.properties.replyTo as string, msg.content, { correlationId: msg.properties.correlationId as string });
    server.ack(msg);
  });
  const client = await conn.createConfirmChannel();
  const waiting = new Map<string, () => void>();
  await client.consume('amq.rabbitmq.reply-to', (msg: ConsumeMessage | null) => msg && waiting.get(msg.properties.correlationId as string)?.(), { noAck: true });
  const body = Buffer.from(JSON.stringify({ id: 'x', type: 'bench', sent_at: 0, payload: PAYLOAD }));
  const latencies: number[] = [];
  for (let i = 0; i < RPCS; i++) {
    const id = randomUUID();
    const started = process.hrtime.bigint();
    const replied = new Promise<void>((resolve) => waiting.set(id, resolve));
    client.publish('', queue, body, { replyTo: 'amq.rabbitmq.reply-to', correlationId: id });
    await replied;
    waiting.delete(id);
    latencies.push(seconds(started) * 1_000);
  }
  await conn.close();
  await serverConn.close();
  return latencies;
}

async function oursRpc(server: AmqpTransport, client: AmqpTransport, queue: string): Promise<number[]> {
  const subscription = await server.consume({ queue, decode: (p) => ({ ok: true, value: p }), handle: async (p) => ({ type: 'ack', reply: p }) });
  const latencies: number[] = [];
  for (let i = 0; i < RPCS; i++) {
    const started = process.hrtime.bigint();
    await client.request({ exchangeId: 3, queue }, 'bench', PAYLOAD, { timeoutMs: 5_000 });
    latencies.push(seconds(started) * 1_000);
  }
  await subscription.cancel();
  return latencies;
}

export async function benchTransport(amqpUrl: string): Promise<BenchResult[]> {
  const metadata = twoExchangeMetadata(amqpUrl);
  const log = createLogger({ level: 'silent' });
  const a = new AmqpTransport({ metadata, exchangeId: 2, brokerId: 1, log, maxInFlight: PREFETCH });
  const b = new AmqpTransport({ metadata, exchangeId: 3, brokerId: 1, log, maxInFlight: PREFETCH });
  const tag = randomUUID().slice(0, 8);
  const queues = { raw: `bench_raw_${tag}`, ours: `bench_ours_${tag}`, rawRpc: `bench_rawrpc_${tag}`, ours2: `bench_rpc_${tag}` };
  try {
    await oursRpc(b, a, queues.ours2); // warm-up: connections, declarations
    await rawRpc(amqpUrl, queues.rawRpc); // warm-up of the baseline too
    const raw = await rawThroughput(amqpUrl, queues.raw, metadata.exchanges[0]!.name);
    const ours = await oursThroughput(a, queues.ours);
    const rawLatency = await rawRpc(amqpUrl, queues.rawRpc);
    const oursLatency = await oursRpc(b, a, queues.ours2);
    return [
      { name: `amqp publish+consume, ${MESSAGES} msgs`, unit: 'msgs/s', baseline: { label: 'raw amqplib', value: raw }, ours: { label: 'transport', value: ours } },
      // Latencies: ours/baseline above 1 means slower; shown as rates (1/latency) so every ratio reads "higher is better".
      { name: 'amqp RPC p50 (as calls/s)', unit: 'calls/s', baseline: { label: `raw ${percentile(rawLatency, 0.5).toFixed(2)} ms`, value: 1_000 / percentile(rawLatency, 0.5) }, ours: { label: `${percentile(oursLatency, 0.5).toFixed(2)} ms`, value: 1_000 / percentile(oursLatency, 0.5) } },
      { name: 'amqp RPC p99 (as calls/s)', unit: 'calls/s', baseline: { label: `raw ${percentile(rawLatency, 0.99).toFixed(2)} ms`, value: 1_000 / percentile(rawLatency, 0.99) }, ours: { label: `${percentile(oursLatency, 0.99).toFixed(2)} ms`, value: 1_000 / percentile(oursLatency, 0.99) } },
    ];
  } finally {
    await a.close();
    await b.close();
    const conn = await connect(amqpUrl);
    const channel = await conn.createChannel();
    for (const q of [queues.ours, queues.ours2]) {
      await channel.deleteQueue(q);
      await channel.deleteQueue(errorQueueOf(q));
    }
    await channel.deleteExchange(metadata.exchanges[0]!.name);
    await conn.close();
  }
}
