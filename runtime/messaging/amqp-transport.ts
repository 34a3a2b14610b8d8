import type { ConsumeMessage, Options } from 'amqplib';
import { randomInt, randomUUID } from 'node:crypto';
import { DIRECT_REPLY_TO, type Endpoint } from './amqp/endpoint.js';
import { BrokerLink, type EndpointKind } from './amqp/link.js';
import { AmqpSubscription } from './amqp/subscription.js';
import { planQueueDeclarations } from './core/declarations.js';
import { deadLetterPropertiesOf, type ReplyAddress } from './core/delivery.js';
import { planMetadataChange, type MetadataChangePlan } from './core/metadata-change.js';
import { amqpPropertiesFor, decodeEnvelope, encodeEnvelope, newEnvelope, type Envelope } from './core/envelope.js';
import { brokerCandidates, pickBroker, publishKeyFor, type BrokerCandidates, type ExchangeRoute, type MessagingMetadata, type PickOne } from './core/routing.js';
import {
  ERROR_REPLY_TYPE,
  errorQueueOf,
  PublishError,
  remoteRequestErrorOf,
  RpcTimeoutError,
  TransportClosedError,
  type ConsumerSpec,
  type Destination,
  type PublishOptions,
  type RequestOptions,
  type Subscription,
  type Transport,
} from './transport.js';
import { sleep } from '../core/promises.js';
import type { Logger } from '../logger.js';

export interface AmqpTransportOptions {
  /** The metadata to start from; `updateMetadata` replaces it while the transport runs. */
  readonly metadata: MessagingMetadata;
  /** This process's exchange (EXCHANGE_ID): its consumers live there. */
  readonly exchangeId: number;
  /** This process's broker (BROKER_ID): used unless broker restrictions say otherwise (reference §4.4). */
  readonly brokerId: number;
  readonly log: Logger;
  /** Prefetch and the cap on deliveries in a handler at once, per consumer (reference §4.5: 10). */
  readonly maxInFlight?: number;
  /** Failed reconnects before switching to the failover broker (reference §4.5 `retry_cnt`: 5). */
  readonly retryCount?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly probeIntervalMs?: number;
  /** How long a publish keeps trying (reconnects, failover included) before it rejects. */
  readonly publishTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Declare exchanges, queues, `<queue>_error` and bindings (reference §4.3 `auto_declare`; default true). */
  readonly autoDeclare?: boolean;
  readonly pick?: PickOne;
  /**
   * The metadata may be out of date and a `messaging_changed` missed (issue 19 item 1): a broker's primary has failed
   * `retryCount` attempts in a row (every `retryCount`), or an endpoint connected again after a loss. `why` says which.
   */
  readonly onStale?: (why: string) => void;
}

