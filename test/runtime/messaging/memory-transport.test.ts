import { expect } from 'chai';
import { Writable } from 'node:stream';
import { sleep } from '../../../runtime/core/promises.js';
import { createLogger } from '../../../runtime/logger.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import { isPublishError, type Decoded, type Transport } from '../../../runtime/messaging/transport.js';
import { transportContract, type TransportHarness } from '../../contracts/transport.contract.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';

const EXCHANGES = { a: 1, b: 2 } as const;

/** A logger that keeps every line it writes (warn and above) in `lines`. */
function captureLog(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(line);
      done();
    },
  });
  return { log: createLogger({ level: 'warn', destination }), lines };
}

async function makeHarness(): Promise<TransportHarness> {
  const broker = new MemoryBroker();
  const { log, lines } = captureLog();
  return {
    exchanges: EXCHANGES,
    make: async ({ exchangeId, maxInFlight }) => broker.transport({ exchangeId, log, ...(maxInFlight === undefined ? {} : { maxInFlight }) }),
    publishRaw: async (to, bytes, properties) => broker.publishRaw(to, bytes, properties),
    publisherUser: 'memory',
    takeDeadLetters: async (to) => broker.takeDeadLetters(to),
    warnings: lines,
    cleanup: async () => undefined,
  };
}

transportContract('in-memory', makeHarness);

interface Ping {
  readonly n: number;
}
const decodePing = (payload: unknown): Decoded<Ping> =>
  typeof payload === 'object' && payload !== null && typeof (payload as { n?: unknown }).n === 'number'
    ? { ok: true, value: payload as Ping }
    : { ok: false, reason: 'payload.n must be a number' };

