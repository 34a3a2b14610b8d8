/**
 * What a process does when its messaging metadata changes (issue 19 item 1): which broker connections stay, which
 * move, which close. Pure (style R2): the old and new metadata and what the transport holds in, a plan out.
 */
import { findMetadataProblems } from './metadata-references.js';
import { connectionTarget, isRoutingError, routeFor, type ExchangeRoute, type MessagingBrokerConnection, type MessagingMetadata, type PickOne } from './routing.js';

/** Where this process sits: BROKER_ID and EXCHANGE_ID. */
export interface OwnPlace {
  readonly brokerId: number;
  readonly exchangeId: number;
}

/** What one broker link of the transport uses now: the connection rows it chose (reference §4.2 picks one). */
export interface LinkView {
  readonly brokerId: number;
  /** The exchange the link was opened for; its route is what the link's consumers are bound with (own link). */
  readonly exchangeId: number;
  readonly primaryConnectionId: number;
  /** The failover broker's connection row the link switches (or has switched) to, when it has a failover. */
  readonly failover?: { readonly brokerId: number; readonly connectionId: number };
}

/**
 * - `keep`: nothing the link uses changed (its cached routes are dropped when exchanges changed).
 * - `retarget-failover`: the primary stays connected; the failover target is replaced (and opened at once when the
 *   primary is already down past the retry count).
 * - `reconnect`: the primary's connection row, or the own exchange's route its consumers are bound with, changed.
 * - `close`: the broker (or what the link needs to reach it) is gone; a later publish resolves again.
 */
export type LinkAction =
  | { readonly brokerId: number; readonly action: 'keep' }
  | { readonly brokerId: number; readonly action: 'retarget-failover' | 'reconnect' | 'close'; readonly reason: string };

export interface MetadataChangePlan {
  /** False when the new metadata is the old one: nothing to do, nothing to log. */
  readonly changed: boolean;
  /** Why this process cannot use the new metadata (each naming its variable or field); when any, keep the old. */
  readonly problems: readonly string[];
  /** Exchanges differ: routes cached per exchange are dropped. */
  readonly routesChanged: boolean;
  /** Restrictions differ: broker choices cached per destination are dropped (reference §4.4). */
  readonly restrictionsChanged: boolean;
  readonly links: readonly LinkAction[];
}

const first: PickOne = (xs) => xs[0];

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Rows by id, columns in one order: the same tables compare equal whichever way a provider listed them. */
function canonical(m: MessagingMetadata): [unknown[], unknown[], unknown[], unknown[]] {
  const byId = <T extends { readonly id: number }>(rows: readonly T[], columns: (row: T) => unknown[]) => [...rows].sort((a, b) => a.id - b.id).map(columns);
  return [
    byId(m.exchanges, (x) => [x.id, x.name, x.parent_exchange_id, x.routing_key_fragment, x.failover_exchange_id]),
    byId(m.brokers, (b) => [b.id, b.name, b.failover_broker_id]),
    byId(m.connections, connectionColumns),
    byId(m.restrictions, (r) => [r.id, r.messaging_exchange_id, r.messaging_broker_id]),
  ];
}

/** The same tables, whatever the order of their rows. */
export const sameMetadata = (a: MessagingMetadata, b: MessagingMetadata): boolean => sameJson(canonical(a), canonical(b));

const connectionColumns = (c: MessagingBrokerConnection): unknown[] => [c.id, c.messaging_broker_id, c.username, c.password, c.host, c.port, c.virtual_host];

/** Same connection options: a row edited in place (new password, host, vhost) is another connection. */
function sameConnection(a: MessagingBrokerConnection | undefined, b: MessagingBrokerConnection | undefined): boolean {
  return a !== undefined && b !== undefined && sameJson(connectionColumns(a), connectionColumns(b));
}

const connectionOf = (m: MessagingMetadata, id: number): MessagingBrokerConnection | undefined => m.connections.find((c) => c.id === id);

/** A route, or undefined when the metadata cannot give one (checked elsewhere). */
function routeOrNone(m: MessagingMetadata, exchangeId: number): ExchangeRoute | undefined {
  try {
    return routeFor(m.exchanges, exchangeId);
  } catch (err) {
    if (isRoutingError(err)) return undefined;
    throw err;
  }
}

/** The exchange whose route the own consumers use on the failover broker (reference §4.5: the failover exchange). */
const failoverExchangeOf = (m: MessagingMetadata, exchangeId: number): number => m.exchanges.find((x) => x.id === exchangeId)?.failover_exchange_id ?? exchangeId;

/**
 * Why this process (BROKER_ID, EXCHANGE_ID) cannot run on `metadata` from `source`: the tables are inconsistent,
 * or its own exchange or broker cannot be reached through them. Empty when it can.
 */