interface PendingRequest {
  readonly resolve: (payload: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class UnroutableError extends Error {
  override readonly name = 'Unroutable';
}

const randomPick: PickOne = (xs) => xs[randomInt(xs.length)]!;

/**
 * The AMQP transport (design §5): confirm-channel publishing routed by the messaging metadata, consumers on the own
 * exchange with requeue-once and dead-lettering with a reason, RPC over direct reply-to, and broker failover that
 * works (reference §4.5, fixed). One connection per broker (and its failover) per process.
 */
export class AmqpTransport implements Transport {
  private readonly links = new Map<number, BrokerLink>();
  private readonly subscriptions = new Set<AmqpSubscription<unknown>>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly declared = new WeakMap<Endpoint, Set<string>>();
  /** The brokers a publish to each destination exchange may use, until the restrictions change. */
  private readonly candidates = new Map<number, BrokerCandidates>();
  private metadata: MessagingMetadata;
  private closing = false;
  /** Endpoints that have been up once: their next connect is a reconnect, after which a broadcast may be missing. */
  private readonly wereUp = new WeakSet<Endpoint>();
  private readonly settings: Required<Omit<AmqpTransportOptions, 'metadata' | 'exchangeId' | 'brokerId' | 'log' | 'onStale'>>;

  constructor(private readonly opts: AmqpTransportOptions) {
    this.metadata = opts.metadata;
    this.settings = {
      maxInFlight: opts.maxInFlight ?? 10,
      retryCount: opts.retryCount ?? 5,
      backoff: opts.backoff ?? { initialMs: 250, maxMs: 2_000 },
      probeIntervalMs: opts.probeIntervalMs ?? 5_000,
      publishTimeoutMs: opts.publishTimeoutMs ?? 30_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
      autoDeclare: opts.autoDeclare ?? true,
      pick: opts.pick ?? randomPick,
    };
    this.linkFor(opts.brokerId, opts.exchangeId);
  }

  publish(to: Destination, type: string, payload: unknown, options?: PublishOptions): Promise<void> {
    const { correlationId, messageId } = options ?? {};
    const ids = { id: messageId ?? randomUUID(), now: Date.now(), ...(correlationId === undefined ? {} : { correlationId }) };
    return this.send(to, newEnvelope(type, payload, ids), this.settings.publishTimeoutMs, options?.broadcast === true);
  }

  request(to: Destination, type: string, payload: unknown, options: RequestOptions): Promise<unknown> {
    const correlationId = randomUUID();
    const envelope = newEnvelope(type, payload, { id: randomUUID(), now: Date.now(), correlationId, replyTo: DIRECT_REPLY_TO });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RpcTimeoutError(to, type, options.timeoutMs));
      }, options.timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      this.send(to, envelope, Math.min(options.timeoutMs, this.settings.publishTimeoutMs)).catch((err: unknown) => {
        if (!this.pending.delete(correlationId)) return;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  async consume<M>(spec: ConsumerSpec<M>): Promise<Subscription> {
    if (this.closing) throw new TransportClosedError(`cannot consume queue ${spec.queue}: the transport is closing`);
    const link = this.ownLink();
    // A broadcast consumer's own queue keeps its name across reconnects: the exclusive queue dies with its connection.
    const ownQueue = spec.broadcast === true ? `${spec.queue}.broadcast.${randomUUID()}` : undefined;
    const subscription: AmqpSubscription<M> = new AmqpSubscription(spec, {
      log: this.opts.log,
      maxInFlight: spec.maxInFlight ?? this.settings.maxInFlight,
      ...(ownQueue === undefined ? {} : { brokerQueue: ownQueue }),
      declare: (endpoint) => (ownQueue === undefined ? this.declareOwn(endpoint, spec.queue) : this.declareBroadcast(endpoint, spec.queue, ownQueue)),
      deadLetter: (endpoint, msg, reason) => this.deadLetter(endpoint, msg, spec.queue, reason),
      reply: (endpoint, to, type, payload) => this.reply(endpoint, to, type, payload),
    });
    this.subscriptions.add(subscription as AmqpSubscription<unknown>);
    for (const { endpoint } of link.connected()) await subscription.attach(endpoint);
    return {
      queue: spec.queue,
      cancel: async () => {
        this.subscriptions.delete(subscription as AmqpSubscription<unknown>);
        await subscription.cancel();
      },
    };
  }

  /**
   * Goes over to `next` (issue 19 item 1): links whose connection rows are unchanged stay connected; a changed
   * failover target is swapped under a running primary; a changed primary row, or a changed route of the own
   * exchange, reconnects that link (its consumers subscribe again on the new connection); a broker that is gone is
   * let go. Metadata this process cannot run on is refused, and the current metadata kept. `source` names where
   * `next` came from in the log and the problems.
   */
  updateMetadata(next: MessagingMetadata, source: string): MetadataChangePlan {
    const own = { brokerId: this.opts.brokerId, exchangeId: this.opts.exchangeId };
    const plan = planMetadataChange({ prev: this.metadata, next, links: [...this.links.values()].map((l) => l.view()), own, source });
    if (!plan.changed || this.closing) return plan;
    if (plan.problems.length > 0) {
      this.opts.log.error({ problems: plan.problems }, 'new messaging metadata refused; keeping the current one');
      return plan;
    }
    this.metadata = next;
    if (plan.restrictionsChanged) this.candidates.clear();
    const moved = plan.links.filter((a) => a.action !== 'keep');
    this.opts.log.info({ source, links: moved, routesChanged: plan.routesChanged, restrictionsChanged: plan.restrictionsChanged }, 'messaging metadata changed');
    for (const step of plan.links) {
      const link = this.links.get(step.brokerId);
      if (link === undefined) continue;
      switch (step.action) {
        case 'keep':
          link.adopt(next);
          break;
        case 'retarget-failover':
          link.retargetFailover(next);
          break;
        case 'reconnect':
        case 'close':
          // The new link is in place before the old one goes, so the old connection's last events find it replaced.
          this.links.delete(step.brokerId);
          if (step.action === 'reconnect') this.linkFor(step.brokerId, link.view().exchangeId);
          void link.close().catch((err: unknown) => this.opts.log.warn({ err, brokerId: step.brokerId }, 'closing the replaced broker link failed'));
          break;
      }
    }
    return plan;
  }

  /** Which endpoint of each broker takes traffic now; for health reports and the failover test. */
  status(): Array<{ brokerId: number; active: EndpointKind | 'none' }> {
    return [...this.links.entries()].map(([brokerId, link]) => ({ brokerId, active: link.active()?.kind ?? 'none' }));
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const subscription of [...this.subscriptions]) await subscription.cancel();
    this.subscriptions.clear();
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new TransportClosedError('transport closed before the reply arrived'));
      this.pending.delete(id);
    }
    await Promise.all([...this.links.values()].map((link) => link.close()));
  }

