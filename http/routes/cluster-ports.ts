import { LockMode, type EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Timestamps } from '../schemas/common.js';
import { clusterOr404, clusterPath, sameText, TokenParams } from './clusters.js';
import { whereName } from './products-common.js';
import { planAllocation, planReconcile, type PortRow } from '../core/ports.js';
import { ClusterHostSchema, EtcdClusterPortSchema, EtcdClusterSchema, type EtcdCluster, type EtcdClusterPort } from '../../entities/clusters.js';
import { ProductComponentSchema, ProductSchema, type Product, type ProductComponent } from '../../entities/products.js';
import { WorkflowSchema } from '../../entities/workflows.js';

/**
 * A cluster's host port allocations (reference §2.2 `etcd_cluster_ports`, issue 15 item 5). The Deployer allocates a
 * port for each container port of a container it is about to start, releases a removed container's ports, and
 * reconciles the rows with the containers it found. Every change runs under a row lock on the cluster, so two
 * deploys to one cluster at once never get the same port (the unique index on (cluster, port) backs this up).
 */

/** A Docker container name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`): the holder of a cluster's ports. */
const Holder = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, 'must be a container name: 1-255 letters, digits, _ . - starting with a letter or digit');
const HostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be a cluster host name');
const ContainerPort = z.number().int().min(1).max(65_535);
const distinct = (ports: readonly number[]) => new Set(ports).size === ports.length;

const PortListQuery = PageQuery.extend({ holder: Holder.optional(), workflow_id: z.uuid().optional() });
type PortListQuery = z.infer<typeof PortListQuery>;

const AllocationBody = z.strictObject({
  holder: Holder,
  host: HostName,
  workflow_id: z.uuid(),
  container_ports: z.array(ContainerPort).min(1).max(64).refine(distinct, 'must not repeat a port'),
  /** Host ports found busy on the host (another listener holds them): none of these is given. */
  avoid: z.array(ContainerPort).max(1_000).default([]),
  /** With `unit`: links the rows to the product's component of that name, when it has one. */
  product_name: z.string().min(1).max(255).nullable().optional(),
  unit: z.string().min(1).max(255).optional(),
});
type AllocationBody = z.infer<typeof AllocationBody>;

const HolderParams = TokenParams.extend({ holder: Holder });
type HolderParams = z.infer<typeof HolderParams>;

const ReconcileBody = z.strictObject({
  workflow_id: z.uuid(),
  hosts: z.array(HostName).max(1_000),
  live: z.array(z.strictObject({ holder: Holder, host: HostName, ports: z.record(z.string().regex(/^\d{1,5}$/, 'must be a container port'), ContainerPort) })).max(10_000),
});
type ReconcileBody = z.infer<typeof ReconcileBody>;

export const ClusterPortJson = z.object({
  id: z.number().int(),
  etcd_cluster_id: z.number().int(),
  product_component_id: z.number().int().nullable(),
  port: z.number().int().nullable(),
  holder: z.string().nullable(),
  host: z.string().nullable(),
  container_port: z.number().int().nullable(),
  workflow_id: z.string().nullable(),
  ...Timestamps,
});

const portJson = (p: EtcdClusterPort) => ({
  id: p.id,
  etcd_cluster_id: p.etcd_cluster_id,
  product_component_id: p.product_component_id,
  port: p.port,
  holder: p.holder,
  host: p.host,
  container_port: p.container_port,
  workflow_id: p.workflow_id,
  inserted_at: p.inserted_at,
  updated_at: p.updated_at,
});

/** The cluster of the path, locked until the transaction ends: the one place a cluster's allocations change. */
async function lockedCluster(em: EntityManager, token: string): Promise<EtcdCluster> {
  const cluster = await em.findOne(EtcdClusterSchema, sameText<EtcdCluster>('etcd_token', token), { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!cluster) throw new NotFoundError('EtcdCluster');
  return cluster;
}

const rowsOf = (em: EntityManager, cluster: EtcdCluster): Promise<EtcdClusterPort[]> =>
  em.find(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id }, { orderBy: { id: 'asc' } });

/** What the changes share: the Deployer makes them (an operator may too). */
const change = { tag: 'clusters', access: 'operator', item: 'EtcdClusterPort' } as const;

async function componentOf(em: EntityManager, body: AllocationBody): Promise<number | null> {
  if (!body.product_name || body.unit === undefined) return null;
  const product = await em.findOne(ProductSchema, whereName<Product>(body.product_name));
  if (!product) return null;
  const component = await em.findOne(ProductComponentSchema, whereName<ProductComponent>(body.unit, { product_id: product.id }));
  return component?.id ?? null;
}

