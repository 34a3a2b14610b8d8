import { ForeignKeyConstraintViolationException, raw, UniqueConstraintViolationException, type EntityManager, type FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, InvalidRequestError, NotFoundError, type FieldProblem } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { CONTROL_CHARACTERS, IdParams, Name, OptionalId } from '../schemas/common.js';
import { ClusterHostSchema, CloudProviderSchema, DEFAULT_PORT_RANGE, EtcdClusterPortSchema, EtcdClusterSchema, type EtcdCluster } from '../../entities/clusters.js';
import { MessagingExchangeSchema } from '../../entities/messaging.js';
import { definedFields } from '../../runtime/core/objects.js';

/**
 * Clusters (reference §3.2). The FleetManager RPC routes (machines, units, state, logs, restart, nodes) are in
 * cluster-units.ts; `GET /clusters/:etcd_token/products` belongs to the products routes.
 */

// Tokens appear in paths and `Location`, so they keep to URL-safe characters (the original took anything).
const Token = z.string().trim().min(1).max(255).regex(/^[A-Za-z0-9._~-]+$/, 'only letters, digits and . _ ~ - are allowed');

/** A token in a path: matched case-insensitively (reference §3.1); anything no token can be is a 400, not a lookup. */
export const TokenParams = z.strictObject({ etcd_token: Token });
export type TokenParams = z.infer<typeof TokenParams>;

/** A name without control characters: PostgreSQL refuses NUL in text, which would be a 500 instead of a 400. */
export const Text = (max = 255) => Name(max).regex(new RegExp(`^[^${CONTROL_CHARACTERS}]*$`), 'must not contain control characters');

/**
 * `true` keeps clusters that allow Docker builds, `false` the others (null counts as false). Reference §3.2 ignored
 * anything but `true` on `/clusters`; we read `false` as §3.3 does on the exchange's list, the same on both routes.
 */
const ClusterListQuery = PageQuery.extend({ allow_docker_builds: z.enum(['true', 'false']).optional() });
type ClusterListQuery = z.infer<typeof ClusterListQuery>;

/** Host ports a cluster's containers publish on (issue 15 item 5): not the privileged ones below 1024. */
const HostPort = z.number().int().min(1_024, 'must be at least 1024').max(65_535, 'must be at most 65535');

/**
 * What an operator may change of a cluster. `bind_address` is an IP literal every host has: 0.0.0.0 (every
 * interface), 127.0.0.1 (only the host itself, e.g. its router), `::`/`::1` for IPv6; null leaves it to each Docker
 * host's default (its daemon.json `ip`, 0.0.0.0 unless set).
 */
const ClusterSettings = z.strictObject({
  name: Text().nullable().optional(),
  hosting_provider_id: OptionalId,
  allow_docker_builds: z.boolean().nullable().optional(),
  messaging_exchange_id: OptionalId,
  port_range_start: HostPort.optional(),
  port_range_end: HostPort.optional(),
  bind_address: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address, e.g. 0.0.0.0 or 127.0.0.1' }).nullable().optional(),
});
type ClusterSettings = z.infer<typeof ClusterSettings>;

const ClusterBody = ClusterSettings.extend({ etcd_token: Token });
type ClusterBody = z.infer<typeof ClusterBody>;

export const clusterJson = (c: EtcdCluster) => ({
  id: c.id,
  etcd_token: c.etcd_token,
  name: c.name,
  hosting_provider_id: c.hosting_provider_id,
  allow_docker_builds: c.allow_docker_builds,
  messaging_exchange_id: c.messaging_exchange_id,
  port_range_start: c.port_range_start,
  port_range_end: c.port_range_end,
  bind_address: c.bind_address,
  inserted_at: c.inserted_at,
  updated_at: c.updated_at,
});

/** The `/clusters` path of a cluster. */
export const clusterPath = (c: EtcdCluster): string => `/clusters/${encodeURIComponent(c.etcd_token)}`;

/** Rows whose `column` equals `value` ignoring case, without LIKE's wildcards. */
export function sameText<T extends object>(column: string, value: string): FilterQuery<T> {
  return { [raw(`lower(${column})`)]: value.toLowerCase() } as FilterQuery<T>;
}

