/**
 * The Manager-backed messaging metadata provider (issue 3 item 7, issue 4 item 7; reference §4.1, §4.2, §4.4): every
 * exchange, broker, connection and restriction, read through the typed client, all pages. A process reads it at
 * start, every OA_MESSAGING_REFRESH_S and on `messaging_changed` (runtime/messaging/metadata-source.ts, issue 19).
 *
 * The component's API client must be an **admin**: the Manager returns broker passwords to admins only (design §2),
 * and a connection without its password cannot be used. A non-admin client gets a MessagingMetadataError saying so.
 */
import { findMetadataProblems } from '../../runtime/messaging/core/metadata-references.js';
import type { BrokerRestriction, MessagingBrokerConnection, MessagingMetadata } from '../../runtime/messaging/core/routing.js';
import { MessagingMetadataError, type MessagingMetadataProvider } from '../../runtime/messaging/metadata.js';
import type { MetadataOrigin } from '../../runtime/messaging/open.js';
import type { ManagerAccess } from '../../runtime/config.js';
import type { Logger } from '../../runtime/logger.js';
import { managerClient, type ManagerClient } from './manager-client.js';
import { MAX_PAGE_SIZE, readAllPages } from './replies.js';
import type { BrokerConnection } from './schemas.js';

export interface ManagerMetadataOptions {
  /** Only the messaging part of the client is read. */
  readonly client: Pick<ManagerClient, 'exchanges' | 'brokers'>;
  /** Named in errors: where the metadata came from (the Manager's URL). */
  readonly source: string;
  /** Rows per request; the Manager's maximum by default. */
  readonly pageSize?: number;
  /** Per-broker and per-exchange requests in flight at once. */
  readonly concurrency?: number;
}

/** `fn` over `items`, at most `limit` at a time, results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The connection rows the routing core can use, and one problem naming those whose password was withheld. */
function usableConnections(rows: readonly BrokerConnection[]): { connections: MessagingBrokerConnection[]; problems: string[] } {
  const connections: MessagingBrokerConnection[] = [];
  const withheld: number[] = [];
  for (const { id, messaging_broker_id, username, password, host, port, virtual_host } of rows) {
    if (password === null) withheld.push(id);
    else connections.push({ id, messaging_broker_id, username, password, host, port, virtual_host });
  }
  const problems =
    withheld.length === 0 ? [] : [`connections ${withheld.join(', ')}: passwords withheld by the Manager; the component's API client must have the admin role`];
  return { connections, problems };
}

export function managerMetadataProvider(opts: ManagerMetadataOptions): MessagingMetadataProvider {
  const pageSize = opts.pageSize ?? MAX_PAGE_SIZE;
  const concurrency = opts.concurrency ?? 4;
  const { exchanges: exchangesOf, brokers: brokersOf } = opts.client;
  return {
    async load(): Promise<MessagingMetadata> {
      const [exchangeRows, brokerRows] = await Promise.all([
        readAllPages((w) => exchangesOf.list(w), pageSize),
        readAllPages((w) => brokersOf.list(w), pageSize),
      ]);
      // One request per broker and per exchange: the Manager has no route listing all connections or restrictions.
      const [connectionRows, restrictionRows] = await Promise.all([
        mapLimited(brokerRows, concurrency, (b) => readAllPages((w) => brokersOf.connections(b.id, w), pageSize)),
        mapLimited(exchangeRows, concurrency, (x) => readAllPages((w) => exchangesOf.restrictions(x.id, w), pageSize)),
      ]);
      const { connections, problems } = usableConnections(connectionRows.flat());
      // The Manager's computed routing_key and root_exchange_name are left out: the routing core derives them itself.
      const metadata: MessagingMetadata = {
        exchanges: exchangeRows.map(({ id, name, parent_exchange_id, routing_key_fragment, failover_exchange_id }) => ({
          id,
          name,
          parent_exchange_id,
          routing_key_fragment,
          failover_exchange_id,
        })),
        brokers: brokerRows.map(({ id, name, failover_broker_id }) => ({ id, name, failover_broker_id })),
        connections,
        restrictions: restrictionRows.flat().map(({ id, messaging_exchange_id, messaging_broker_id }): BrokerRestriction => ({ id, messaging_exchange_id, messaging_broker_id })),
      };
      // Pages are read one after another, not in one transaction: an edit made meanwhile may leave a dangling link.
      problems.push(...findMetadataProblems(metadata));
      if (problems.length > 0) throw new MessagingMetadataError(opts.source, problems);
      return metadata;
    },
  };
}

/** Where a process configured as seed 000 says (MANAGER_URL, OAUTH_*) reads its messaging metadata: the Manager's API. */
export function managerMetadataOrigin(access: ManagerAccess, log: Logger): MetadataOrigin {
  return {
    provider: managerMetadataProvider({ client: managerClient({ ...access, log }), source: access.baseUrl }),
    describe: `the Manager at ${access.baseUrl}`,
    variable: 'MANAGER_URL',
  };
}
