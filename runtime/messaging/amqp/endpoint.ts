import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import type { AmqpEndpoint } from '../core/routing.js';
import type { Logger } from '../../logger.js';

/** Reply-to address RabbitMQ routes straight back to the consumer of the requesting channel (no queue needed). */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

export interface EndpointOptions {
  readonly label: string;
  readonly endpoint: AmqpEndpoint;
  readonly log: Logger;
  /** Delay before reconnect attempt n (1-based). */
  readonly backoffMs: (attempt: number) => number;
  readonly connectTimeoutMs: number;
  /** Runs on every (re)connect before the endpoint counts as up: declarations, consumers. Throwing fails the attempt. */
  readonly onUp: (endpoint: Endpoint) => Promise<void>;
  /** Every connect attempt that failed, with the number of consecutive failures so far. */
  readonly onFailure: (endpoint: Endpoint, failures: number) => void;
  readonly onReply: (message: ConsumeMessage) => void;
}

export function urlOf(e: AmqpEndpoint): string {
  const auth = `${encodeURIComponent(e.username)}:${encodeURIComponent(e.password)}`;
  return `amqp://${auth}@${e.host}${e.port === undefined ? '' : `:${e.port}`}/${encodeURIComponent(e.virtualHost)}?heartbeat=15`;
}

/**
 * One AMQP connection to one broker endpoint, kept open until closed: on loss it reconnects with backoff, and on
 * every connect runs `onUp` again (re-declare, re-subscribe). Any channel that closes under us takes the connection
 * down with it, so recovery has one path. Publishing uses one confirm channel, which also receives direct replies.
 */
export class Endpoint {
  private model: ChannelModel | undefined;
  private confirm: ConfirmChannel | undefined;
  private failures = 0;
  private up = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private upWaiters: Array<() => void> = [];
  private readonly returned = new Set<string>();
  /** Channels we close on purpose: their closing is not a failure. */
  private readonly retiring = new WeakSet<Channel>();
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: EndpointOptions) {}

  get label(): string {
    return this.opts.label;
  }

  /** Connected, and `onUp` has finished: declarations and consumers are in place. */
  get isUp(): boolean {
    return this.up;
  }

  /** Consecutive failed connect attempts since the endpoint was last up. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** The publishing channel, while connected (also during `onUp`). */
  publishing(): ConfirmChannel | undefined {
    return this.confirm;
  }

  /** True once, for a mandatory message the broker returned as unroutable. */
  takeReturned(messageId: string): boolean {
    return this.returned.delete(messageId);
  }

  async openChannel(prefetch: number): Promise<Channel> {
    if (!this.model) throw new Error(`${this.label} is not connected`);
    const channel = await this.model.createChannel();
    this.watch(channel, 'consumer channel');
    await channel.prefetch(prefetch);
    return channel;
  }

  /** Closes a channel on purpose (a cancelled subscription), without taking the connection down. */
  async closeChannel(channel: Channel): Promise<void> {
    this.retiring.add(channel);
    await channel.close().catch((err: unknown) => this.opts.log.debug({ err, endpoint: this.label }, 'channel already closed'));
  }

  /** Resolves true when up, false when `deadlineAt` passes or the endpoint closes first. */
  async waitUp(deadlineAt: number): Promise<boolean> {
    while (!this.isUp && !this.closed && Date.now() < deadlineAt) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.upWaiters.push(resolve);
        timer = setTimeout(resolve, Math.min(250, Math.max(deadlineAt - Date.now(), 0)));
      });
      clearTimeout(timer);
    }
    return this.isUp;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    this.wake?.();
    const model = this.model;
    this.model = undefined;
    this.confirm = undefined;
    if (model) await model.close().catch((err: unknown) => this.opts.log.debug({ err, endpoint: this.label }, 'close failed'));
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let model: ChannelModel | undefined;
      try {
        // noDelay: small frames (confirms, replies) go out at once instead of waiting on Nagle's algorithm (~40 ms).
        const connected = await connect(urlOf(this.opts.endpoint), { timeout: this.opts.connectTimeoutMs, noDelay: true } as Options.Connect);
        model = connected;
        const down = new Promise<void>((resolve) => connected.once('close', () => resolve()));
        model.on('error', (err: Error) => this.opts.log.warn({ err, endpoint: this.label }, 'connection error'));
        this.model = model;
        const confirm = await model.createConfirmChannel();
        this.watch(confirm, 'publishing channel');
        confirm.on('return', (msg: ConsumeMessage) => {
          if (typeof msg.properties.messageId === 'string') this.returned.add(msg.properties.messageId);
        });
        await confirm.consume(DIRECT_REPLY_TO, (msg) => msg && this.opts.onReply(msg), { noAck: true });
        this.confirm = confirm;
        await this.opts.onUp(this);
        this.up = true;
        this.failures = 0;
        this.opts.log.info({ endpoint: this.label }, 'connected');
        for (const wake of this.upWaiters.splice(0)) wake();
        await down;
        this.up = false;
        this.confirm = undefined;
        this.model = undefined;
        if (!this.closed) this.opts.log.warn({ endpoint: this.label }, 'connection lost');
      } catch (err) {
        this.up = false;
        this.confirm = undefined;
        this.model = undefined;
        await model?.close().catch(() => undefined);
        if (this.closed) break;
        this.failures += 1;
        this.opts.log.warn({ endpoint: this.label, attempt: this.failures, err }, 'connect failed');
        this.opts.onFailure(this, this.failures);
      }
      if (!this.closed) await this.pause(this.opts.backoffMs(Math.max(this.failures, 1)));
    }
  }

  /** A channel closing under us (a channel error) takes the connection down, so recovery has one path. */
  private watch(channel: Channel, what: string): void {
    channel.on('error', (err: Error) => this.opts.log.warn({ err, endpoint: this.label, channel: what }, 'channel error'));
    channel.once('close', () => {
      if (this.closed || this.model === undefined || this.retiring.has(channel)) return;
      this.opts.log.warn({ endpoint: this.label, channel: what }, 'channel closed; reconnecting');
      void this.model.close().catch(() => undefined);
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
