import type { ExchangeModule, ManagerClient } from '../../http/client/manager-client.js';
import { readAllPages, type Cluster } from '../../http/client/manager-client.js';
import {
  isStale,
  moduleTypeOf,
  overrideOf,
  planBuildTarget,
  planDeployTarget,
  requireActiveWorker,
  type DispatchTarget,
  type WorkerMilestone,
} from './core/dispatch.js';
import type { OrchestrationRequest } from './messages.js';

/**
 * Where a milestone goes (reference §5.4), with the Manager's answers fetched and cached here and the rules in
 * core/dispatch.ts. Build clusters are cached 5 minutes (the original's cache); module lists are reused only while
 * they show an active worker, so a worker that just registered is never missed.
 */

interface Cached<T> {
  readonly fetchedAt: number;
  readonly value: T;
}

const MODULES_TTL_MS = 30_000;

export type ResolveTarget = (milestone: WorkerMilestone, request: OrchestrationRequest) => Promise<DispatchTarget>;

export function targetResolver(opts: {
  readonly manager: Pick<ManagerClient, 'clusters' | 'exchangeModules'>;
  readonly exchangeId: number;
  readonly now: () => number;
  readonly pick: (count: number) => number;
}): ResolveTarget {
  const { manager, now } = opts;
  let own: Cached<Cluster[]> | undefined;
  let global: Cached<Cluster[]> | undefined;
  const modules = new Map<number, Cached<readonly ExchangeModule[]>>();

  async function buildClusters(): Promise<{ own: Cluster[]; global: Cluster[] }> {
    if (own === undefined || isStale(own.fetchedAt, now())) {
      own = { fetchedAt: now(), value: await readAllPages((w) => manager.clusters.listOfExchange(opts.exchangeId, { ...w, allow_docker_builds: true })) };
    }
    if (own.value.length > 0) return { own: own.value, global: [] };
    if (global === undefined || isStale(global.fetchedAt, now())) {
      global = { fetchedAt: now(), value: await readAllPages((w) => manager.clusters.list({ ...w, allow_docker_builds: true })) };
    }
    return { own: [], global: global.value };
  }

  async function modulesOf(exchangeId: number, type: string): Promise<readonly ExchangeModule[]> {
    const cached = modules.get(exchangeId);
    const usable = cached && !isStale(cached.fetchedAt, now(), MODULES_TTL_MS) && cached.value.some((m) => m.type === type && m.status === 'active');
    if (usable) return cached.value;
    const fresh = await readAllPages((w) => manager.exchangeModules.list(exchangeId, w));
    modules.set(exchangeId, { fetchedAt: now(), value: fresh });
    return fresh;
  }

  return async (milestone, request) => {
    const token = request.etcd_token?.trim() ?? '';
    const target =
      milestone === 'config' || milestone === 'build'
        ? planBuildTarget({ milestone, ...(await buildClusters()), override: overrideOf(request, 'build'), pick: opts.pick })
        : planDeployTarget({ milestone, etcdToken: token, cluster: token === '' ? undefined : await manager.clusters.get(token), override: overrideOf(request, 'deploy') });
    if (!target.ok) return target;
    return requireActiveWorker(milestone, target, await modulesOf(target.exchangeId, moduleTypeOf(milestone)));
  };
}