  private ownLink(): BrokerLink {
    return this.linkFor(this.opts.brokerId, this.opts.exchangeId);
  }

  private linkFor(brokerId: number, exchangeId: number): BrokerLink {
    let link = this.links.get(brokerId);
    if (link === undefined) {
      link = new BrokerLink({
        brokerId,
        exchangeId,
        metadata: this.metadata,
        pick: this.settings.pick,
        log: this.opts.log.child({ brokerId }),
        retryCount: this.settings.retryCount,
        backoff: this.settings.backoff,
        probeIntervalMs: this.settings.probeIntervalMs,
        connectTimeoutMs: this.settings.connectTimeoutMs,
        onUp: (up, endpoint, kind) => this.onUp(up, endpoint, kind),
        onReply: (msg) => this.onReply(msg),
        onUnreachable: (_link, failures) => this.opts.onStale?.(`broker ${brokerId} unreachable after ${failures} attempts`),
      });
      this.links.set(brokerId, link);
    }
    return link;
  }

  /** Every (re)connect: forget what was declared on the old connection, and re-subscribe the own consumers. */
  private async onUp(link: BrokerLink, endpoint: Endpoint, kind: EndpointKind): Promise<void> {
    this.declared.set(endpoint, new Set());
    if (this.wereUp.has(endpoint)) this.opts.onStale?.(`${endpoint.label} connected again`);
    this.wereUp.add(endpoint);
    if (link !== this.links.get(this.opts.brokerId)) return;
    this.opts.log.info({ endpoint: endpoint.label, kind, consumers: this.subscriptions.size }, 'subscribing');
    for (const subscription of this.subscriptions) await subscription.attach(endpoint);
  }