const list = defineRoute<BaseDeps, TokenParams, PortListQuery>({
  method: 'get',
  path: '/clusters/:etcd_token/ports',
  summary: 'List the host ports allocated in a cluster',
  tag: 'clusters',
  access: 'viewer',
  item: 'EtcdCluster',
  params: TokenParams,
  query: PortListQuery,
  response: z.array(ClusterPortJson),
  async handle({ params, query }, { em }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const { holder, workflow_id, ...window } = query;
    const where = { etcd_cluster_id: cluster.id, ...(holder === undefined ? {} : { holder }), ...(workflow_id === undefined ? {} : { workflow_id }) };
    const { rows, total } = await findPage(em, EtcdClusterPortSchema, where, window);
    return { status: 200, body: rows.map(portJson), total };
  },
});

const allocate = defineRoute<BaseDeps, TokenParams, Record<string, never>, AllocationBody>({
  method: 'post',
  path: '/clusters/:etcd_token/ports',
  summary: 'Allocate host ports to a container',
  ...change,
  params: TokenParams,
  body: AllocationBody,
  response: z.array(ClusterPortJson),
  async handle({ params, body }, { em }) {
    const cluster = await lockedCluster(em, params.etcd_token);
    const rows = await rowsOf(em, cluster);
    const range = { start: cluster.port_range_start, end: cluster.port_range_end };
    const plan = planAllocation(rows, { holder: body.holder, containerPorts: body.container_ports, avoid: body.avoid }, range);
    if (!plan.ok) {
      const full = new ConflictError('EtcdClusterPort');
      full.message = `Cluster ${cluster.etcd_token}: ${plan.reason}`;
      throw full;
    }
    if (plan.drop.length > 0) await em.nativeDelete(EtcdClusterPortSchema, { id: { $in: [...plan.drop] } });
    const productComponentId = plan.add.length === 0 ? null : await componentOf(em, body);
    for (const a of plan.add) {
      em.create(EtcdClusterPortSchema, {
        etcd_cluster_id: cluster.id,
        product_component_id: productComponentId,
        port: a.port,
        holder: body.holder,
        host: body.host,
        container_port: a.container_port,
        workflow_id: body.workflow_id,
      });
    }
    await em.flush();
    const held = await em.find(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, holder: body.holder }, { orderBy: { id: 'asc' } });
    return { status: 201, location: `${clusterPath(cluster)}/ports?holder=${encodeURIComponent(body.holder)}`, body: held.map(portJson) };
  },
});

const release = defineRoute<BaseDeps, HolderParams>({
  method: 'delete',
  path: '/clusters/:etcd_token/ports/holders/:holder',
  summary: "Release a container's host ports",
  ...change,
  params: HolderParams,
  async handle({ params }, { em }) {
    const cluster = await lockedCluster(em, params.etcd_token);
    // Releasing what is already released is no error: a re-run deploy may release twice.
    await em.nativeDelete(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, holder: params.holder });
    return { status: 204 };
  },
});

/** Of `ids`, the workflows no deploy can still be running for: finished ones, and ids no workflow has. */
async function finishedWorkflows(em: EntityManager, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const running = await em.find(WorkflowSchema, { id: { $in: [...ids] }, workflow_completed: { $ne: true } }, { fields: ['id'] });
  const open = new Set(running.map((w) => w.id));
  return new Set(ids.filter((id) => !open.has(id)));
}

const reconcile = defineRoute<BaseDeps, TokenParams, Record<string, never>, ReconcileBody>({
  method: 'post',
  path: '/clusters/:etcd_token/ports/reconcile',
  summary: "Reconcile a cluster's host ports with its containers",
  ...change,
  params: TokenParams,
  body: ReconcileBody,
  response: z.strictObject({ released: z.array(ClusterPortJson), adopted: z.array(ClusterPortJson) }),
  async handle({ params, body }, { em }) {
    const cluster = await lockedCluster(em, params.etcd_token);
    const rows = await rowsOf(em, cluster);
    const hosts = await em.find(ClusterHostSchema, { etcd_cluster_id: cluster.id }, { fields: ['name'] });
    const finished = await finishedWorkflows(em, [...new Set(rows.flatMap((r: PortRow) => (r.workflow_id === null ? [] : [r.workflow_id])))]);
    const plan = planReconcile(rows, {
      workflowId: body.workflow_id,
      hosts: body.hosts,
      live: body.live,
      registeredHosts: hosts.map((h) => h.name),
      isFinished: (id) => id === null || finished.has(id),
    });
    const released = rows.filter((r) => plan.release.includes(r.id));
    if (released.length > 0) await em.nativeDelete(EtcdClusterPortSchema, { id: { $in: [...plan.release] } });
    const adopted = plan.adopt.map((a) => em.create(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, product_component_id: null, workflow_id: null, ...a }));
    await em.flush();
    return { status: 200, body: { released: released.map(portJson), adopted: adopted.map(portJson) } };
  },
});

export const clusterPortRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, allocate, release, reconcile];
