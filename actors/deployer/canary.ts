import { canaryWeights, judge, observe, watchFrom, type CanarySample, type CanarySpec, type CanaryVerdict } from './core/canary.js';
import type { PlannedRoute } from './core/plan.js';
import { addressOf, authorityOf, type Backend, type RouteKeeper } from './routes.js';
import type { CountersReply } from '../router/messages.js';
import { sleep } from '../../runtime/core/promises.js';

/**
 * Carries a canary out (core/canary.ts decides): the new instance joins its unit's route with the weight that gives it
 * its share, the router's counters are read every second of the window, and on the verdict the other backends get
 * their weights back. Promoted, the canary is weighed like the others; aborted, the caller takes it out of the route.
 */

export interface CanaryDeps {
  readonly routes: RouteKeeper;
  readonly notify: (message: string, ok?: boolean) => Promise<void>;
}

export type CanaryOutcome = { readonly promoted: true } | { readonly promoted: false; readonly reason: string };

type Verdict = Exclude<CanaryVerdict, { readonly kind: 'watch' }>;

/** How often the router's counters are read during the window. */
const POLL_MS = 1_000;

function sampleOf(reply: CountersReply, canary: Backend): CanarySample {
  const own = reply.servers.find((s) => s.host === canary.host && s.port === canary.port);
  return {
    worker: reply.worker_pid,
    canary: own === undefined ? undefined : { status: own.status, requests: own.requests, errors: own.responses_5xx + own.connection_errors + own.response_errors },
    requests: reply.servers.reduce((sum, s) => sum + s.requests, 0),
  };
}

/** Reads the counters until the verdict, from `first` (read before the canary joined). */
async function watchWindow(deps: CanaryDeps, route: PlannedRoute, spec: CanarySpec, backend: Backend, first: CanarySample): Promise<Verdict> {
  const startedAt = Date.now();
  const windowMs = spec.duration_seconds * 1_000;
  let watch = watchFrom(first);
  for (;;) {
    await sleep(Math.min(POLL_MS, Math.max(0, windowMs - (Date.now() - startedAt))));
    watch = observe(watch, sampleOf(await deps.routes.counters(route), backend));
    const verdict = judge(spec, watch, Date.now() - startedAt);
    if (verdict.kind !== 'watch') return verdict;
  }
}

/** The canary `unit` at `backend` (healthy, not yet in the route) through its window. */
export async function runCanary(deps: CanaryDeps, unit: string, route: PlannedRoute, spec: CanarySpec, backend: Backend): Promise<CanaryOutcome> {
  const authority = authorityOf(route);
  const address = addressOf(backend);
  const peers = await deps.routes.peers(route, backend);
  if (peers.length === 0) {
    await deps.notify(`Canary of ${unit} skipped: no other instance serves route ${authority} to compare it with`);
    await deps.routes.join(route, backend);
    return { promoted: true };
  }
  const weights = canaryWeights(peers.map((p) => p.weight), spec.weight);
  const scaled = peers.map((p, i) => ({ backend: p.backend, weight: weights.others[i] ?? p.weight }));
  const rescaled = scaled.some((s, i) => s.weight !== peers[i]?.weight);
  const first = sampleOf(await deps.routes.counters(route), backend);
  let verdict: Verdict;
  try {
    await deps.routes.join(route, backend, weights.canary);
    if (rescaled) await deps.routes.weigh(route, scaled);
    const how = `weight ${weights.canary}${rescaled ? `, the ${peers.length} others weighed down to keep the share` : ''}`;
    await deps.notify(`Canary of ${unit}: ${address} takes ${spec.weight}% of route ${authority} (${how}) for ${spec.duration_seconds} s`);
    verdict = await watchWindow(deps, route, spec, backend, first);
  } catch (err) {
    verdict = { kind: 'abort', why: `its window broke off (${(err as Error).message})`, figures: 'no verdict' };
  } finally {
    if (rescaled) await deps.routes.weigh(route, peers);
  }
  if (verdict.kind === 'abort') return { promoted: false, reason: `canary aborted, ${verdict.why}: ${verdict.figures}` };
  await deps.routes.join(route, backend);
  await deps.notify(`Canary of ${unit} promoted: ${verdict.figures}`);
  return { promoted: true };
}
