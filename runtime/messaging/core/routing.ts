/** Pure messaging routing (reference §4.1, §4.2, §4.4): routing keys, broker resolution, connection choice. */

/**
 * A `messaging_exchanges` row; a root exchange's `name` is the real AMQP exchange. The Manager's computed `routing_key`
 * and `root_exchange_name` (§3.3) are not read: `routeFor` derives them from the whole tree, in one pass (§10.1 #4).
 */
export interface MessagingExchange {
  readonly id: number;
  readonly name: string;
  readonly parent_exchange_id: number | null;
  readonly routing_key_fragment: string | null;
  readonly failover_exchange_id: number | null;
}

/** A `messaging_brokers` row. */
export interface MessagingBroker {
  readonly id: number;
  readonly name: string;
  readonly failover_broker_id: number | null;
}

/** A `messaging_broker_connections` row, password already decrypted by the Manager (§2.1). */
export interface MessagingBrokerConnection {
  readonly id: number;
  readonly messaging_broker_id: number;
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number | null;
  readonly virtual_host: string | null;
}

/** A `messaging_exchange_brokers` row ("broker restriction"): the exchange is reachable only through that broker. */
export interface BrokerRestriction {
  readonly id: number;
  readonly messaging_exchange_id: number;
  readonly messaging_broker_id: number;
}

/** Everything the routing decisions read, as one metadata provider delivers it. */
export interface MessagingMetadata {
  readonly exchanges: readonly MessagingExchange[];
  readonly brokers: readonly MessagingBroker[];
  readonly connections: readonly MessagingBrokerConnection[];
  readonly restrictions: readonly BrokerRestriction[];
}

/** Chooses one element; the shell passes a random pick (§4.2, §4.4 choose at random), tests a fixed one. */
export type PickOne = <T>(xs: readonly [T, ...T[]]) => T;

/** Where a publish into an exchange goes on the wire: the root exchange's name and the exchange's routing key. */
export interface ExchangeRoute {
  readonly exchangeId: number;
  readonly rootExchangeName: string;
  readonly routingKey: string;
}

/** How to reach one broker: one of its connection rows, ready for the AMQP client. */
export interface AmqpEndpoint {
  readonly brokerId: number;
  readonly connectionId: number;
  readonly host: string;
  readonly port?: number;
  readonly username: string;
  readonly password: string;
  readonly virtualHost: string;
}

/** A broker endpoint together with the exchange route to use on it. */
export interface BrokerRoute {
  readonly endpoint: AmqpEndpoint;
  readonly route: ExchangeRoute;
}

/** The primary broker and exchange, and the failover pair to switch to after `retry_cnt` failed reconnects (§4.5). */
export interface ConnectionTarget {
  readonly primary: BrokerRoute;
  readonly failover?: BrokerRoute;
}

/** Which broker a publish uses, and which rule chose it (`source` may be unreachable from the destination, §4.4). */
export interface BrokerChoice {
  readonly brokerId: number;
  readonly basis: 'destination' | 'source' | 'own';
}

/** What is wrong with the messaging metadata. */
export type RoutingErrorKind = 'cycle' | 'dangling-parent' | 'unknown-exchange' | 'unknown-broker' | 'no-connection';

// Thrown, not returned (style R7/R8): broken metadata is a configuration bug the caller cannot branch on, only report.
/** The messaging metadata cannot answer a routing question; `ids` are the exchange or broker ids involved. */
export class RoutingError extends Error {
  override readonly name = 'RoutingError';
  readonly retryable = false;
  constructor(
    readonly kind: RoutingErrorKind,
    readonly ids: readonly number[],
    message: string,
  ) {
    super(message);
  }
}

/** True for a RoutingError, also after a process hop has dropped its prototype (style R8). */
export const isRoutingError = (e: unknown): e is RoutingError => e instanceof Error && e.name === 'RoutingError';

