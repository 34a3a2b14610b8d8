import { connect, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { AmqpTransport } from '../../runtime/messaging/amqp-transport.js';
import { planQueueDeclarations } from '../../runtime/messaging/core/declarations.js';
import { publishKeyFor, routeFor, type MessagingMetadata } from '../../runtime/messaging/core/routing.js';
import { createLogger } from '../../runtime/logger.js';
import { errorQueueOf } from '../../runtime/messaging/transport.js';
import { twoExchangeMetadata } from '../runtime/messaging/amqp-harness.js';
import type { BenchResult } from './report.js';

/**
 * The AMQP transport against raw amqplib doing the same broker work, on the same broker, in the same run:
 * - publish+consume: confirmed, persistent, mandatory publishes of the transport's JSON envelope (a fresh id and time
 *   each, the same AMQP properties) to the durable topic root exchange with the key `<routing_key>.<queue>`, a window
 *   of WINDOW; consumed with manual acks and prefetch PREFETCH from the queue the transport declares (dead-letter
 *   arguments included), each body parsed;
 * - RPC: the request path of `request()`: a confirmed, persistent, mandatory publish with direct reply-to through the
 *   same exchange routing, from the client's connection to a server on its own connection that consumes the real queue
 *   (prefetch PREFETCH), parses the envelope, sends the reply envelope on a confirm channel and acks once it is
 *   confirmed; the client parses the reply and matches it by correlation id.
 * Throughput rounds alternate baseline and transport, RPC calls alternate one by one, and each figure is the median
 * over the rounds, so that a slow spell of the shared machine weighs on both sides rather than on whichever ran then.
 */
const MESSAGES = 5_000;
const WINDOW = 100;
const PREFETCH = 10;
const RPCS = 1_000;
const ROUNDS = 7;
const PAYLOAD = { n: 0, text: 'x'.repeat(200) };

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const median = (xs: number[]): number => percentile(xs, 0.5);

interface Side<R> {
  round(): Promise<R>;
  close(): Promise<void>;
}

/** Throughput, and this process's CPU time (user + system) per message: what the client side costs, broker aside. */
interface Throughput {
  readonly perSecond: number;
  readonly cpuMicrosPerMessage: number;
}

/** Times `work` (wall clock and this process's CPU) for `messages` messages. */
async function timed(messages: number, work: () => Promise<void>): Promise<Throughput> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const wall = seconds(started);
  const used = process.cpuUsage(cpu);
  return { perSecond: messages / wall, cpuMicrosPerMessage: (used.user + used.system) / messages };
}

/**
 * The transport's envelope and AMQP properties (`newEnvelope`, `amqpPropertiesFor`), written as a raw amqplib user
 * would: plain objects, optional keys assigned only when present.
 */
function envelopeMessage(
  type: string,
  payload: unknown,
  delivery: { persistent: boolean; mandatory: boolean },
  ids: { correlationId?: string; replyTo?: string } = {},
): { body: Buffer; properties: Options.Publish } {
  const id = randomUUID();
  const sentAt = Date.now();
  const envelope: Record<string, unknown> = { id, type, sent_at: sentAt };
  const properties: Options.Publish = {
    persistent: delivery.persistent,
    mandatory: delivery.mandatory,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    messageId: id,
    type,
    timestamp: Math.floor(sentAt / 1000),
  };
  if (ids.correlationId !== undefined) envelope.correlation_id = properties.correlationId = ids.correlationId;
  if (ids.replyTo !== undefined) envelope.reply_to = properties.replyTo = ids.replyTo;
  envelope.payload = payload;
  return { body: Buffer.from(JSON.stringify(envelope), 'utf8'), properties };
}

const confirmed = (channel: ConfirmChannel, exchange: string, key: string, body: Buffer, properties: Options.Publish): Promise<void> =>
  new Promise((resolve, reject) => {
    channel.publish(exchange, key, body, properties, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('nacked')) : resolve()));
  });

