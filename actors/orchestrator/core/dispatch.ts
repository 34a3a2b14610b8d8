/**
 * Where a milestone's worker runs (reference §5.4), as pure rules over what the shell fetched from the Manager:
 * build clusters (own exchange first, then global), the deployment cluster, exchange overrides from
 * `execute_options`, and the modules registered in the target exchange. Deliberate fix (reference §10.1 item 10):
 * only an **active** module counts, and a missing one fails the workflow with a reason instead of crashing.
 */

export const WORKER_MILESTONES = ['config', 'build', 'deploy', 'deploy_oa'] as const;
export type WorkerMilestone = (typeof WORKER_MILESTONES)[number];

export const isWorkerMilestone = (m: string): m is WorkerMilestone => (WORKER_MILESTONES as readonly string[]).includes(m);

/** The module type that must be active in the target exchange (`deploy_oa` runs the same deployer code, §5.1). */
export function moduleTypeOf(milestone: WorkerMilestone): 'builder' | 'deployer' {
  return milestone === 'config' || milestone === 'build' ? 'builder' : 'deployer';
}

/** The build cluster list is cached this long (reference §5.4). */
export const BUILD_CLUSTERS_TTL_MS = 5 * 60_000;

/** Whether a list fetched at `fetchedAt` must be fetched again at `now`. */
export function isStale(fetchedAt: number, now: number, ttlMs = BUILD_CLUSTERS_TTL_MS): boolean {
  return now - fetchedAt >= ttlMs || now < fetchedAt;
}

/** What the rules read of a cluster and of a module row. */
export interface ClusterSeen {
  readonly etcd_token: string;
  readonly messaging_exchange_id: number | null;
}
export interface ModuleSeen {
  readonly type: string;
  readonly status: string;
}

/** Where to send a milestone, with the notices to log on the way; or why it cannot be sent. */
export type DispatchTarget =
  | { readonly ok: true; readonly exchangeId: number; readonly clusterToken: string; readonly notices: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const refused = (milestone: string, why: string): DispatchTarget => ({ ok: false, reason: `Unable to request ${milestone} - ${why}!` });

function overriddenExchange(kind: 'build' | 'deploy', ownExchangeId: number | null, override: number | null): { exchangeId: number | null; notices: string[] } {
  if (override === null) return { exchangeId: ownExchangeId, notices: [] };
  return { exchangeId: override, notices: [`The Workflow request has overriden the default ${kind} messaging_exchange_id to ${override}`] };
}

/**
 * A build or config target: one of the own exchange's build clusters, or of all build clusters when it has none,
 * chosen by `pick` (an index below the count); the exchange is the override or the cluster's.
 */
export function planBuildTarget(opts: {
  readonly milestone: 'config' | 'build';
  readonly own: readonly ClusterSeen[];
  readonly global: readonly ClusterSeen[];
  readonly override: number | null;
  readonly pick: (count: number) => number;
}): DispatchTarget {
  const candidates = opts.own.length > 0 ? opts.own : opts.global;
  const cluster = candidates[Math.min(Math.max(opts.pick(candidates.length), 0), candidates.length - 1)];
  if (cluster === undefined) return refused(opts.milestone, 'no build clusters are available');
  const { exchangeId, notices } = overriddenExchange('build', cluster.messaging_exchange_id, opts.override);
  if (exchangeId === null) return refused(opts.milestone, `build cluster ${cluster.etcd_token} is not associated with an exchange`);
  return {
    ok: true,
    exchangeId,
    clusterToken: cluster.etcd_token,
    notices: [...notices, `Dispatching a ${opts.milestone} request to exchange ${exchangeId}, docker build cluster ${cluster.etcd_token}...`],
  };
}

/** A deploy target: the cluster the builder named (`etcd_token`), in the override's exchange or its own. */
export function planDeployTarget(opts: {
  readonly milestone: 'deploy' | 'deploy_oa';
  readonly etcdToken: string | null | undefined;
  /** The cluster of `etcdToken` as the Manager has it; undefined when it has none. */
  readonly cluster: ClusterSeen | undefined;
  readonly override: number | null;
}): DispatchTarget {
  const token = opts.etcdToken ?? '';
  if (token.trim() === '') return refused(opts.milestone, 'an invalid deployment cluster was provided');
  if (opts.cluster === undefined) return refused(opts.milestone, `deployment cluster ${token} does not exist`);
  const { exchangeId, notices } = overriddenExchange('deploy', opts.cluster.messaging_exchange_id, opts.override);
  if (exchangeId === null) return refused(opts.milestone, `deployment cluster ${token} is not associated with an exchange`);
  return {
    ok: true,
    exchangeId,
    clusterToken: token,
    notices: [...notices, `Dispatching a ${opts.milestone} request to exchange ${exchangeId}, deployment cluster ${token}...`],
  };
}

/** The target, if an active module of the milestone's type is registered in its exchange (fail fast otherwise). */
export function requireActiveWorker(milestone: WorkerMilestone, target: DispatchTarget, modules: readonly ModuleSeen[]): DispatchTarget {
  if (!target.ok) return target;
  const type = moduleTypeOf(milestone);
  const active = modules.some((m) => m.type === type && m.status === 'active');
  return active ? target : refused(milestone, `no active ${type} module is registered in exchange ${target.exchangeId}`);
}

/** The exchange `execute_options` (or the request itself) sends a build or deploy to, or null (reference §5.4). */
export function overrideOf(
  request: { readonly build_messaging_exchange_id?: string | null | undefined; readonly deploy_messaging_exchange_id?: string | null | undefined; readonly execute_options?: { readonly build_messaging_exchange_id?: number | null | undefined; readonly deploy_messaging_exchange_id?: number | null | undefined } | null | undefined },
  kind: 'build' | 'deploy',
): number | null {
  const field = kind === 'build' ? 'build_messaging_exchange_id' : 'deploy_messaging_exchange_id';
  const value = Number(request[field] ?? request.execute_options?.[field] ?? Number.NaN);
  return Number.isInteger(value) && value > 0 ? value : null;
}
