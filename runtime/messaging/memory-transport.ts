/**
 * The in-memory transport (design §5.5, issue 3 item 4): the embedded default and the fake of most unit tests. One
 * MemoryBroker stands in for RabbitMQ inside a process; each `broker.transport(...)` acts as one process connected to
 * it. Messages are stored as encoded envelope bytes, so decoding and dead-lettering take the same path as over AMQP.
 */
import { randomUUID } from 'node:crypto';
import { serializeError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { deadLetterPropertiesOf, deliveredPropertiesOf, type MessageProperties, type ReplyAddress } from './core/delivery.js';
import { encodeEnvelope, newEnvelope, type Envelope } from './core/envelope.js';
import { MemoryConsumer } from './memory-consumer.js';
import { MemoryQueue, type StoredMessage } from './memory-queue.js';
import { RemoteReplies } from './memory-replies.js';
import {
  DEAD_LETTER_REASON_HEADER,
  ERROR_REPLY_TYPE,
  PublishError,
  TransportClosedError,
  errorQueueOf,
  type ConsumerSpec,
  type Destination,
  type PublishOptions,
  type RequestOptions,
  type Subscription,
  type Transport,
} from './transport.js';

export interface MemoryTransportOptions {
  /** The exchange this transport's consumers live in. */
  readonly exchangeId: number;
  readonly log: Logger;
  /** Deliveries one consumer may have in its handler at once (the AMQP transport's prefetch); 10 by default. */
  readonly maxInFlight?: number;
  readonly newId?: () => string;
  /** Epoch ms. */
  readonly now?: () => number;
}

/** A dead-lettered message as a test reads it from `<queue>_error`. */
export interface DeadLetter {
  readonly body: Buffer;
  readonly reason: string | undefined;
  /** The original's properties and headers, as core/delivery.ts keeps them, the reason header included. */
  readonly properties: MessageProperties;
}

/** What a transport reaches of its broker. */
interface BrokerAccess {
  queueOf(to: Destination): MemoryQueue;
  /** Into the queue (unless `broadcastOnly`) and a copy into each broadcast consumer's own queue of `to`. */
  deliver(to: Destination, message: StoredMessage, broadcastOnly: boolean): void;
  /** A broadcast consumer's own queue of `to`, until `close`. */
  openBroadcast(to: Destination): { readonly queue: MemoryQueue; close(): void };
  /** Reply addresses play the part of RabbitMQ's direct reply-to: no queue, dropped if nobody listens any more. */
  listen(address: string, receive: (body: Buffer) => void): void;
  unlisten(address: string): void;
  sendTo(address: string, body: Buffer): void;
}

/** Queues keyed by exchange id and queue name, created on first use, as if every queue were declared. */
export class MemoryBroker {
  readonly #queues = new Map<string, MemoryQueue>();
  /** Per queue key, the own queues of its broadcast consumers. */
  readonly #broadcasts = new Map<string, Set<MemoryQueue>>();
  readonly #listeners = new Map<string, (body: Buffer) => void>();
  readonly #access: BrokerAccess = {
    queueOf: (to) => this.#queueOf(to),
    deliver: (to, message, broadcastOnly) => this.#deliver(to, message, broadcastOnly),
    openBroadcast: (to) => this.#openBroadcast(to),
    listen: (address, receive) => void this.#listeners.set(address, receive),
    unlisten: (address) => void this.#listeners.delete(address),
    // Asynchronous like any delivery; looked up on arrival, so a reply to a closed requester is dropped.
    sendTo: (address, body) => void setImmediate(() => this.#listeners.get(address)?.(body)),
  };

  transport(opts: MemoryTransportOptions): Transport {
    return new MemoryTransport(this.#access, opts);
  }

  /** Puts bytes on a queue as a foreign publisher would, envelope or not, with the AMQP properties it set. */
  publishRaw(to: Destination, bytes: Buffer, properties: MessageProperties = {}): void {
    this.#deliver(to, { body: Buffer.from(bytes), redelivered: false, properties }, false);
  }

  /** Removes and returns what is in `<queue>_error` of `to`'s exchange, oldest first. */
  takeDeadLetters(to: Destination): DeadLetter[] {
    return this.#queueOf(errorOf(to))
      .takeAll()
      .map((m) => {
        const reason = m.properties.headers?.[DEAD_LETTER_REASON_HEADER];
        return { body: m.body, reason: typeof reason === 'string' ? reason : undefined, properties: m.properties };
      });
  }

  /** Messages waiting in a queue (not counting those in a handler). */
  depth(to: Destination): number {
    return this.#queueOf(to).depth;
  }

  #deliver(to: Destination, message: StoredMessage, broadcastOnly: boolean): void {
    if (!broadcastOnly) this.#queueOf(to).enqueue(message);
    for (const own of this.#broadcasts.get(keyOf(to)) ?? []) own.enqueue(message);
  }

  #openBroadcast(to: Destination): { readonly queue: MemoryQueue; close(): void } {
    const key = keyOf(to);
    const queue = new MemoryQueue();
    const owns = this.#broadcasts.get(key) ?? new Set<MemoryQueue>();
    this.#broadcasts.set(key, owns.add(queue));
    return {
      queue,
      close: () => {
        owns.delete(queue);
        if (owns.size === 0) this.#broadcasts.delete(key);
      },
    };
  }

  #queueOf(to: Destination): MemoryQueue {
    const key = keyOf(to);
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = new MemoryQueue();
      this.#queues.set(key, queue);
    }
    return queue;
  }
}

