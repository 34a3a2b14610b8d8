import type { EntityManager, EntitySchema, RequiredEntityData } from '@mikro-orm/core';
import { redactSecrets } from './app.js';
import { hashSecret, newClientSecret } from './auth.js';
import {
  PLATFORM_COMPONENT_TYPES,
  planBootstrap,
  resolveBootstrapOptions,
  type BootstrapItem,
  type BootstrapOptions,
  type BootstrapSettings,
  type Creation,
  type ExistingKeys,
  keyOf,
} from './core/bootstrap-plan.js';
import { sameText } from './routes/clusters.js';
import { parseDockerUrl } from './routes/cluster-hosts.js';
import { keyNameOf, type SecretBox } from './secrets.js';
import { ApiClientSchema, AuditEventSchema } from '../entities/auth.js';
import { ClusterHostSchema, EtcdClusterSchema, type ClusterHost, type EtcdCluster } from '../entities/clusters.js';
import { MessagingBrokerConnectionSchema, MessagingBrokerSchema, MessagingExchangeSchema } from '../entities/messaging.js';
import { SystemComponentRefSchema } from '../entities/system.js';

export type { BootstrapItem, BootstrapOptions } from './core/bootstrap-plan.js';
export { BootstrapOptionsInvalid, isBootstrapOptionsInvalid } from './core/bootstrap-plan.js';

/** An API client's credentials; the secret exists in clear only here, once (it is stored hashed). */
export interface AdminCredentials {
  readonly client_id: string;
  readonly client_secret: string;
}

/** What a bootstrap run did, as data for the caller to print. */
export interface BootstrapReport {
  readonly created: readonly BootstrapItem[];
  readonly present: readonly BootstrapItem[];
  /** Ids the components are configured with (EXCHANGE_ID, BROKER_ID) and the cluster's. */
  readonly exchangeId: number;
  readonly brokerId: number;
  readonly clusterId: number;
  /** Only when this run created the admin client: its secret cannot be shown again. */
  readonly adminClient?: AdminCredentials;
}

const ADMIN_CLIENT_NAME = 'first administrator (bootstrap)';

/**
 * First start (replaces seed 000's manual SQL, design §2): when no API client exists, an `admin` one is created and
 * its secret returned, to be shown once. Idempotent: later starts return undefined and change nothing.
 */
export async function ensureAdminClient(em: EntityManager): Promise<AdminCredentials | undefined> {
  return em.transactional(async (tx) => {
    if ((await tx.count(ApiClientSchema, {})) > 0) return undefined;
    const client_secret = newClientSecret();
    tx.create(ApiClientSchema, { client_id: 'admin', name: ADMIN_CLIENT_NAME, secret_hash: hashSecret(client_secret), role: 'admin', disabled_at: null });
    await tx.flush();
    return { client_id: 'admin', client_secret };
  });
}

/** The embedded default's own components (all-in-one) reach the Manager with this client; its secret lives in the data directory. */
export const PLATFORM_CLIENT_NAME = 'platform components (embedded)';

/**
 * Makes the API client the in-process components use exist with this secret (an admin: the workers read host keys
 * and broker credentials). Idempotent; a changed secret file is taken as the new secret.
 */
export async function ensurePlatformClient(em: EntityManager, credentials: { readonly clientId: string; readonly clientSecret: string }): Promise<void> {
  await em.transactional(async (tx) => {
    const existing = await tx.findOne(ApiClientSchema, { client_id: credentials.clientId });
    const secret_hash = hashSecret(credentials.clientSecret);
    if (existing) Object.assign(existing, { secret_hash, role: 'admin', disabled_at: null });
    else tx.create(ApiClientSchema, { client_id: credentials.clientId, name: PLATFORM_CLIENT_NAME, secret_hash, role: 'admin', disabled_at: null });
    await tx.flush();
  });
}

/** Which cluster host URLs bootstrap accepts: the cluster-hosts route's forms, and an ssh one must name its user there. */
function dockerUrlProblem(url: string): string | undefined {
  const parsed = parseDockerUrl(url);
  if (!parsed.ok) return parsed.problem;
  return parsed.scheme === 'ssh' && parsed.user === undefined ? 'an ssh host needs a user: ssh://user@host[:port]' : undefined;
}