/** The cluster of a path token, case-insensitively (reference §2.2). */
export async function clusterOr404(em: EntityManager, token: string): Promise<EtcdCluster> {
  const cluster = await em.findOne(EtcdClusterSchema, sameText<EtcdCluster>('etcd_token', token));
  if (!cluster) throw new NotFoundError('EtcdCluster');
  return cluster;
}

/** A 409 that is not about a taken identifier: errors.ts has only the "already exists" wording. */
export function inUse(item: string, message: string): ConflictError {
  const err = new ConflictError(item);
  err.message = message;
  return err;
}

/** Flushes; when a unique index refuses the write (a concurrent twin passed the same check), the loser gets the 409 too. */
export async function flushUnique(em: EntityManager, conflict: () => Error): Promise<void> {
  try {
    await em.flush();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    const refusal = conflict();
    refusal.cause = err;
    throw refusal;
  }
}

/** The `allow_docker_builds` filter of a list query. */
function buildFilter(value: 'true' | 'false' | undefined): { allow_docker_builds?: true; $or?: Array<{ allow_docker_builds: false | null }> } {
  if (value === undefined) return {};
  // Spelled out: SQL's `<> true` would drop the nulls.
  return value === 'true' ? { allow_docker_builds: true } : { $or: [{ allow_docker_builds: false }, { allow_docker_builds: null }] };
}

/** The range a change leaves: a start after its end is refused naming the field the change set. */
function rangeProblem(range: { start: number; end: number }, body: ClusterSettings): FieldProblem | undefined {
  if (range.start <= range.end) return undefined;
  const field = body.port_range_end === undefined ? 'port_range_start' : 'port_range_end';
  return { field, message: `${field}: the range ${range.start}-${range.end} is empty (port_range_start must not be above port_range_end)` };
}

async function checkLinks(em: EntityManager, body: ClusterSettings, range: { start: number; end: number }): Promise<void> {
  const problems: FieldProblem[] = [];
  const empty = rangeProblem(range, body);
  if (empty) problems.push(empty);
  // "Invalid Cloud Provider" is the original's message (reference §2.2).
  if (body.hosting_provider_id != null && !(await em.findOne(CloudProviderSchema, { id: body.hosting_provider_id }))) {
    problems.push({ field: 'hosting_provider_id', message: `hosting_provider_id: Invalid Cloud Provider (${body.hosting_provider_id} does not exist)` });
  }
  if (body.messaging_exchange_id != null && !(await em.findOne(MessagingExchangeSchema, { id: body.messaging_exchange_id }))) {
    problems.push({ field: 'messaging_exchange_id', message: `messaging_exchange_id: exchange ${body.messaging_exchange_id} does not exist` });
  }
  if (problems.length > 0) throw new InvalidRequestError('EtcdCluster', problems);
}

const list = defineRoute<BaseDeps, Record<string, never>, ClusterListQuery>({
  method: 'get',
  path: '/clusters',
  summary: 'List clusters',
  tag: 'clusters',
  access: 'viewer',
  item: 'EtcdCluster',
  query: ClusterListQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, EtcdClusterSchema, buildFilter(query.allow_docker_builds), query);
    return { status: 200, body: rows.map(clusterJson), total };
  },
});

const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, ClusterBody>({
  method: 'post',
  path: '/clusters',
  summary: 'Register a cluster',
  tag: 'clusters',
  access: 'admin',
  item: 'EtcdCluster',
  body: ClusterBody,
  response: z.string(),
  async handle({ body }, { em }) {
    const range = { start: body.port_range_start ?? DEFAULT_PORT_RANGE.start, end: body.port_range_end ?? DEFAULT_PORT_RANGE.end };
    await checkLinks(em, body, range);
    // Deliberate fix (reference §3.2): a taken token is a 409, not the original's 500.
    if (await em.findOne(EtcdClusterSchema, sameText<EtcdCluster>('etcd_token', body.etcd_token))) throw new ConflictError('EtcdCluster', `etcd_token ${body.etcd_token}`);
    const cluster = em.create(EtcdClusterSchema, {
      etcd_token: body.etcd_token,
      name: body.name ?? null,
      hosting_provider_id: body.hosting_provider_id ?? null,
      allow_docker_builds: body.allow_docker_builds ?? null,
      messaging_exchange_id: body.messaging_exchange_id ?? null,
      port_range_start: range.start,
      port_range_end: range.end,
      bind_address: body.bind_address ?? null,
    });
    await flushUnique(em, () => new ConflictError('EtcdCluster', `etcd_token ${body.etcd_token}`));
    return { status: 201, location: clusterPath(cluster), body: `Registered id ${cluster.id}` };
  },
});