describe('MemoryBroker and its transports', () => {
  const queue = 'pings';
  const to = { exchangeId: EXCHANGES.a, queue };
  let broker: MemoryBroker;
  let log: ReturnType<typeof createLogger>;
  const open: Transport[] = [];
  const make = (opts: { maxInFlight?: number; newId?: () => string; now?: () => number } = {}): Transport => {
    const t = broker.transport({ exchangeId: EXCHANGES.a, log, ...opts });
    open.push(t);
    return t;
  };

  beforeEach(() => {
    broker = new MemoryBroker();
    log = captureLog().log;
  });
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });

  it('never runs a handler inside the publisher’s call stack', async () => {
    const t = make();
    let handled = 0;
    await t.consume({ queue, decode: decodePing, handle: async () => (handled++, { type: 'ack' }) });
    await t.publish(to, 'ping.sent', { n: 1 });
    expect(handled).to.equal(0);
    await waitFor('the delivery', () => handled === 1);
  });

  it('keeps messages in order on a queue nobody consumes, and hands them over in order', async () => {
    const t = make({ maxInFlight: 1 });
    for (let n = 0; n < 5; n++) await t.publish(to, 'ping.sent', { n });
    await sleep(50);
    expect(broker.depth(to)).to.equal(5);
    const seen: number[] = [];
    await t.consume({ queue, decode: decodePing, handle: async (m) => (seen.push(m.n), { type: 'ack' }) });
    await waitFor('five deliveries', () => seen.length === 5);
    expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(broker.depth(to)).to.equal(0);
  });

  it('runs no handler after close, lets the one in flight finish, and keeps the rest on the queue', async () => {
    const t = make({ maxInFlight: 1 });
    const started: number[] = [];
    let finished = 0;
    await t.consume({
      queue,
      decode: decodePing,
      handle: async (m) => (started.push(m.n), await sleep(100), finished++, { type: 'ack' }),
    });
    for (let n = 1; n <= 3; n++) await t.publish(to, 'ping.sent', { n });
    await waitFor('the first delivery', () => started.length === 1);
    await t.close();
    expect(finished).to.equal(1);
    await sleep(150);
    expect(started).to.deep.equal([1]);
    expect(broker.depth(to)).to.equal(2);
  });

  it('requeues a retried message at the head, ahead of those published after it', async () => {
    const t = make({ maxInFlight: 1 });
    const seen: string[] = [];
    await t.consume({
      queue,
      decode: decodePing,
      handle: async (m, info) => {
        seen.push(`${m.n}${info.redelivered ? 'r' : ''}`);
        return m.n === 1 && !info.redelivered ? { type: 'retry', reason: 'busy' } : { type: 'ack' };
      },
    });
    for (let n = 1; n <= 3; n++) await t.publish(to, 'ping.sent', { n });
    await waitFor('four deliveries', () => seen.length === 4);
    expect(seen).to.deep.equal(['1', '1r', '2', '3']);
  });

  it('shares one queue between the consumers of several transports', async () => {
    const [first, second] = [make(), make()];
    const by: string[] = [];
    await first.consume({ queue, decode: decodePing, handle: async () => (by.push('first'), { type: 'ack' }) });
    await second.consume({ queue, decode: decodePing, handle: async () => (by.push('second'), { type: 'ack' }) });
    for (let n = 0; n < 10; n++) await first.publish(to, 'ping.sent', { n });
    await waitFor('ten deliveries', () => by.length === 10);
    expect(by.filter((b) => b === 'first')).to.have.length(5);
  });

  it('stamps envelopes with the injected id and clock', async () => {
    const ids = ['reply-address', 'e-1'];
    const t = make({ newId: () => ids.shift() ?? 'spare', now: () => 1_435_088_351_000 });
    const envelopes: unknown[] = [];
    await t.consume({ queue, decode: decodePing, handle: async (_m, info) => (envelopes.push(info.envelope), { type: 'ack' }) });
    await t.publish(to, 'ping.sent', { n: 1 }, { correlationId: 'c-1' });
    await waitFor('the delivery', () => envelopes.length === 1);
    expect(envelopes[0]).to.deep.equal({ id: 'e-1', type: 'ping.sent', sent_at: 1_435_088_351_000, correlation_id: 'c-1', payload: { n: 1 } });
  });

  it('answers a request whose handler acks without a reply with null', async () => {
    const [client, server] = [make(), make()];
    await server.consume({ queue, decode: decodePing, handle: async () => ({ type: 'ack' }) });
    expect(await client.request(to, 'ping.requested', { n: 1 }, { timeoutMs: 2_000 })).to.equal(null);
  });

  it('returns a reply that cannot be encoded as an error, instead of letting the caller time out', async () => {
    const [client, server] = [make(), make()];
    await server.consume({ queue, decode: decodePing, handle: async () => ({ type: 'ack', reply: { big: 1n } }) });
    const err = await rejectionOf(client.request(to, 'ping.requested', { n: 1 }, { timeoutMs: 2_000 }));
    expect(err.name).to.equal('TypeError');
  });

  it('refuses to publish, request or consume once closed', async () => {
    const t = make();
    await t.close();
    expect(isPublishError(await rejectionOf(t.publish(to, 'ping.sent', { n: 1 })))).to.equal(true);
    expect(isPublishError(await rejectionOf(t.request(to, 'ping.requested', { n: 1 }, { timeoutMs: 100 })))).to.equal(true);
    expect((await rejectionOf(t.consume({ queue, decode: decodePing, handle: async () => ({ type: 'ack' }) }))).message).to.match(/closed/);
    expect(broker.depth(to)).to.equal(0);
  });

  it('rejects a pending request on close and leaves no timer behind', async () => {
    const t = make();
    await sleep(1); // mocha arms its own timeout timer only once the test function has returned its promise
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const pending = rejectionOf(t.request(to, 'ping.requested', { n: 1 }, { timeoutMs: 60_000 }));
    await t.close();
    expect((await pending).message).to.match(/closed before the reply arrived/);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).to.equal(timersBefore);
    expect(broker.depth(to)).to.equal(1); // the request itself stays on the queue, as it would on RabbitMQ
  });

  it('closes once however often close() is called', async () => {
    const t = make();
    const [a, b] = [t.close(), t.close()];
    expect(a).to.equal(b);
    await Promise.all([a, b]);
  });
});
