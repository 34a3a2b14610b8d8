/** One consumer of the in-memory transport: what the AMQP transport does per delivery, without a channel. */
import { serializeError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { deadLetteredError, replyAddressOf, type ReplyAddress } from './core/delivery.js';
import { decodeEnvelope, type Envelope } from './core/envelope.js';
import type { MemoryQueue, QueueConsumer, StoredMessage } from './memory-queue.js';
import { ERROR_REPLY_TYPE, type ConsumerSpec, type Decoded, type DeliveryInfo, type Outcome, type Subscription } from './transport.js';

/** What a consumer needs from its transport. */
export interface ConsumerPorts {
  readonly queue: MemoryQueue;
  readonly maxInFlight: number;
  readonly log: Logger;
  /** Puts the message on `<queue>_error` with its properties and the reason (core/delivery.ts). */
  readonly deadLetter: (message: StoredMessage, reason: string) => void;
  /** Sends a reply of envelope type `type` (an error reply: ERROR_REPLY_TYPE) to a requester. */
  readonly reply: (to: ReplyAddress, type: string, payload: unknown) => void;
}

/**
 * Decodes the envelope (refused -> dead-letter with decodeEnvelope's reason), then the payload with the component's
 * schema (refused -> dead-letter with `<type>: <reason>`), then runs the handler and settles its outcome: ack,
 * requeue once, or dead-letter. A requester whose request is dead-lettered gets an error reply saying why. At most
 * `maxInFlight` deliveries run at once.
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
      this.#refuse(message, undefined, `transport failure: ${messageOf(err)}`);
    }
  }

  async #run(message: StoredMessage): Promise<void> {
    const decoded = decodeEnvelope(message.body);
    if (!decoded.ok) return this.#refuse(message, undefined, decoded.reason);
    const { envelope } = decoded;
    const payload = this.#decodePayload(envelope);
    if (!payload.ok) return this.#refuse(message, envelope, `${envelope.type}: ${payload.reason}`);
    const info: DeliveryInfo = { queue: this.queue, redelivered: message.redelivered, envelope };
    const replyTo = replyAddressOf(message.properties, envelope);
    let outcome: Outcome;
    try {
      outcome = await this.spec.handle(payload.value, info);
    } catch (err) {
      // A request is never run twice by the transport: the caller gets the error at once (transport.ts, ConsumerSpec).
      if (replyTo !== undefined) return this.ports.reply(replyTo, ERROR_REPLY_TYPE, serializeError(err));
      outcome = { type: 'retry', reason: messageOf(err) };
    }
    this.#settle(message, envelope, replyTo, outcome);
  }

  #decodePayload(envelope: Envelope): Decoded<M> {
    try {
      return this.spec.decode(envelope.payload, envelope.type);
    } catch (err) {
      // A schema that throws refuses the payload as surely as one that says no; retrying would not change its mind.
      return { ok: false, reason: messageOf(err) };
    }
  }

  #settle(message: StoredMessage, envelope: Envelope, replyTo: ReplyAddress | undefined, outcome: Outcome): void {
    switch (outcome.type) {
      case 'ack':
        if (replyTo !== undefined) this.ports.reply(replyTo, `${envelope.type}.reply`, outcome.reply ?? null); // JSON has no undefined
        return;
      case 'retry':
        if (message.redelivered) return this.#refuse(message, envelope, outcome.reason);
        this.ports.log.info({ queue: this.queue, reason: outcome.reason }, 'delivery requeued once');
        return this.ports.queue.requeue({ ...message, redelivered: true });
      case 'dead-letter':
        return this.#refuse(message, envelope, outcome.reason);
      default: {
        const unknown: never = outcome;
        return this.#refuse(message, envelope, `handler returned no outcome (${JSON.stringify(unknown)})`);
      }
    }
  }

  /** Dead-letters the message; a requester (the message has a reply address) also learns that it was, and why. */
  #refuse(message: StoredMessage, envelope: Envelope | undefined, reason: string): void {
    this.ports.log.warn({ queue: this.queue, reason }, 'message dead-lettered');
    this.ports.deadLetter(message, reason);
    const to = replyAddressOf(message.properties, envelope);
    if (to !== undefined) this.ports.reply(to, ERROR_REPLY_TYPE, deadLetteredError(reason));
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
