import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { MessageProperties } from '../../runtime/messaging/core/delivery.js';
import { DEAD_LETTER_REASON_HEADER, DEAD_LETTERED_ERROR, isRpcTimeout, type Decoded, type Destination, type Outcome, type Transport } from '../../runtime/messaging/transport.js';
import { sleep } from '../../runtime/core/promises.js';
import { rejectionOf, waitFor } from '../helpers/wait.js';

/**
 * One contract, two transports (design §5.5): the in-memory one and the AMQP one run this same suite.
 * A harness gives transports as separate processes would hold them, each in its own exchange, plus what a test
 * needs to look at the broker from outside (raw publishes, the dead-letter queues).
 */
export interface TransportHarness {
  /** Two exchanges of one deployment; a transport lives in one of them. */
  readonly exchanges: { readonly a: number; readonly b: number };
  make(opts: { exchangeId: number; maxInFlight?: number }): Promise<Transport>;
  /** Puts bytes on a queue as a foreign publisher would, envelope or not, with the properties it sets. */
  publishRaw(to: Destination, bytes: Buffer, properties?: RawProperties): Promise<void>;
  /** The user a raw publish is made as (RabbitMQ refuses a `userId` property naming another). */
  readonly publisherUser: string;
  /** Messages now in `<queue>_error`, with the reason header and their properties; reading them removes them. */
  takeDeadLetters(to: Destination): Promise<Array<{ body: Buffer; reason: string | undefined; properties: MessageProperties }>>;
  /** What the transports logged at warn level and above. */
  readonly warnings: string[];
  cleanup(): Promise<void>;
}

/** Properties a foreign publisher sets, by amqplib's names. */
export type RawProperties = { readonly [K in keyof MessageProperties]?: Exclude<MessageProperties[K], undefined> };

interface Ping {
  readonly n: number;
}

const decodePing = (payload: unknown): Decoded<Ping> =>
  typeof payload === 'object' && payload !== null && typeof (payload as { n?: unknown }).n === 'number'
    ? { ok: true, value: payload as Ping }
    : { ok: false, reason: 'payload.n must be a number' };