/** What the transport declares for a queue of an exchange (exchange, `<queue>_error`, queue with its arguments, binding). */
async function declareLikeTransport(channel: ConfirmChannel, metadata: MessagingMetadata, exchangeId: number, queue: string): Promise<{ exchange: string; key: string }> {
  const route = routeFor(metadata.exchanges, exchangeId);
  const plan = planQueueDeclarations(route, queue, errorQueueOf(queue));
  await channel.assertExchange(plan.exchange.name, 'topic', { durable: true });
  await channel.assertQueue(plan.errorQueue.name, { durable: true });
  await channel.assertQueue(plan.queue.name, { durable: true, arguments: plan.queue.arguments });
  await channel.bindQueue(plan.binding.queue, plan.binding.exchange, plan.binding.key);
  return { exchange: route.rootExchangeName, key: publishKeyFor(route.routingKey, queue) };
}

/** Counts deliveries of a round; `expect(n)` resolves once n more have been consumed. */
function counter(): { hit(): void; expect(n: number): Promise<void> } {
  let left = 0;
  let done: () => void = () => undefined;
  return {
    hit() {
      if (--left === 0) done();
    },
    expect(n) {
      left = n;
      return new Promise<void>((resolve) => (done = resolve));
    },
  };
}

async function windows(publishOne: () => Promise<void>): Promise<void> {
  for (let i = 0; i < MESSAGES; i += WINDOW) await Promise.all(Array.from({ length: WINDOW }, publishOne));
}

async function rawThroughput(url: string, metadata: MessagingMetadata, queue: string): Promise<Side<Throughput>> {
  const conn = await connect(url, { noDelay: true } as Options.Connect);
  const pub = await conn.createConfirmChannel();
  const { exchange, key } = await declareLikeTransport(pub, metadata, 2, queue);
  const sub = await conn.createChannel();
  await sub.prefetch(PREFETCH);
  const consumed = counter();
  await sub.consume(queue, (msg) => {
    if (!msg) return;
    JSON.parse(msg.content.toString('utf8'));
    sub.ack(msg);
    consumed.hit();
  });
  return {
    round() {
      const all = consumed.expect(MESSAGES);
      return timed(MESSAGES, async () => {
        await windows(() => {
          const { body, properties } = envelopeMessage('bench', PAYLOAD, { persistent: true, mandatory: true });
          return confirmed(pub, exchange, key, body, properties);
        });
        await all;
      });
    },
    close: () => conn.close(),
  };
}

async function oursThroughput(transport: AmqpTransport, queue: string): Promise<Side<Throughput>> {
  const consumed = counter();
  const subscription = await transport.consume({
    queue,
    decode: (p) => ({ ok: true, value: p }),
    handle: async () => {
      consumed.hit();
      return { type: 'ack' };
    },
  });
  return {
    round() {
      const all = consumed.expect(MESSAGES);
      return timed(MESSAGES, async () => {
        await windows(() => transport.publish({ exchangeId: 2, queue }, 'bench', PAYLOAD));
        await all;
      });
    },
    close: () => subscription.cancel(),
  };
}

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** Client and server on separate connections, as two processes (and two transports) have them. */
async function rawRpc(url: string, metadata: MessagingMetadata, queue: string): Promise<Side<number>> {
  const serverConn = await connect(url, { noDelay: true } as Options.Connect);
  const replies = await serverConn.createConfirmChannel();
  const { exchange, key } = await declareLikeTransport(replies, metadata, 3, queue);
  const server = await serverConn.createChannel();
  await server.prefetch(PREFETCH);
  await server.consume(queue, (msg) => {
    if (!msg) return;
    const request = JSON.parse(msg.content.toString('utf8')) as { type: string; correlation_id: string; payload: unknown };
    const { body, properties } = envelopeMessage(`${request.type}.reply`, request.payload, { persistent: false, mandatory: false }, { correlationId: request.correlation_id });
    confirmed(replies, '', msg.properties.replyTo as string, body, properties).then(
      () => server.ack(msg),
      () => server.nack(msg),
    );
  });
  const clientConn = await connect(url, { noDelay: true } as Options.Connect);
  const client = await clientConn.createConfirmChannel();
  const waiting = new Map<string, (payload: unknown) => void>();
  await client.consume(
    DIRECT_REPLY_TO,
    (msg: ConsumeMessage | null) => {
      if (!msg) return;
      const reply = JSON.parse(msg.content.toString('utf8')) as { correlation_id: string; payload: unknown };
      waiting.get(reply.correlation_id)?.(reply.payload);
    },
    { noAck: true },
  );
  const unconfirmed: unknown[] = [];
  return {
    async round() {
      if (unconfirmed.length > 0) throw new Error(`raw RPC: ${unconfirmed.length} requests not confirmed`, { cause: unconfirmed[0] });
      const started = process.hrtime.bigint();
      const correlationId = randomUUID();
      const replied = new Promise<unknown>((resolve) => waiting.set(correlationId, resolve));
      const { body, properties } = envelopeMessage('bench', PAYLOAD, { persistent: true, mandatory: true }, { correlationId, replyTo: DIRECT_REPLY_TO });
      // Like `request()`, the call ends with the reply; the confirm of the request may come later.
      confirmed(client, exchange, key, body, properties).catch((err: unknown) => unconfirmed.push(err));
      await replied;
      waiting.delete(correlationId);
      return seconds(started) * 1_000;
    },
    async close() {
      await clientConn.close();
      await serverConn.close();
    },
  };
}

