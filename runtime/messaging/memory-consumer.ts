/** One consumer of the in-memory transport: what the AMQP transport does per delivery, without a channel. */
import type { Logger } from '../logger.js';
import { decodeEnvelope, type Envelope } from './core/envelope.js';
import type { MemoryQueue, QueueConsumer, StoredMessage } from './memory-queue.js';
import type { ConsumerSpec, Decoded, DeliveryInfo, Outcome, Subscription } from './transport.js';

/** What a consumer needs from its transport. */
export interface ConsumerPorts {
  readonly queue: MemoryQueue;
  readonly maxInFlight: number;
  readonly log: Logger;
  /** Puts the message on `<queue>_error` with the reason in its headers. */
  readonly deadLetter: (message: StoredMessage, reason: string) => void;
  /** Answers a request (the envelope has `reply_to`) with a result, or with an error thrown by the handler. */
  readonly reply: (request: Envelope, answer: { readonly result: unknown } | { readonly error: unknown }) => void;
}

/**
 * Decodes the envelope (refused -> dead-letter with decodeEnvelope's reason), then the payload with the component's
 * schema (refused -> dead-letter with `<type>: <reason>`), then runs the handler and settles its outcome: ack,
 * requeue once, or dead-letter. At most `maxInFlight` deliveries run at once.
 */
export class MemoryConsumer<M> implements QueueConsumer, Subscription {
  readonly #inFlight = new Set<Promise<void>>();
  #cancelled = false;

  constructor(
    private readonly spec: ConsumerSpec<M>,
    private readonly ports: ConsumerPorts,
  ) {}

  get queue(): string {
    return this.spec.queue;
  }

  hasRoom(): boolean {
    return !this.#cancelled && this.#inFlight.size < this.ports.maxInFlight;
  }

  take(message: StoredMessage): void {
    const delivery: Promise<void> = this.#deliver(message).finally(() => {
      this.#inFlight.delete(delivery);
      this.ports.queue.schedule();
    });
    this.#inFlight.add(delivery); // awaited by cancel(); #deliver never rejects
  }

  async cancel(): Promise<void> {
    this.#cancelled = true;
    this.ports.queue.detach(this);
    await Promise.all([...this.#inFlight]);
  }

  async #deliver(message: StoredMessage): Promise<void> {
    try {
      await this.#run(message);
    } catch (err) {
      // Only a bug in this file gets here. Dead-lettering keeps the message (the broker never loses it) and says why.
      this.ports.log.error({ queue: this.queue, err }, 'delivery failed in the transport');
      this.#deadLetter(message, `transport failure: ${messageOf(err)}`);
    }
  }

  async #run(message: StoredMessage): Promise<void> {
    const decoded = decodeEnvelope(message.body);
    if (!decoded.ok) return this.#deadLetter(message, decoded.reason);
    const { envelope } = decoded;
    const payload = this.#decodePayload(envelope);
    if (!payload.ok) return this.#deadLetter(message, `${envelope.type}: ${payload.reason}`);
    const info: DeliveryInfo = { queue: this.queue, redelivered: message.redelivered, envelope };
    let outcome: Outcome;
    try {
      outcome = await this.spec.handle(payload.value, info);
    } catch (err) {
      // A request is never run twice by the transport: the caller gets the error at once (transport.ts, ConsumerSpec).
      if (envelope.reply_to !== undefined) return this.ports.reply(envelope, { error: err });
      outcome = { type: 'retry', reason: messageOf(err) };
    }
    this.#settle(message, envelope, outcome);
  }

  #decodePayload(envelope: Envelope): Decoded<M> {
    try {
      return this.spec.decode(envelope.payload, envelope.type);
    } catch (err) {
      // A schema that throws refuses the payload as surely as one that says no; retrying would not change its mind.
      return { ok: false, reason: messageOf(err) };
    }
  }

  #settle(message: StoredMessage, envelope: Envelope, outcome: Outcome): void {
    switch (outcome.type) {
      case 'ack':
        if (envelope.reply_to !== undefined) this.ports.reply(envelope, { result: outcome.reply });
        return;
      case 'retry':
        if (message.redelivered) return this.#deadLetter(message, outcome.reason);
        this.ports.log.info({ queue: this.queue, reason: outcome.reason }, 'delivery requeued once');
        return this.ports.queue.requeue({ ...message, redelivered: true });
      case 'dead-letter':
        return this.#deadLetter(message, outcome.reason);
      default: {
        const unknown: never = outcome;
        return this.#deadLetter(message, `handler returned no outcome (${JSON.stringify(unknown)})`);
      }
    }
  }

  #deadLetter(message: StoredMessage, reason: string): void {
    this.ports.log.warn({ queue: this.queue, reason }, 'message dead-lettered');
    this.ports.deadLetter(message, reason);
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