  /** Publishes until the broker confirms, across reconnects and failover, for at most `timeoutMs`. */
  private async send(to: Destination, envelope: Envelope, timeoutMs: number, broadcast = false): Promise<void> {
    if (this.closing) throw new PublishError(to, 'the transport is closing');
    const link = this.linkFor(pickBroker(this.candidatesFor(to.exchangeId), this.settings.pick).brokerId, to.exchangeId);
    const bytes = encodeEnvelope(envelope);
    // A broadcast nobody listens to is dropped, not refused: only a shared queue must exist.
    const properties = amqpPropertiesFor(envelope, { mandatory: !broadcast });
    const deadlineAt = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadlineAt && !this.closing) {
      const active = link.active() ?? (await link.waitActive(deadlineAt));
      if (!active) break;
      const route = link.routeOn(active.kind, to.exchangeId);
      try {
        if (broadcast) await this.declareExchange(active.endpoint, route);
        else if (!this.isDeclared(active.endpoint, route, to.queue)) await this.declare(active.endpoint, route, to.queue);
        await this.confirmPublish(active.endpoint, route.rootExchangeName, publishKeyFor(route.routingKey, to.queue), bytes, properties);
        return;
      } catch (err) {
        if (err instanceof UnroutableError) throw new PublishError(to, err.message, { cause: err });
        lastError = err;
        this.opts.log.debug({ err, queue: to.queue, endpoint: active.endpoint.label }, 'publish not confirmed; retrying');
        await sleep(50);
      }
    }
    const why = lastError instanceof Error ? lastError.message : `no broker reachable within ${timeoutMs} ms`;
    throw new PublishError(to, why, lastError === undefined ? undefined : { cause: lastError });
  }

  private candidatesFor(destination: number): BrokerCandidates {
    let candidates = this.candidates.get(destination);
    if (candidates === undefined) {
      const { restrictions } = this.metadata;
      candidates = brokerCandidates({ source: this.opts.exchangeId, destination, restrictions, ownBrokerId: this.opts.brokerId });
      this.candidates.set(destination, candidates);
    }
    return candidates;
  }

  /** Resolves once the broker confirms; a mandatory message it returned as unroutable rejects with UnroutableError. */
  private confirmPublish(endpoint: Endpoint, exchange: string, key: string, bytes: Buffer, properties: Options.Publish): Promise<void> {
    const channel = endpoint.publishing();
    if (!channel) return Promise.reject(new Error(`${endpoint.label} is not connected`));
    // No timer per publish: amqplib fails every unconfirmed callback when the channel closes, and the 15 s AMQP
    // heartbeat closes a connection that went silent. The broker sends a return before the confirm of its message.
    return new Promise<void>((resolve, reject) => {
      channel.publish(exchange, key, bytes, properties, (err: unknown) => {
        if (err) reject(err instanceof Error ? err : new Error('nacked by the broker'));
        else if (properties.mandatory === true && typeof properties.messageId === 'string' && endpoint.takeReturned(properties.messageId)) {
          reject(new UnroutableError(`unroutable: nothing is bound to exchange ${exchange} with key ${key}`));
        } else resolve();
      });
    });
  }

  /** Declares a consumer's queue on an endpoint of the own broker, on that endpoint's route (failover exchange there). */
  private async declareOwn(endpoint: Endpoint, queue: string): Promise<void> {
    const kind: EndpointKind = endpoint === this.ownLink().primary ? 'primary' : 'failover';
    await this.declare(endpoint, this.ownLink().routeOn(kind, this.opts.exchangeId), queue);
  }

  /** The own exchange's root exchange, once per connection (what a broadcast publish needs). */
  private async declareExchange(endpoint: Endpoint, route: ExchangeRoute): Promise<void> {
    const key = `exchange|${route.rootExchangeName}`;
    const done = this.declared.get(endpoint) ?? new Set<string>();
    this.declared.set(endpoint, done);
    if (!this.settings.autoDeclare || done.has(key) || route.rootExchangeName === '') return;
    const channel = endpoint.publishing();
    if (!channel) throw new Error(`${endpoint.label} is not connected`);
    await channel.assertExchange(route.rootExchangeName, 'topic', { durable: true });
    done.add(key);
  }

  /**
   * A broadcast consumer's own queue (reference §4.8: one per Manager instance): exclusive and auto-delete, bound to
   * the routing key of `queue` in the own exchange, on every (re)connect; `<queue>_error` for its dead letters.
   */
  private async declareBroadcast(endpoint: Endpoint, queue: string, ownQueue: string): Promise<void> {
    const kind: EndpointKind = endpoint === this.ownLink().primary ? 'primary' : 'failover';
    const route = this.ownLink().routeOn(kind, this.opts.exchangeId);
    if (route.rootExchangeName === '') throw new Error(`cannot broadcast queue ${queue}: exchange ${this.opts.exchangeId} has no root exchange to bind to`);
    const channel = endpoint.publishing();
    if (!channel) throw new Error(`${endpoint.label} is not connected`);
    await channel.assertExchange(route.rootExchangeName, 'topic', { durable: true });
    await channel.assertQueue(errorQueueOf(queue), { durable: true });
    await channel.assertQueue(ownQueue, { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(ownQueue, route.rootExchangeName, publishKeyFor(route.routingKey, queue));
  }

  /** True when nothing needs declaring: auto-declare is off, or this connection has declared the queue already. */
  private isDeclared(endpoint: Endpoint, route: ExchangeRoute, queue: string): boolean {
    return !this.settings.autoDeclare || (this.declared.get(endpoint)?.has(`${route.rootExchangeName}|${route.routingKey}|${queue}`) ?? false);
  }

  /** Declares a queue of an exchange once per connection (design §2: the platform declares its own queues). */
  private async declare(endpoint: Endpoint, route: ExchangeRoute, queue: string): Promise<void> {
    if (this.isDeclared(endpoint, route, queue)) return;
    const done = this.declared.get(endpoint) ?? new Set<string>();
    this.declared.set(endpoint, done);
    const plan = planQueueDeclarations(route, queue, errorQueueOf(queue));
    const key = `${route.rootExchangeName}|${route.routingKey}|${queue}`;
    const channel = endpoint.publishing();
    if (!channel) throw new Error(`${endpoint.label} is not connected`);
    if (plan.exchange.name !== '') await channel.assertExchange(plan.exchange.name, plan.exchange.type, { durable: plan.exchange.durable });
    await channel.assertQueue(plan.errorQueue.name, { durable: plan.errorQueue.durable });
    await channel.assertQueue(plan.queue.name, { durable: plan.queue.durable, arguments: plan.queue.arguments });
    if (plan.exchange.name !== '') await channel.bindQueue(plan.binding.queue, plan.binding.exchange, plan.binding.key);
    done.add(key);
  }

  /** The original's bytes, properties and headers, plus the reason (core/delivery.ts), into `<queue>_error`. */
  private async deadLetter(endpoint: Endpoint, msg: ConsumeMessage, queue: string, reason: string): Promise<void> {
    await this.confirmPublish(endpoint, '', errorQueueOf(queue), msg.content, deadLetterPropertiesOf(msg.properties, reason));
  }

  private async reply(endpoint: Endpoint, to: ReplyAddress, type: string, payload: unknown): Promise<void> {
    const correlation = to.correlationId === undefined ? {} : { correlationId: to.correlationId };
    const envelope = newEnvelope(type, payload, { id: randomUUID(), now: Date.now(), ...correlation });
    await this.confirmPublish(endpoint, '', to.replyTo, encodeEnvelope(envelope), amqpPropertiesFor(envelope, { persistent: false }));
  }

  private onReply(msg: ConsumeMessage): void {
    const decoded = decodeEnvelope(msg.content);
    if (!decoded.ok) {
      this.opts.log.warn({ reason: decoded.reason }, 'undecodable reply dropped');
      return;
    }
    const { envelope } = decoded;
    const correlationId = envelope.correlation_id ?? String(msg.properties.correlationId ?? '');
    const request = this.pending.get(correlationId);
    if (!request) {
      this.opts.log.warn({ correlationId, type: envelope.type }, 'late reply dropped: its request already timed out or was never sent');
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(request.timer);
    if (envelope.type === ERROR_REPLY_TYPE) request.reject(remoteRequestErrorOf(envelope.payload));
    else request.resolve(envelope.payload);
  }
}