/** The exchanges from the root down to `exchangeId`. Detects cycles and dangling parents (reference §10.1 #4). */
function lineageOf(exchanges: readonly MessagingExchange[], exchangeId: number): MessagingExchange[] {
  const byId = new Map(exchanges.map((x) => [x.id, x]));
  const start = byId.get(exchangeId);
  if (start === undefined) {
    throw new RoutingError('unknown-exchange', [exchangeId], `exchange ${exchangeId} is not a known exchange`);
  }
  const upward: MessagingExchange[] = [start];
  for (let at = start; at.parent_exchange_id !== null; ) {
    const parentId = at.parent_exchange_id;
    const parent = byId.get(parentId);
    if (parent === undefined) {
      const msg = `exchange ${at.id} has parent_exchange_id ${parentId}, which is not a known exchange`;
      throw new RoutingError('dangling-parent', [at.id, parentId], msg);
    }
    const loopAt = upward.findIndex((x) => x.id === parentId);
    if (loopAt >= 0) {
      const ids = [...upward.slice(loopAt).map((x) => x.id), parentId];
      throw new RoutingError('cycle', ids, `exchange tree has a cycle (child -> parent): ${ids.join(' -> ')}`);
    }
    upward.push(parent);
    at = parent;
  }
  return upward.reverse();
}

/** Routing key, root name and id of an exchange, from one walk of the tree. */
export function routeFor(exchanges: readonly MessagingExchange[], exchangeId: number): ExchangeRoute {
  const lineage = lineageOf(exchanges, exchangeId);
  // Empty or null fragments are skipped, so no key gets an empty segment such as `aws..builder`.
  const fragments = lineage.map((x) => x.routing_key_fragment ?? '').filter((f) => f !== '');
  return { exchangeId, rootExchangeName: lineage[0]?.name ?? '', routingKey: fragments.join('.') };
}

/** Dot-joined `routing_key_fragment`s from the root to the exchange (reference §4.1), e.g. `aws.us-east-1`. */
export function routingKeyFor(exchanges: readonly MessagingExchange[], exchangeId: number): string {
  return routeFor(exchanges, exchangeId).routingKey;
}

/** Name of the top-most ancestor: the AMQP exchange every publish into this exchange goes to (reference §4.1). */
export function rootExchangeName(exchanges: readonly MessagingExchange[], exchangeId: number): string {
  return routeFor(exchanges, exchangeId).rootExchangeName;
}

/**
 * AMQP key for a publish to `queue`, and the key its queue is bound with: `<routing_key>.<queue>` (reference §4.1).
 * Deliberate difference: with an empty routing key the key is just `<queue>`, matching the default binding (§4.3).
 */
export function publishKeyFor(routingKey: string, queue: string): string {
  if (queue === '') throw new RangeError('queue name must not be empty'); // a caller bug, not bad metadata
  return routingKey === '' ? queue : `${routingKey}.${queue}`;
}

/** Distinct broker ids restricting an exchange, in row order. */
function restrictedBrokers(restrictions: readonly BrokerRestriction[], exchangeId: number): number[] {
  // Deliberate fix (reference §4.4, §10.1 #3): the broker is messaging_broker_id, not the restriction row id.
  const ids = restrictions.filter((r) => r.messaging_exchange_id === exchangeId).map((r) => r.messaging_broker_id);
  return [...new Set(ids)];
}

const isNonEmpty = <T>(xs: readonly T[]): xs is readonly [T, ...T[]] => xs.length > 0;

/** The brokers a publish may use and why, before one is picked; fixed for given metadata, so a sender can keep it. */
export interface BrokerCandidates {
  readonly brokerIds: readonly [number, ...number[]];
  readonly basis: BrokerChoice['basis'];
}