export function transportContract(name: string, makeHarness: () => Promise<TransportHarness>): void {
  describe(`Transport contract: ${name}`, function () {
    this.timeout(30_000);
    let h: TransportHarness;
    let queue: string;
    const open: Transport[] = [];
    const make = async (exchangeId: number, maxInFlight?: number): Promise<Transport> => {
      const t = await h.make(maxInFlight === undefined ? { exchangeId } : { exchangeId, maxInFlight });
      open.push(t);
      return t;
    };

    beforeEach(async () => {
      h = await makeHarness();
      queue = `contract_${randomUUID().slice(0, 8)}`;
    });
    afterEach(async () => {
      for (const t of open.splice(0)) await t.close();
      await h.cleanup();
    });

    it('delivers a message published to another exchange to the consumer of that exchange', async () => {
      const [sender, receiver] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      const got: Array<{ n: number; type: string }> = [];
      await receiver.consume({ queue, decode: decodePing, handle: async (m, info) => (got.push({ n: m.n, type: info.envelope.type }), { type: 'ack' }) });
      await sender.publish({ exchangeId: h.exchanges.b, queue }, 'ping.sent', { n: 7 });
      await waitFor('the delivery', () => got.length === 1);
      expect(got).to.deep.equal([{ n: 7, type: 'ping.sent' }]);
    });

    it('redelivers once after a handler throws, and the second attempt is handled', async () => {
      const t = await make(h.exchanges.a);
      const attempts: boolean[] = [];
      await t.consume({
        queue,
        decode: decodePing,
        handle: async (_m, info) => {
          attempts.push(info.redelivered);
          if (!info.redelivered) throw new Error('first attempt fails');
          return { type: 'ack' };
        },
      });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 1 });
      await waitFor('two attempts', () => attempts.length === 2);
      await sleep(200);
      expect(attempts).to.deep.equal([false, true]);
      expect(await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue })).to.deep.equal([]);
    });

    it('dead-letters a message whose handler throws twice, with the error as the reason', async () => {
      const t = await make(h.exchanges.a);
      let attempts = 0;
      await t.consume({ queue, decode: decodePing, handle: async () => (attempts++, Promise.reject(new Error('still broken'))) });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 2 });
      const dead = await waitFor('a dead letter', async () => {
        const letters = await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return letters.length > 0 && letters;
      });
      expect(attempts).to.equal(2);
      expect(dead).to.have.length(1);
      expect(dead[0]!.reason).to.equal('still broken');
      expect(JSON.parse(dead[0]!.body.toString('utf8'))).to.deep.include({ type: 'ping.sent', payload: { n: 2 } });
    });

    it('dead-letters garbage bytes at once, saying why', async () => {
      const t = await make(h.exchanges.a);
      let handled = 0;
      await t.consume({ queue, decode: decodePing, handle: async () => (handled++, { type: 'ack' }) });
      await h.publishRaw({ exchangeId: h.exchanges.a, queue }, Buffer.from([0x83, 0x74, 0x00, 0x01]));
      const dead = await waitFor('a dead letter', async () => {
        const letters = await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return letters.length > 0 && letters;
      });
      expect(handled).to.equal(0);
      expect(dead[0]!.reason).to.match(/^message body is not (valid UTF-8|JSON)/);
      expect(dead[0]!.body).to.deep.equal(Buffer.from([0x83, 0x74, 0x00, 0x01]));
    });

    it('dead-letters a payload the component schema refuses, with the schema reason', async () => {
      const t = await make(h.exchanges.a);
      await t.consume({ queue, decode: decodePing, handle: async () => ({ type: 'ack' }) });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 'seven' });
      const dead = await waitFor('a dead letter', async () => {
        const letters = await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return letters.length > 0 && letters;
      });
      expect(dead[0]!.reason).to.equal('ping.sent: payload.n must be a number');
    });

    it('honours an outcome of dead-letter and of retry', async () => {
      const t = await make(h.exchanges.a);
      const outcomes: Record<number, Outcome> = { 1: { type: 'dead-letter', reason: 'poison' }, 2: { type: 'retry', reason: 'later' } };
      let seen = 0;
      await t.consume({ queue, decode: decodePing, handle: async (m) => (seen++, outcomes[m.n] ?? { type: 'ack' }) });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 1 });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 2 });
      const dead = await waitFor('two dead letters', async () => {
        const letters = await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return letters.length > 0 && letters;
      });
      const more = await waitFor('the second dead letter', async () => {
        const letters = dead.length === 2 ? [] : await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return dead.length + letters.length === 2 && letters;
      });
      expect([...dead, ...more].map((d) => d.reason).sort()).to.deep.equal(['later', 'poison']);
      expect(seen).to.equal(3);
    });

    it('dead-letters with every property and header of the original, the reason beside them', async () => {
      const t = await make(h.exchanges.a);
      const ccQueue = `${queue}_cc`;
      const copies: number[] = [];
      // A CC header left in the dead letter would route a copy of it to this queue (RabbitMQ sender-selected distribution).
      await t.consume({ queue: ccQueue, decode: decodePing, handle: async (m) => (copies.push(m.n), { type: 'ack' }) });
      await t.consume({ queue, decode: decodePing, handle: async () => ({ type: 'dead-letter', reason: 'poison' }) });
      const body = Buffer.from(JSON.stringify({ id: 'm-1', type: 'ping.sent', sent_at: 1_700_000_000_000, payload: { n: 1 } }));
      const sent = {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        deliveryMode: 2,
        priority: 5,
        correlationId: 'corr-1',
        replyTo: `${queue}_nobody_listens`,
        messageId: 'm-1',
        timestamp: 1_700_000_000,
        type: 'ping.sent',
        appId: 'contract-test',
      };
      const headers = { 'x-trace': 'trace-1', 'x-attempt': 3, 'x-flag': true };
      await h.publishRaw({ exchangeId: h.exchanges.a, queue }, body, { ...sent, expiration: '600000', userId: h.publisherUser, headers: { ...headers, CC: [ccQueue] } });
      const dead = await waitFor('the dead letter', async () => {
        const letters = await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return letters.length > 0 && letters;
      });
      expect(dead).to.have.length(1);
      expect(dead[0]!.body).to.deep.equal(body);
      expect(dead[0]!.properties).to.deep.include(sent);
      expect([dead[0]!.properties.expiration, dead[0]!.properties.userId]).to.deep.equal([undefined, undefined]);
      expect(dead[0]!.properties.headers).to.deep.equal({
        ...headers,
        'x-openaperture-original-expiration': '600000',
        'x-openaperture-original-user-id': h.publisherUser,
        'x-openaperture-original-cc': [ccQueue],
        [DEAD_LETTER_REASON_HEADER]: 'poison',
      });
      await sleep(200);
      expect(copies).to.deep.equal([]);
    });

    it("keeps the ids of a message it published in its dead letter: message id, type, correlation id, timestamp", async () => {
      const t = await make(h.exchanges.a);
      await t.consume({ queue, decode: decodePing, handle: async () => ({ type: 'dead-letter', reason: 'poison' }) });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 4 }, { correlationId: 'corr-4' });
      const [dead] = await waitFor('the dead letter', async () => {
        const letters = await h.takeDeadLetters({ exchangeId: h.exchanges.a, queue });
        return letters.length > 0 && letters;
      });
      const envelope = JSON.parse(dead!.body.toString('utf8')) as { id: string; sent_at: number };
      expect(dead!.properties).to.deep.include({
        messageId: envelope.id,
        type: 'ping.sent',
        correlationId: 'corr-4',
        timestamp: Math.floor(envelope.sent_at / 1000),
        contentType: 'application/json',
        deliveryMode: 2,
      });
      expect(dead!.reason).to.equal('poison');
    });

    it('dead-letters a refused request like any message, reply_to included, and tells its caller why', async () => {
      const [client, server] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      await server.consume({ queue, decode: decodePing, handle: async (m) => (m.n === 1 ? { type: 'dead-letter', reason: 'no such ping' } : { type: 'ack' }) });
      const to = { exchangeId: h.exchanges.b, queue };
      const refused = await rejectionOf(client.request(to, 'ping.requested', { n: 1 }, { timeoutMs: 5_000 }));
      const malformed = await rejectionOf(client.request(to, 'ping.requested', { n: 'one' }, { timeoutMs: 5_000 }));
      expect([refused.name, refused.message]).to.deep.equal([DEAD_LETTERED_ERROR, 'no such ping']);
      expect([malformed.name, malformed.message]).to.deep.equal([DEAD_LETTERED_ERROR, 'ping.requested: payload.n must be a number']);
      const dead = await h.takeDeadLetters(to);
      expect(dead.map((d) => d.reason)).to.deep.equal(['no such ping', 'ping.requested: payload.n must be a number']);
      for (const letter of dead) {
        const envelope = JSON.parse(letter.body.toString('utf8')) as { id: string; correlation_id: string };
        expect(letter.properties).to.deep.include({ messageId: envelope.id, type: 'ping.requested', correlationId: envelope.correlation_id });
        expect(letter.properties.replyTo).to.be.a('string').and.not.equal('');
      }
    });

    it('keeps at most maxInFlight deliveries in the handler at once', async () => {
      const t = await make(h.exchanges.a, 3);
      let running = 0;
      let peak = 0;
      let done = 0;
      await t.consume({
        queue,
        decode: decodePing,
        handle: async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(20);
          running--;
          done++;
          return { type: 'ack' };
        },
      });
      await Promise.all(Array.from({ length: 20 }, (_, n) => t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n })));
      await waitFor('all handled', () => done === 20);
      expect(peak).to.equal(3);
    });

    it("keeps at most a consumer's own maxInFlight deliveries in its handler, below the transport's", async () => {
      const t = await make(h.exchanges.a, 5);
      let running = 0;
      let peak = 0;
      let done = 0;
      const handle = async (): Promise<Outcome> => {
        running++;
        peak = Math.max(peak, running);
        await sleep(10);
        running--;
        done++;
        return { type: 'ack' };
      };
      await t.consume({ queue, decode: decodePing, maxInFlight: 1, handle });
      await Promise.all(Array.from({ length: 8 }, (_, n) => t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n })));
      await waitFor('all handled', () => done === 8);
      expect(peak).to.equal(1);
    });

    it('gives every broadcast consumer its own copy of each message, beside the competing consumers of the queue', async () => {
      const [sender, first, second, shared] = [await make(h.exchanges.a), await make(h.exchanges.b), await make(h.exchanges.b), await make(h.exchanges.b)];
      const got = { first: [] as number[], second: [] as number[], shared: [] as number[] };
      const into = (list: number[]) => async (m: Ping): Promise<Outcome> => (list.push(m.n), { type: 'ack' });
      await first.consume({ queue, broadcast: true, decode: decodePing, handle: into(got.first) });
      const secondSub = await second.consume({ queue, broadcast: true, decode: decodePing, handle: into(got.second) });
      await shared.consume({ queue, decode: decodePing, handle: into(got.shared) });
      for (const n of [1, 2, 3]) await sender.publish({ exchangeId: h.exchanges.b, queue }, 'ping.sent', { n });
      await waitFor('every copy', () => got.first.length === 3 && got.second.length === 3 && got.shared.length === 3);
      await secondSub.cancel();
      await sender.publish({ exchangeId: h.exchanges.b, queue }, 'ping.sent', { n: 4 });
      await waitFor('the copy after the cancel', () => got.first.length === 4 && got.shared.length === 4);
      await sleep(200);
      expect(got).to.deep.equal({ first: [1, 2, 3, 4], second: [1, 2, 3], shared: [1, 2, 3, 4] });
    });

    it('drops a broadcast publish nobody listens to, and fills no shared queue with one', async () => {
      const [sender, listener] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      const to = { exchangeId: h.exchanges.b, queue };
      await sender.publish(to, 'ping.sent', { n: 1 }, { broadcast: true });
      const got = { broadcast: [] as number[], shared: [] as number[] };
      await listener.consume({ queue, broadcast: true, decode: decodePing, handle: async (m) => (got.broadcast.push(m.n), { type: 'ack' }) });
      await sender.publish(to, 'ping.sent', { n: 2 }, { broadcast: true });
      await waitFor('the live copy', () => got.broadcast.length === 1);
      await listener.consume({ queue, decode: decodePing, handle: async (m) => (got.shared.push(m.n), { type: 'ack' }) });
      await sleep(200);
      expect(got).to.deep.equal({ broadcast: [2], shared: [] });
    });

    it('dead-letters what a broadcast consumer refuses to <queue>_error, with the reason', async () => {
      const [sender, listener] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      await listener.consume({ queue, broadcast: true, decode: decodePing, handle: async () => ({ type: 'dead-letter', reason: 'not for me' }) });
      await sender.publish({ exchangeId: h.exchanges.b, queue }, 'ping.sent', { n: 5 }, { broadcast: true });
      const letters: Array<{ reason: string | undefined }> = [];
      await waitFor('the dead letter', async () => (letters.push(...(await h.takeDeadLetters({ exchangeId: h.exchanges.b, queue }))), letters.length === 1));
      expect(letters[0]?.reason).to.equal('not for me');
    });

    it('answers a request across exchanges', async () => {
      const [client, server] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      await server.consume({ queue, decode: decodePing, handle: async (m) => ({ type: 'ack', reply: { doubled: m.n * 2 } }) });
      const reply = await client.request({ exchangeId: h.exchanges.b, queue }, 'ping.requested', { n: 21 }, { timeoutMs: 5_000 });
      expect(reply).to.deep.equal({ doubled: 42 });
    });

    it('returns a server error to the requester instead of retrying it', async () => {
      const [client, server] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      let calls = 0;
      await server.consume({ queue, decode: decodePing, handle: async () => (calls++, Promise.reject(Object.assign(new RangeError('no such unit'), { code: 'E_UNIT' }))) });
      const err = await rejectionOf(client.request({ exchangeId: h.exchanges.b, queue }, 'ping.requested', { n: 1 }, { timeoutMs: 5_000 }));
      expect([err.name, err.message, err.code]).to.deep.equal(['RangeError', 'no such unit', 'E_UNIT']);
      await sleep(200);
      expect(calls).to.equal(1);
    });

    it('times out a request nobody answers in time, and drops the late reply', async () => {
      const [client, server] = [await make(h.exchanges.a), await make(h.exchanges.b)];
      let answered = 0;
      await server.consume({ queue, decode: decodePing, handle: async () => (await sleep(400), answered++, { type: 'ack', reply: 'late' }) });
      const err = await rejectionOf(client.request({ exchangeId: h.exchanges.b, queue }, 'ping.requested', { n: 1 }, { timeoutMs: 100 }));
      expect(isRpcTimeout(err)).to.equal(true);
      await waitFor('the late answer', () => answered === 1);
      await waitFor('the late reply to be logged', () => h.warnings.some((w) => /late reply/.test(w)));
    });

    it('stops delivering after close, and keeps what was not consumed', async () => {
      const t = await make(h.exchanges.a);
      const seen: number[] = [];
      await t.consume({ queue, decode: decodePing, handle: async (m) => (seen.push(m.n), { type: 'ack' }) });
      await t.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 1 });
      await waitFor('the first delivery', () => seen.length === 1);
      await t.close();
      open.splice(open.indexOf(t), 1);
      const sender = await make(h.exchanges.a);
      await sender.publish({ exchangeId: h.exchanges.a, queue }, 'ping.sent', { n: 2 });
      await sleep(200);
      expect(seen).to.deep.equal([1]);
      const later = await make(h.exchanges.a);
      await later.consume({ queue, decode: decodePing, handle: async (m) => (seen.push(m.n), { type: 'ack' }) });
      await waitFor('the kept message', () => seen.length === 2);
      expect(seen).to.deep.equal([1, 2]);
    });
  });
}
