/** Consistency of messaging metadata as a whole: ids unique, references resolvable, no cycle in the exchange tree. */
import { isRoutingError, routeFor, type MessagingMetadata } from './routing.js';

interface Row {
  readonly id: number;
}

/** `<table>[i].id: duplicate id N (also <table>[j])` for every repeated id of one table. */
function duplicateIds(table: string, rows: readonly Row[]): string[] {
  const firstAt = new Map<number, number>();
  return rows.flatMap((row, i) => {
    const at = firstAt.get(row.id);
    if (at === undefined) {
      firstAt.set(row.id, i);
      return [];
    }
    return [`${table}[${i}].id: duplicate id ${row.id} (also ${table}[${at}])`];
  });
}

/** One problem when `id` is set but names no row of `target`. */
function dangling(field: string, id: number | null, known: ReadonlySet<number>, target: string): string[] {
  return id === null || known.has(id) ? [] : [`${field}: no ${target} with id ${id}`];
}

/** One problem per cycle in the parent links, on the field of its first member in row order. */
function cycles(metadata: MessagingMetadata): string[] {
  const seen = new Set<string>();
  return metadata.exchanges.flatMap((x, i) => {
    try {
      routeFor(metadata.exchanges, x.id);
      return [];
    } catch (err) {
      // Dangling parents are reported by reference; an exchange merely below a cycle is not in it.
      if (!isRoutingError(err) || err.kind !== 'cycle' || !err.ids.includes(x.id)) return [];
      const key = [...new Set(err.ids)].sort((a, b) => a - b).join(',');
      if (seen.has(key)) return [];
      seen.add(key);
      return [`exchanges[${i}].parent_exchange_id: ${err.message}`];
    }
  });
}

/**
 * Every problem of `metadata` that field-level validation cannot see, each naming its field path, e.g.
 * `brokers[0].failover_broker_id: no broker with id 7`. Empty when the metadata is consistent. The Manager does not
 * check cycles (reference §3.3); a static file is checked before the process subscribes to anything (style R19).
 */
export function findMetadataProblems(metadata: MessagingMetadata): string[] {
  const exchangeIds = new Set(metadata.exchanges.map((x) => x.id));
  const brokerIds = new Set(metadata.brokers.map((b) => b.id));
  return [
    ...duplicateIds('exchanges', metadata.exchanges),
    ...duplicateIds('brokers', metadata.brokers),
    ...duplicateIds('connections', metadata.connections),
    ...duplicateIds('restrictions', metadata.restrictions),
    ...metadata.exchanges.flatMap((x, i) => [
      ...dangling(`exchanges[${i}].parent_exchange_id`, x.parent_exchange_id, exchangeIds, 'exchange'),
      ...dangling(`exchanges[${i}].failover_exchange_id`, x.failover_exchange_id, exchangeIds, 'exchange'),
    ]),
    ...metadata.brokers.flatMap((b, i) => dangling(`brokers[${i}].failover_broker_id`, b.failover_broker_id, brokerIds, 'broker')),
    ...metadata.connections.flatMap((c, i) =>
      dangling(`connections[${i}].messaging_broker_id`, c.messaging_broker_id, brokerIds, 'broker'),
    ),
    ...metadata.restrictions.flatMap((r, i) => [
      ...dangling(`restrictions[${i}].messaging_exchange_id`, r.messaging_exchange_id, exchangeIds, 'exchange'),
      ...dangling(`restrictions[${i}].messaging_broker_id`, r.messaging_broker_id, brokerIds, 'broker'),
    ]),
    ...cycles(metadata),
  ];
}
