import type { ConsumeMessage } from 'amqplib';
import { Endpoint } from './endpoint.js';
import type { LinkView } from '../core/metadata-change.js';
import { connectionTarget, type AmqpEndpoint, type ExchangeRoute, type MessagingMetadata, type PickOne } from '../core/routing.js';
import { sleep } from '../../core/promises.js';
import type { Logger } from '../../logger.js';

export type EndpointKind = 'primary' | 'failover';

export interface LinkOptions {
  readonly brokerId: number;
  /** Any exchange reached through this broker; it only serves to resolve the broker's connection options. */
  readonly exchangeId: number;
  readonly metadata: MessagingMetadata;
  readonly pick: PickOne;
  readonly log: Logger;
  /** Failed connects to the primary before switching to the failover broker (reference §4.5 `retry_cnt`). */
  readonly retryCount: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** Once failed over, how often the primary is tried again (fail-back). */
  readonly probeIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly onUp: (link: BrokerLink, endpoint: Endpoint, kind: EndpointKind) => Promise<void>;
  readonly onReply: (message: ConsumeMessage) => void;
  /** The primary has failed `retryCount` attempts in a row (again): its connection options may be out of date. */
  readonly onUnreachable?: (link: BrokerLink, failures: number) => void;
}

const first: PickOne = (xs) => xs[0];

/**
 * The connections to one broker and its failover (reference §4.5, fixed). The primary reconnects with backoff;
 * after `retryCount` failed attempts the failover endpoint is opened and takes the traffic, while the primary is
 * probed every `probeIntervalMs`. When the primary is back it takes the traffic again; the failover stays connected,
 * so its consumers drain what was published there.
 */
export class BrokerLink {
  readonly primary: Endpoint;
  private readonly primaryEndpoint: AmqpEndpoint;
  private failover: Endpoint | undefined;
  private failoverEndpoint: AmqpEndpoint | undefined;
  private metadata: MessagingMetadata;
  private readonly routes = new Map<string, ExchangeRoute>();
  private closed = false;

  constructor(private readonly opts: LinkOptions) {
    this.metadata = opts.metadata;
    const target = connectionTarget({ metadata: opts.metadata, brokerId: opts.brokerId, exchangeId: opts.exchangeId, pick: opts.pick });
    this.primaryEndpoint = target.primary.endpoint;
    this.failoverEndpoint = target.failover?.endpoint;
    this.primary = this.endpoint('primary', target.primary.endpoint, (attempt) =>
      attempt > opts.retryCount && this.failoverEndpoint ? opts.probeIntervalMs : this.backoffMs(attempt),
    );
    this.primary.start();
  }

  /** The connection rows this link uses, for planning a metadata change (core/metadata-change.ts). */
  view(): LinkView {
    const failover = this.failoverEndpoint;
    return {
      brokerId: this.opts.brokerId,
      exchangeId: this.opts.exchangeId,
      primaryConnectionId: this.primaryEndpoint.connectionId,
      ...(failover === undefined ? {} : { failover: { brokerId: failover.brokerId, connectionId: failover.connectionId } }),
    };
  }

  /** New metadata whose change leaves this link's connections as they are: routes are worked out again from it. */
  adopt(metadata: MessagingMetadata): void {
    this.metadata = metadata;
    this.routes.clear();
  }

  /**
   * New metadata with another failover target for this broker (one added through the API, say). An open failover
   * connection to the old target closes; when the primary is already down past the retry count, the new target is
   * opened at once rather than after the next failed attempt.
   */
  retargetFailover(metadata: MessagingMetadata): void {
    this.adopt(metadata);
    const target = connectionTarget({ metadata, brokerId: this.opts.brokerId, exchangeId: this.opts.exchangeId, pick: this.opts.pick });
    this.failoverEndpoint = target.failover?.endpoint;
    const old = this.failover;
    this.failover = undefined;
    if (old) void old.close().catch((err: unknown) => this.opts.log.debug({ err, endpoint: old.label }, 'closing the old failover connection failed'));
    if (!this.primary.isUp) this.onPrimaryFailure(this.primary.consecutiveFailures);
  }

  /** The endpoint that takes traffic now: the primary when it is up, else the failover when it is up. */
  active(): { endpoint: Endpoint; kind: EndpointKind } | undefined {
    if (this.primary.isUp) return { endpoint: this.primary, kind: 'primary' };
    if (this.failover?.isUp) return { endpoint: this.failover, kind: 'failover' };
    return undefined;
  }

  async waitActive(deadlineAt: number): Promise<{ endpoint: Endpoint; kind: EndpointKind } | undefined> {
    for (;;) {
      const active = this.active();
      if (active || this.closed || Date.now() >= deadlineAt) return active;
      await sleep(Math.min(50, Math.max(deadlineAt - Date.now(), 1)));
    }
  }

  /** Where a queue of `exchangeId` lives on this kind of endpoint: on the failover, the failover exchange (§4.5). */
  routeOn(kind: EndpointKind, exchangeId: number): ExchangeRoute {
    const key = `${kind}:${exchangeId}`;
    let route = this.routes.get(key);
    if (route === undefined) {
      const target = connectionTarget({ metadata: this.metadata, brokerId: this.opts.brokerId, exchangeId, pick: first });
      route = kind === 'primary' ? target.primary.route : (target.failover ?? target.primary).route;
      this.routes.set(key, route);
    }
    return route;
  }

  /** Every endpoint now connected, with its kind (consumers run on all of them). */
  connected(): Array<{ endpoint: Endpoint; kind: EndpointKind }> {
    const all: Array<{ endpoint: Endpoint; kind: EndpointKind }> = [{ endpoint: this.primary, kind: 'primary' }];
    if (this.failover) all.push({ endpoint: this.failover, kind: 'failover' });
    return all.filter((e) => e.endpoint.isUp);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.primary.close(), this.failover?.close()]);
  }

  private backoffMs(attempt: number): number {
    return Math.min(this.opts.backoff.initialMs * 2 ** (attempt - 1), this.opts.backoff.maxMs);
  }

  private onPrimaryFailure(failures: number): void {
    if (failures < this.opts.retryCount || this.failoverEndpoint === undefined || this.failover || this.closed) return;
    this.opts.log.warn({ brokerId: this.opts.brokerId, failures }, 'primary broker unreachable; switching to the failover broker');
    this.failover = this.endpoint('failover', this.failoverEndpoint, (attempt) => this.backoffMs(attempt));
    this.failover.start();
  }

  private endpoint(kind: EndpointKind, endpoint: AmqpEndpoint, backoffMs: (attempt: number) => number): Endpoint {
    return new Endpoint({
      label: `${kind} broker ${endpoint.brokerId} (${endpoint.host}:${endpoint.port ?? 5672})`,
      endpoint,
      log: this.opts.log,
      backoffMs,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      onUp: (ep) => this.opts.onUp(this, ep, kind),
      onFailure: (_ep, failures) => {
        if (kind !== 'primary') return;
        this.onPrimaryFailure(failures);
        if (failures % this.opts.retryCount === 0) this.opts.onUnreachable?.(this, failures);
      },
      onReply: this.opts.onReply,
    });
  }
}