async function oursRpc(server: AmqpTransport, client: AmqpTransport, queue: string): Promise<Side<number>> {
  const subscription = await server.consume({ queue, decode: (p) => ({ ok: true, value: p }), handle: async (p) => ({ type: 'ack', reply: p }) });
  return {
    async round() {
      const started = process.hrtime.bigint();
      await client.request({ exchangeId: 3, queue }, 'bench', PAYLOAD, { timeoutMs: 5_000 });
      return seconds(started) * 1_000;
    },
    close: () => subscription.cancel(),
  };
}

/** One result of each side, the side that goes first taking turns: neither always inherits the other's garbage. */
async function pair<R>(baseline: Side<R>, ours: Side<R>, turn: number): Promise<{ baseline: R; ours: R }> {
  if (turn % 2 === 0) {
    const first = await baseline.round();
    return { baseline: first, ours: await ours.round() };
  }
  const first = await ours.round();
  return { baseline: await baseline.round(), ours: first };
}

/** A warm-up round of each side, then ROUNDS rounds in turn; each side's results in round order. */
async function alternate<R>(baseline: Side<R>, ours: Side<R>): Promise<{ baseline: R[]; ours: R[] }> {
  await pair(baseline, ours, 0);
  const results = { baseline: [] as R[], ours: [] as R[] };
  for (let round = 0; round < ROUNDS; round++) {
    const both = await pair(baseline, ours, round);
    results.baseline.push(both.baseline);
    results.ours.push(both.ours);
  }
  return results;
}

/**
 * RPC latencies (ms), ROUNDS rounds of RPCS calls per side after a warm-up; within a round the calls alternate one by
 * one, so that both sides meet the same moments of the machine.
 */
async function interleave(baseline: Side<number>, ours: Side<number>): Promise<{ baseline: number[][]; ours: number[][] }> {
  for (let i = 0; i < RPCS / 5; i++) await pair(baseline, ours, i);
  const results = { baseline: [] as number[][], ours: [] as number[][] };
  for (let round = 0; round < ROUNDS; round++) {
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < RPCS; i++) {
      const both = await pair(baseline, ours, i);
      theirs.push(both.baseline);
      mine.push(both.ours);
    }
    results.baseline.push(theirs);
    results.ours.push(mine);
  }
  return results;
}

const list = (xs: number[], digits: number): string => xs.map((x) => x.toFixed(digits)).join(', ');

/** A latency as a rate (1/latency), so that the ratio reads "higher is better" like every other row. */
const latencyRow = (name: string, base: number, ours: number): BenchResult => ({
  name,
  unit: 'calls/s',
  baseline: { label: `raw ${base.toFixed(2)} ms`, value: 1_000 / base },
  ours: { label: `${ours.toFixed(2)} ms`, value: 1_000 / ours },
});