const keyOf = (to: Destination): string => `${to.exchangeId}/${to.queue}`; // the id is a number, so the first '/' ends it
const errorOf = (to: Destination): Destination => ({ exchangeId: to.exchangeId, queue: errorQueueOf(to.queue) });

class MemoryTransport implements Transport {
  readonly #broker: BrokerAccess;
  readonly #exchangeId: number;
  readonly #log: Logger;
  readonly #maxInFlight: number;
  readonly #newId: () => string;
  readonly #now: () => number;
  readonly #replies: RemoteReplies;
  readonly #replyAddress: string;
  readonly #subscriptions = new Set<Subscription>();
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closed: Promise<void> | undefined;

  constructor(broker: BrokerAccess, opts: MemoryTransportOptions) {
    this.#broker = broker;
    this.#exchangeId = opts.exchangeId;
    this.#log = opts.log;
    this.#maxInFlight = opts.maxInFlight ?? 10;
    this.#newId = opts.newId ?? randomUUID;
    this.#now = opts.now ?? Date.now;
    this.#replies = new RemoteReplies(this.#log);
    this.#replyAddress = `memory.reply-to.${this.#newId()}`;
    broker.listen(this.#replyAddress, (body) => this.#replies.receive(body));
  }

  async publish(to: Destination, type: string, payload: unknown, options?: PublishOptions): Promise<void> {
    const { correlationId, messageId } = options ?? {};
    const ids = { ...(correlationId === undefined ? {} : { correlationId }), ...(messageId === undefined ? {} : { id: messageId }) };
    this.#send(to, this.#envelope(type, payload, ids), options?.broadcast === true);
  }

  async request(to: Destination, type: string, payload: unknown, options: RequestOptions): Promise<unknown> {
    const correlationId = this.#newId();
    const envelope = this.#envelope(type, payload, { correlationId, replyTo: this.#replyAddress });
    const body = encodeEnvelope(envelope);
    this.#assertOpen(to);
    const reply = this.#replies.expect({ correlationId, to, type, timeoutMs: options.timeoutMs });
    this.#broker.deliver(to, { body, redelivered: false, properties: deliveredPropertiesOf(envelope) }, false);
    return reply;
  }

  async consume<M>(spec: ConsumerSpec<M>): Promise<Subscription> {
    if (this.#state !== 'open') throw new TransportClosedError(`cannot consume queue ${spec.queue}: the transport is ${this.#state}`);
    const own = { exchangeId: this.#exchangeId, queue: spec.queue };
    const broadcast = spec.broadcast === true ? this.#broker.openBroadcast(own) : undefined;
    const queue = broadcast?.queue ?? this.#broker.queueOf(own);
    const consumer = new MemoryConsumer(spec, {
      queue,
      maxInFlight: spec.maxInFlight ?? this.#maxInFlight,
      log: this.#log,
      deadLetter: (message, reason) => this.#deadLetter(spec.queue, message, reason),
      reply: (to, type, payload) => this.#reply(to, type, payload),
    });
    const subscription: Subscription = {
      queue: spec.queue,
      cancel: async () => {
        this.#subscriptions.delete(subscription);
        await consumer.cancel();
        broadcast?.close(); // like an auto-delete queue: what it still held goes with it
      },
    };
    this.#subscriptions.add(subscription);
    queue.attach(consumer);
    return subscription;
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    // While closing, handlers still in flight may publish, reply and receive replies, as on an open AMQP channel.
    this.#state = 'closing';
    await Promise.all([...this.#subscriptions].map((s) => s.cancel()));
    this.#state = 'closed';
    this.#broker.unlisten(this.#replyAddress);
    this.#replies.rejectAll('transport closed before the reply arrived');
  }

  #envelope(type: string, payload: unknown, ids: { id?: string; correlationId?: string; replyTo?: string }): Envelope {
    return newEnvelope(type, payload, { id: this.#newId(), now: this.#now(), ...ids });
  }

  /** Throws (a TypeError) for an envelope that cannot be encoded, or a PublishError once closed. */
  #send(to: Destination, envelope: Envelope, broadcastOnly: boolean): void {
    const body = encodeEnvelope(envelope);
    this.#assertOpen(to);
    this.#broker.deliver(to, { body, redelivered: false, properties: deliveredPropertiesOf(envelope) }, broadcastOnly);
  }

  #assertOpen(to: Destination): void {
    if (this.#state === 'closed') throw new PublishError(to, 'the transport is closed');
  }

  #deadLetter(queue: string, message: StoredMessage, reason: string): void {
    const properties = deadLetterPropertiesOf(message.properties, reason);
    this.#broker.queueOf(errorOf({ exchangeId: this.#exchangeId, queue })).enqueue({ body: message.body, redelivered: false, properties });
  }

  #reply(to: ReplyAddress, type: string, payload: unknown): void {
    const ids = to.correlationId === undefined ? {} : { correlationId: to.correlationId };
    let body: Buffer;
    try {
      body = encodeEnvelope(this.#envelope(type, payload, ids));
    } catch (err) {
      // The handler's answer cannot go on the wire (e.g. a BigInt in it): the caller learns that instead of timing out.
      body = encodeEnvelope(this.#envelope(ERROR_REPLY_TYPE, serializeError(err), ids));
    }
    this.#broker.sendTo(to.replyTo, body);
  }
}