const show = defineRoute<BaseDeps, TokenParams>({
  method: 'get',
  path: '/clusters/:etcd_token',
  summary: 'Show a cluster',
  tag: 'clusters',
  access: 'viewer',
  item: 'EtcdCluster',
  params: TokenParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: clusterJson(await clusterOr404(em, params.etcd_token)) }),
});

/**
 * New (reference §3.2 has no update): changes the fields given, the token excepted. A narrower port range keeps the
 * allocations outside it (their containers hold them) and allocates only inside it from then on.
 */
const update = defineRoute<BaseDeps, TokenParams, Record<string, never>, ClusterSettings>({
  method: 'put',
  path: '/clusters/:etcd_token',
  summary: 'Change a cluster',
  tag: 'clusters',
  access: 'admin',
  item: 'EtcdCluster',
  params: TokenParams,
  body: ClusterSettings,
  async handle({ params, body }, { em }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    await checkLinks(em, body, { start: body.port_range_start ?? cluster.port_range_start, end: body.port_range_end ?? cluster.port_range_end });
    em.assign(cluster, definedFields(body));
    await em.flush();
    return { status: 204, location: clusterPath(cluster) };
  },
});

/** Product ids linking a cluster; `product_clusters` belongs to the products aggregate (reference §2.3), hence SQL. */
async function linkedProducts(em: EntityManager, clusterId: number): Promise<number[]> {
  const conn = em.getConnection();
  const ctx = em.getTransactionContext();
  const found: Array<{ present: boolean }> = await conn.execute(`select to_regclass('product_clusters') is not null as present`, [], 'all', ctx);
  if (!found[0]?.present) return [];
  const rows: Array<{ product_id: number }> = await conn.execute('select distinct product_id from product_clusters where etcd_cluster_id = ? order by product_id', [clusterId], 'all', ctx);
  return rows.map((r) => r.product_id);
}

/** Reference §3.2 answered 500 on any link; we cascade the cluster's own rows and refuse with 409 while products link it. */
const remove = defineRoute<BaseDeps, TokenParams>({
  method: 'delete',
  path: '/clusters/:etcd_token',
  summary: 'Delete a cluster',
  tag: 'clusters',
  access: 'admin',
  item: 'EtcdCluster',
  params: TokenParams,
  async handle({ params }, { em }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const products = await linkedProducts(em, cluster.id);
    const refuse = (by: string) => inUse('EtcdCluster', `EtcdCluster ${cluster.etcd_token} is still linked by ${by}; unlink it first`);
    if (products.length > 0) throw refuse(`product(s) ${products.join(', ')}`);
    await em.nativeDelete(ClusterHostSchema, { etcd_cluster_id: cluster.id });
    await em.nativeDelete(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id });
    try {
      await em.nativeDelete(EtcdClusterSchema, { id: cluster.id });
    } catch (err) {
      // A link made since the check, or by a table added later: still a refusal, not a 500.
      if (err instanceof ForeignKeyConstraintViolationException) throw refuse(/from table "([^"]+)"/.exec(err.message)?.[1] ?? 'another table');
      throw err;
    }
    return { status: 204 };
  },
});

const exchangeClusters = defineRoute<BaseDeps, z.infer<typeof IdParams>, ClusterListQuery>({
  method: 'get',
  path: '/messaging/exchanges/:id/clusters',
  summary: 'List the clusters of an exchange',
  tag: 'clusters',
  access: 'viewer',
  item: 'Exchange',
  params: IdParams,
  query: ClusterListQuery,
  async handle({ params, query }, { em }) {
    // An unknown exchange is a 404, not an empty list: a typo in the id should not read as "no clusters".
    if (!(await em.findOne(MessagingExchangeSchema, { id: params.id }))) throw new NotFoundError('Exchange');
    const where = { messaging_exchange_id: params.id, ...buildFilter(query.allow_docker_builds) };
    const { rows, total } = await findPage(em, EtcdClusterSchema, where, query);
    return { status: 200, body: rows.map(clusterJson), total };
  },
});

export const clusterRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, create, show, update, remove, exchangeClusters];
