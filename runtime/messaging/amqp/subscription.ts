import type { Channel, ConsumeMessage } from 'amqplib';
import type { Endpoint } from './endpoint.js';
import { deadLetteredError, replyAddressOf, type ReplyAddress } from '../core/delivery.js';
import { decodeEnvelope, type Envelope } from '../core/envelope.js';
import { ERROR_REPLY_TYPE, type ConsumerSpec, type Outcome, type Subscription } from '../transport.js';
import { serializeError } from '../../core/errors.js';
import type { Logger } from '../../logger.js';

/** What a subscription needs from its transport: dead-lettering and replies go through the endpoint's publisher. */
export interface SubscriptionDeps {
  readonly log: Logger;
  readonly maxInFlight: number;
  /** The broker's queue to consume when it is not `spec.queue`: a broadcast consumer's own queue. */
  readonly brokerQueue?: string;
  /** Declares the queue (when auto-declare is on) on the endpoint, before consuming. */
  readonly declare: (endpoint: Endpoint) => Promise<void>;
  /** Publishes the message's bytes and properties to `<queue>_error` with `reason`; resolves once confirmed. */
  readonly deadLetter: (endpoint: Endpoint, message: ConsumeMessage, reason: string) => Promise<void>;
  /** Sends a reply (or an error reply) to a requester. */
  readonly reply: (endpoint: Endpoint, to: ReplyAddress, type: string, payload: unknown) => Promise<void>;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One consumer of one queue, attached to every connected endpoint of the own broker (the primary, and the failover
 * while it holds messages). At most `maxInFlight` deliveries are in the handler at once, whatever their endpoint;
 * prefetch bounds what waits. Acks and nacks happen here, on the channel that delivered (style R7).
 */
export class AmqpSubscription<M> implements Subscription {
  private readonly attached = new Map<Endpoint, { channel: Channel; consumerTag: string }>();
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private cancelled = false;

  constructor(
    private readonly spec: ConsumerSpec<M>,
    private readonly deps: SubscriptionDeps,
  ) {}

  get queue(): string {
    return this.spec.queue;
  }

  async attach(endpoint: Endpoint): Promise<void> {
    if (this.cancelled) return;
    await this.deps.declare(endpoint);
    const channel = await endpoint.openChannel(this.deps.maxInFlight);
    const { consumerTag } = await channel.consume(this.deps.brokerQueue ?? this.spec.queue, (msg) => msg && void this.deliver(endpoint, channel, msg), { noAck: false });
    this.attached.set(endpoint, { channel, consumerTag });
    channel.once('close', () => {
      if (this.attached.get(endpoint)?.channel === channel) this.attached.delete(endpoint);
    });
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    const attached = [...this.attached.entries()];
    for (const [, { channel, consumerTag }] of attached) {
      await channel.cancel(consumerTag).catch((err: unknown) => this.deps.log.debug({ err, queue: this.queue }, 'cancel on a closed channel'));
    }
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    for (const [endpoint, { channel }] of attached) await endpoint.closeChannel(channel);
    this.attached.clear();
  }

  private async deliver(endpoint: Endpoint, channel: Channel, msg: ConsumeMessage): Promise<void> {
    // A free slot is taken at once, with no await: the common case, since prefetch is the same number.
    if (this.inFlight < this.deps.maxInFlight) this.inFlight += 1;
    else await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    try {
      await this.process(endpoint, channel, msg);
    } catch (err) {
      // The channel died under us (ack/nack failed): the broker redelivers the message; nothing is lost.
      this.deps.log.warn({ err, queue: this.queue }, 'delivery not settled; the broker will redeliver it');
    } finally {
      this.release();
    }
  }

  private async process(endpoint: Endpoint, channel: Channel, msg: ConsumeMessage): Promise<void> {
    const decoded = decodeEnvelope(msg.content);
    if (!decoded.ok) return this.refuse(endpoint, channel, msg, undefined, decoded.reason);
    const envelope = decoded.envelope;
    const payload = this.spec.decode(envelope.payload, envelope.type);
    if (!payload.ok) return this.refuse(endpoint, channel, msg, envelope, `${envelope.type}: ${payload.reason}`);
    const replyTo = replyAddressOf(msg.properties, envelope);
    let outcome: Outcome;
    try {
      outcome = await this.spec.handle(payload.value, { queue: this.queue, redelivered: msg.fields.redelivered, envelope });
    } catch (err) {
      if (replyTo) {
        // A request is answered with its error, not retried: the caller decides (see ConsumerSpec).
        await this.deps.reply(endpoint, replyTo, ERROR_REPLY_TYPE, serializeError(err));
        channel.ack(msg);
        return;
      }
      outcome = { type: 'retry', reason: messageOf(err) };
    }
    switch (outcome.type) {
      case 'ack':
        if (replyTo) await this.deps.reply(endpoint, replyTo, `${envelope.type}.reply`, outcome.reply ?? null);
        channel.ack(msg);
        return;
      case 'retry':
        if (!msg.fields.redelivered) {
          channel.nack(msg, false, true);
          return;
        }
        return this.refuse(endpoint, channel, msg, envelope, outcome.reason);
      case 'dead-letter':
        return this.refuse(endpoint, channel, msg, envelope, outcome.reason);
    }
  }

  /** Dead-letters the message; a requester (the message has a reply address) also learns that it was, and why. */
  private async refuse(endpoint: Endpoint, channel: Channel, msg: ConsumeMessage, envelope: Envelope | undefined, reason: string): Promise<void> {
    await this.deadLetter(endpoint, channel, msg, reason);
    const to = replyAddressOf(msg.properties, envelope);
    if (to === undefined) return;
    try {
      await this.deps.reply(endpoint, to, ERROR_REPLY_TYPE, deadLetteredError(reason));
    } catch (err) {
      // The message is settled in `<queue>_error` already; a redelivery for the sake of the reply would copy it there twice.
      this.deps.log.warn({ err, queue: this.queue, reason }, 'the requester was not told its request was dead-lettered; it will time out');
    }
  }

  private async deadLetter(endpoint: Endpoint, channel: Channel, msg: ConsumeMessage, reason: string): Promise<void> {
    try {
      await this.deps.deadLetter(endpoint, msg, reason);
    } catch (err) {
      // Our copy with the reason did not make it: reject instead, and the queue's own dead-letter route takes it.
      this.deps.log.warn({ err, queue: this.queue, reason }, 'dead-letter publish failed; rejecting to the broker dead-letter route');
      channel.nack(msg, false, false);
      return;
    }
    this.deps.log.warn({ queue: this.queue, reason }, 'message dead-lettered');
    channel.ack(msg);
  }

  /** Hands the slot to a waiting delivery, or frees it. */
  private release(): void {
    const next = this.slotWaiters.shift();
    if (next) {
      next();
      return;
    }
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