/**
 * Creates what a fresh platform needs and does not have yet (issue 4 item 5): the first exchange, a broker with its
 * connection (password sealed), a cluster with its local Docker host, a system component ref per platform component
 * type, and the admin API client. What exists (by natural key, see planBootstrap) is never changed, so a second run
 * changes nothing. Bad options throw BootstrapOptionsInvalid before the database is touched; any failure after that
 * rolls the whole run back.
 */
export async function bootstrapPlatform(em: EntityManager, secrets: SecretBox, options: BootstrapOptions = {}): Promise<BootstrapReport> {
  const settings = resolveBootstrapOptions(options, { dockerUrlProblem });
  return em.transactional(async (tx) => {
    // Two Managers starting together on one database would otherwise both find nothing and both create.
    await tx.getConnection().execute('select pg_advisory_xact_lock(hashtext(?))', ['openaperture:bootstrap'], 'all', tx.getTransactionContext());
    const { keys, ids } = await loadExisting(tx, settings);
    const plan = planBootstrap(settings, keys);
    let adminClient: AdminCredentials | undefined;
    for (const creation of plan.create) {
      const done = await create(tx, creation, ids, secrets);
      audit(tx, creation, done);
      adminClient = done.admin ?? adminClient;
    }
    const report = {
      created: plan.create.map((c) => ({ kind: c.kind, key: keyOf(c) })),
      present: plan.present,
      exchangeId: required(ids.exchange, 'exchange'),
      brokerId: required(ids.broker, 'broker'),
      clusterId: required(ids.cluster, 'cluster'),
    };
    return adminClient === undefined ? report : { ...report, adminClient };
  });
}

/** Ids of the rows later creations point at, found or created. */
interface Ids {
  exchange: number | undefined;
  broker: number | undefined;
  cluster: number | undefined;
}

function required(id: number | undefined, what: string): number {
  // planBootstrap orders creations by dependency, so a missing id is a bug, not a state of the database.
  if (id === undefined) throw new Error(`bootstrap: no ${what} id after planning (a bug)`);
  return id;
}

/** The rows found under the natural keys of `s`: their keys for the plan, and the ids later rows point at. */
async function loadExisting(tx: EntityManager, s: BootstrapSettings): Promise<{ keys: ExistingKeys; ids: Ids }> {
  const first = { orderBy: { id: 'asc' } } as const;
  const exchange = await tx.findOne(MessagingExchangeSchema, { name: s.exchangeName }, first);
  const broker = await tx.findOne(MessagingBrokerSchema, { name: s.brokerName }, first);
  const connections = broker ? await tx.count(MessagingBrokerConnectionSchema, { messaging_broker_id: broker.id }) : 0;
  const cluster = await tx.findOne(EtcdClusterSchema, sameText<EtcdCluster>('etcd_token', s.etcdToken), first);
  const hosts = cluster ? await tx.find(ClusterHostSchema, { $and: [{ etcd_cluster_id: cluster.id }, sameText<ClusterHost>('name', s.hostName)] }) : [];
  const refs = await tx.find(SystemComponentRefSchema, { type: { $in: [...PLATFORM_COMPONENT_TYPES] } });
  const clients = await tx.find(ApiClientSchema, { client_id: s.adminClientId });
  const keys: ExistingKeys = {
    exchangeNames: exchange ? [exchange.name] : [],
    brokers: broker ? [{ name: broker.name, connections }] : [],
    clusterTokens: cluster ? [cluster.etcd_token] : [],
    hosts: cluster ? hosts.map((h) => ({ etcdToken: cluster.etcd_token, name: h.name })) : [],
    refTypes: refs.map((r) => r.type),
    clientIds: clients.map((c) => c.client_id),
  };
  return { keys, ids: { exchange: exchange?.id, broker: broker?.id, cluster: cluster?.id } };
}

/** Inserts one row; its id is known after the flush. */
async function insert<T extends { id: number }>(tx: EntityManager, schema: EntitySchema<T>, data: RequiredEntityData<T>): Promise<number> {
  const row = tx.create(schema, data);
  await tx.flush();
  return row.id;
}