/** Brokers for a publish from exchange `source` into `destination`: destination, source restrictions, own (§4.4). */
export function brokerCandidates(opts: {
  readonly source: number;
  readonly destination: number;
  readonly restrictions: readonly BrokerRestriction[];
  readonly ownBrokerId: number;
}): BrokerCandidates {
  const toDestination = restrictedBrokers(opts.restrictions, opts.destination);
  if (isNonEmpty(toDestination)) return { brokerIds: toDestination, basis: 'destination' };
  const fromSource = restrictedBrokers(opts.restrictions, opts.source);
  if (isNonEmpty(fromSource)) return { brokerIds: fromSource, basis: 'source' };
  return { brokerIds: [opts.ownBrokerId], basis: 'own' };
}

/** One broker of the candidates: `pick` chooses among restricted brokers; the own broker needs no choosing. */
export function pickBroker(candidates: BrokerCandidates, pick: PickOne): BrokerChoice {
  const brokerId = candidates.basis === 'own' ? candidates.brokerIds[0] : pick(candidates.brokerIds);
  return { brokerId, basis: candidates.basis };
}

/** Broker for a publish from exchange `source` into `destination` (reference §4.4). */
export function resolveBroker(opts: Parameters<typeof brokerCandidates>[0] & { readonly pick: PickOne }): BrokerChoice {
  return pickBroker(brokerCandidates(opts), opts.pick);
}

/** One connection row of the broker, chosen by `pick` (reference §4.2). */
function endpointFor(metadata: MessagingMetadata, brokerId: number, pick: PickOne): AmqpEndpoint {
  const rows = metadata.connections.filter((c) => c.messaging_broker_id === brokerId);
  if (!isNonEmpty(rows)) {
    throw new RoutingError('no-connection', [brokerId], `broker ${brokerId} has no connection options`);
  }
  const row = pick(rows);
  return {
    brokerId,
    connectionId: row.id,
    host: row.host,
    ...(row.port === null ? {} : { port: row.port }), // nil port is omitted (§4.2)
    username: row.username,
    password: row.password,
    // A null or empty vhost would open vhost "" on RabbitMQ; its default vhost is "/".
    virtualHost: row.virtual_host === null || row.virtual_host === '' ? '/' : row.virtual_host,
  };
}

/**
 * Connection options and exchange route for `brokerId` and `exchangeId`, with the failover broker's options and the
 * failover exchange's route attached (fixes reference §4.5, where they were dropped). Without a failover exchange the
 * same exchange is used on the failover broker. A dangling failover id or a failover broker without connections is an
 * error: a failover that silently does not exist is the bug we are fixing.
 */
export function connectionTarget(opts: {
  readonly metadata: MessagingMetadata;
  readonly brokerId: number;
  readonly exchangeId: number;
  readonly pick: PickOne;
}): ConnectionTarget {
  const { metadata, brokerId, exchangeId, pick } = opts;
  const broker = metadata.brokers.find((b) => b.id === brokerId);
  if (broker === undefined) {
    throw new RoutingError('unknown-broker', [brokerId], `broker ${brokerId} is not a known broker`);
  }
  const exchange = metadata.exchanges.find((x) => x.id === exchangeId);
  const primary = { endpoint: endpointFor(metadata, brokerId, pick), route: routeFor(metadata.exchanges, exchangeId) };
  const failoverId = broker.failover_broker_id;
  if (failoverId === null) return { primary };
  if (!metadata.brokers.some((b) => b.id === failoverId)) {
    const msg = `broker ${brokerId} has failover_broker_id ${failoverId}, which is not a known broker`;
    throw new RoutingError('unknown-broker', [brokerId, failoverId], msg);
  }
  const failoverExchangeId = exchange?.failover_exchange_id ?? exchangeId;
  if (!metadata.exchanges.some((x) => x.id === failoverExchangeId)) {
    const msg = `exchange ${exchangeId} has failover_exchange_id ${failoverExchangeId}, which is not a known exchange`;
    throw new RoutingError('unknown-exchange', [exchangeId, failoverExchangeId], msg);
  }
  const failover = {
    endpoint: endpointFor(metadata, failoverId, pick),
    route: routeFor(metadata.exchanges, failoverExchangeId),
  };
  return { primary, failover };
}