export function metadataProblemsFor(metadata: MessagingMetadata, own: OwnPlace, source: string): string[] {
  const problems = findMetadataProblems(metadata);
  if (problems.length > 0) return problems.map((p) => `${source}: ${p}`);
  if (!metadata.exchanges.some((x) => x.id === own.exchangeId)) return [`EXCHANGE_ID: exchange ${own.exchangeId} is not in the messaging metadata of ${source}`];
  if (!metadata.brokers.some((b) => b.id === own.brokerId)) return [`BROKER_ID: broker ${own.brokerId} is not in the messaging metadata of ${source}`];
  try {
    connectionTarget({ metadata, brokerId: own.brokerId, exchangeId: own.exchangeId, pick: first });
    return [];
  } catch (err) {
    if (!isRoutingError(err)) throw err;
    return [`BROKER_ID: broker ${own.brokerId} cannot be reached through the messaging metadata of ${source}: ${err.message}`];
  }
}

/** What to do with one link: its primary row, the own route, its failover target (in that order of weight). */
function actionFor(prev: MessagingMetadata, next: MessagingMetadata, link: LinkView, own: OwnPlace): LinkAction {
  const { brokerId } = link;
  const broker = next.brokers.find((b) => b.id === brokerId);
  if (broker === undefined) return { brokerId, action: 'close', reason: `broker ${brokerId} was removed` };
  try {
    connectionTarget({ metadata: next, brokerId, exchangeId: link.exchangeId, pick: first });
  } catch (err) {
    if (!isRoutingError(err)) throw err;
    return { brokerId, action: 'close', reason: err.message };
  }
  if (!sameConnection(connectionOf(prev, link.primaryConnectionId), connectionOf(next, link.primaryConnectionId))) {
    return { brokerId, action: 'reconnect', reason: `connection ${link.primaryConnectionId} of broker ${brokerId} changed or was removed` };
  }
  const isOwn = brokerId === own.brokerId;
  if (isOwn && !sameJson(routeOrNone(prev, own.exchangeId), routeOrNone(next, own.exchangeId))) {
    return { brokerId, action: 'reconnect', reason: `the route of exchange ${own.exchangeId} changed` };
  }
  const failoverId = broker.failover_broker_id;
  if (link.failover === undefined) {
    return failoverId === null ? { brokerId, action: 'keep' } : { brokerId, action: 'retarget-failover', reason: `broker ${brokerId} now fails over to broker ${failoverId}` };
  }
  if (failoverId === null) return { brokerId, action: 'retarget-failover', reason: `broker ${brokerId} no longer has a failover broker` };
  if (failoverId !== link.failover.brokerId) {
    return { brokerId, action: 'retarget-failover', reason: `broker ${brokerId} now fails over to broker ${failoverId}, not ${link.failover.brokerId}` };
  }
  const row = link.failover.connectionId;
  if (!sameConnection(connectionOf(prev, row), connectionOf(next, row))) {
    return { brokerId, action: 'retarget-failover', reason: `connection ${row} of failover broker ${failoverId} changed or was removed` };
  }
  const failoverRoute = (m: MessagingMetadata) => routeOrNone(m, failoverExchangeOf(m, own.exchangeId));
  if (isOwn && !sameJson(failoverRoute(prev), failoverRoute(next))) {
    return { brokerId, action: 'retarget-failover', reason: `the failover route of exchange ${own.exchangeId} changed` };
  }
  return { brokerId, action: 'keep' };
}

/**
 * The plan for going from `prev` to `next` with the transport's links as they are. When `next` has problems for
 * this process, every link is kept and the problems say why (a bad edit in the Manager must not take a running
 * process down; the old metadata keeps working until the edit is fixed).
 */
export function planMetadataChange(opts: {
  readonly prev: MessagingMetadata;
  readonly next: MessagingMetadata;
  readonly links: readonly LinkView[];
  readonly own: OwnPlace;
  /** Named in problems: where `next` came from. */
  readonly source: string;
}): MetadataChangePlan {
  const { prev, next, links, own } = opts;
  const keepAll = links.map((l): LinkAction => ({ brokerId: l.brokerId, action: 'keep' }));
  const [prevTables, nextTables] = [canonical(prev), canonical(next)];
  if (sameJson(prevTables, nextTables)) return { changed: false, problems: [], routesChanged: false, restrictionsChanged: false, links: keepAll };
  const problems = metadataProblemsFor(next, own, opts.source);
  if (problems.length > 0) return { changed: true, problems, routesChanged: false, restrictionsChanged: false, links: keepAll };
  return {
    changed: true,
    problems: [],
    routesChanged: !sameJson(prevTables[0], nextTables[0]),
    restrictionsChanged: !sameJson(prevTables[3], nextTables[3]),
    links: links.map((l) => actionFor(prev, next, l, own)),
  };
}