/** The item names the routes audit these rows under, so one filter finds a row's whole history. */
const AUDIT_ITEM: Record<Creation['kind'], string> = {
  exchange: 'Exchange',
  broker: 'Broker',
  broker_connection: 'BrokerConnection',
  cluster: 'EtcdCluster',
  cluster_host: 'ClusterHost',
  system_component_ref: 'SystemComponentRef',
  api_client: 'ApiClient',
};

interface Created {
  readonly id: number;
  /** The columns written, for the audit row (secrets redacted there). */
  readonly after: object;
  readonly admin?: AdminCredentials;
}

/** Every mutation leaves an audit row (issue 4 item 3); bootstrap's say who made the platform's first rows. */
function audit(tx: EntityManager, c: Creation, done: Created): void {
  const diff = JSON.stringify(redactSecrets({ after: done.after }));
  tx.create(AuditEventSchema, { actor: 'bootstrap', actor_role: 'admin', action: 'BOOTSTRAP', target_type: AUDIT_ITEM[c.kind], target_id: String(done.id), diff });
}

/** Carries out one creation, recording the ids later creations point at. */
async function create(tx: EntityManager, c: Creation, ids: Ids, secrets: SecretBox): Promise<Created> {
  switch (c.kind) {
    case 'exchange': {
      const after = { name: c.name, failover_exchange_id: null, parent_exchange_id: null, routing_key_fragment: '' };
      ids.exchange = await insert(tx, MessagingExchangeSchema, after);
      return { id: ids.exchange, after };
    }
    case 'broker': {
      const after = { name: c.name, failover_broker_id: null };
      ids.broker = await insert(tx, MessagingBrokerSchema, after);
      return { id: ids.broker, after };
    }
    case 'broker_connection': {
      const password = secrets.seal(c.connection.password);
      // The key name beside the value (reference §2.1 meant to store it and never did).
      const after = { ...c.connection, password, password_keyname: keyNameOf(password) ?? null, messaging_broker_id: required(ids.broker, 'broker') };
      return { id: await insert(tx, MessagingBrokerConnectionSchema, after), after };
    }
    case 'cluster': {
      const exchange = required(ids.exchange, 'exchange');
      // One machine builds as well as runs: with no build cluster no workflow could build (reference §5.4).
      const after = { etcd_token: c.etcdToken, name: c.name, hosting_provider_id: null, allow_docker_builds: true, messaging_exchange_id: exchange };
      ids.cluster = await insert(tx, EtcdClusterSchema, after);
      return { id: ids.cluster, after };
    }
    case 'cluster_host': {
      const cluster = required(ids.cluster, 'cluster');
      const after = { ...NO_HOST_SECRETS, etcd_cluster_id: cluster, name: c.name, docker_url: c.dockerUrl, labels: '{}', status: 'active' as const };
      return { id: await insert(tx, ClusterHostSchema, after), after };
    }
    case 'system_component_ref': {
      const after = { type: c.type, source_repo: c.source_repo, source_repo_git_ref: c.source_repo_git_ref, auto_upgrade_enabled: c.auto_upgrade_enabled };
      return { id: await insert(tx, SystemComponentRefSchema, after), after };
    }
    case 'api_client': {
      const client_secret = newClientSecret();
      const after = { client_id: c.clientId, name: ADMIN_CLIENT_NAME, secret_hash: hashSecret(client_secret), role: 'admin' as const, disabled_at: null };
      return { id: await insert(tx, ApiClientSchema, after), after, admin: { client_id: c.clientId, client_secret } };
    }
  }
}

/** A local host is reached over the socket or plain tcp: no TLS material, and an ssh URL carries its user. */
const NO_HOST_SECRETS = {
  tls_ca: null,
  tls_ca_keyname: null,
  tls_cert: null,
  tls_cert_keyname: null,
  tls_private_key: null,
  tls_private_key_keyname: null,
  ssh_user: null,
  ssh_private_key: null,
  ssh_private_key_keyname: null,
} as const;