export async function benchTransport(amqpUrl: string): Promise<BenchResult[]> {
  const metadata = twoExchangeMetadata(amqpUrl);
  const log = createLogger({ level: 'silent' });
  const a = new AmqpTransport({ metadata, exchangeId: 2, brokerId: 1, log, maxInFlight: PREFETCH });
  const b = new AmqpTransport({ metadata, exchangeId: 3, brokerId: 1, log, maxInFlight: PREFETCH });
  const tag = randomUUID().slice(0, 8);
  const queues = { raw: `bench_raw_${tag}`, ours: `bench_ours_${tag}`, rawRpc: `bench_rawrpc_${tag}`, oursRpc: `bench_rpc_${tag}` };
  const sides: Array<Side<unknown>> = [];
  const open = async <R>(side: Promise<Side<R>>): Promise<Side<R>> => {
    const opened = await side;
    sides.push(opened);
    return opened;
  };
  try {
    const throughput = await alternate(await open(rawThroughput(amqpUrl, metadata, queues.raw)), await open(oursThroughput(a, queues.ours)));
    const rpc = await interleave(await open(rawRpc(amqpUrl, metadata, queues.rawRpc)), await open(oursRpc(b, a, queues.oursRpc)));
    const p = (rounds: number[][], q: number): number[] => rounds.map((latencies) => percentile(latencies, q));
    const rate = (rounds: Throughput[]): number[] => rounds.map((r) => r.perSecond);
    const cpu = (rounds: Throughput[]): number[] => rounds.map((r) => r.cpuMicrosPerMessage);
    process.stderr.write(
      `transport: msgs/s per round: raw ${list(rate(throughput.baseline), 0)}; transport ${list(rate(throughput.ours), 0)}\n` +
        `transport: client CPU µs/msg per round: raw ${list(cpu(throughput.baseline), 1)}; transport ${list(cpu(throughput.ours), 1)}\n` +
        `transport: RPC p50 ms per round: raw ${list(p(rpc.baseline, 0.5), 3)}; transport ${list(p(rpc.ours, 0.5), 3)}\n` +
        `transport: RPC p99 ms per round: raw ${list(p(rpc.baseline, 0.99), 3)}; transport ${list(p(rpc.ours, 0.99), 3)}\n`,
    );
    return [
      {
        name: `amqp publish+consume, ${MESSAGES} msgs, median of ${ROUNDS} (goal >= 0.90x)`,
        unit: 'msgs/s',
        baseline: { label: 'raw amqplib', value: median(rate(throughput.baseline)) },
        ours: { label: 'transport', value: median(rate(throughput.ours)) },
      },
      {
        // The same work seen from this process alone (publisher and consumer share it): steadier than the wall-clock
        // rate on a shared machine, where the broker's share of the CPU varies.
        name: `amqp publish+consume, client CPU per msg, median of ${ROUNDS} (as msgs per CPU-s)`,
        unit: 'msgs/CPU-s',
        baseline: { label: `raw ${median(cpu(throughput.baseline)).toFixed(1)} µs`, value: 1e6 / median(cpu(throughput.baseline)) },
        ours: { label: `${median(cpu(throughput.ours)).toFixed(1)} µs`, value: 1e6 / median(cpu(throughput.ours)) },
      },
      latencyRow(`amqp RPC p50, median of ${ROUNDS} (as calls/s; goal latency <= 1.2x raw, i.e. >= 0.83x)`, median(p(rpc.baseline, 0.5)), median(p(rpc.ours, 0.5))),
      latencyRow(`amqp RPC p99, median of ${ROUNDS} (as calls/s)`, median(p(rpc.baseline, 0.99)), median(p(rpc.ours, 0.99))),
    ];
  } finally {
    for (const side of sides) await side.close();
    await a.close();
    await b.close();
    const conn = await connect(amqpUrl);
    const channel = await conn.createChannel();
    for (const q of Object.values(queues)) {
      await channel.deleteQueue(q);
      await channel.deleteQueue(errorQueueOf(q));
    }
    await channel.deleteExchange(metadata.exchanges[0]!.name);
    await conn.close();
  }
}
