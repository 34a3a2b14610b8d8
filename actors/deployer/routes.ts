import { DEFAULT_WEIGHT } from './core/canary.js';
import { AuthorityOwnedError } from './errors.js';
import { isManagerApiError, type ManagerClient } from '../../http/client/manager-client.js';
import type { DetailedAuthority } from '../../http/client/schemas.js';
import type { Messaging } from '../../runtime/messaging/transport.js';
import type { UnitRoute } from '../orchestrator/messages.js';
import { COUNTERS_REQUESTED, CountersReply, DRAIN_REQUESTED, DrainReply, ROUTER_QUEUE, SYNC_REQUESTED, SYNC_TIMEOUT_MS, SyncReply } from '../router/messages.js';

/**
 * A unit's route as a rollout changes it (issue 15): the Manager holds the authority and its backends, the router of
 * the deploy's exchange serves them. An instance joins once healthy: its backend is written `ready` and the router
 * asked to serve it before the rollout goes on, so the instance it replaces still serves until then. An instance
 * leaves before it stops: its backend is set to `drain`, the router waits until its requests have ended (at most
 * `drain_seconds`), and only then is the backend deleted. Both are safe to repeat. The authority is the deploy's
 * product's and environment's: created so, and never joined when it is another product's. A canary joins with the
 * weight that gives it its share, and is weighed like the others once promoted.
 */

/** Where the router reaches an instance: its host's address and the host port of the route's container port. */
export interface Backend {
  readonly host: string;
  readonly port: number;
}

/** A backend of an authority and its weight. */
export interface WeighedBackend {
  readonly backend: Backend;
  readonly weight: number;
}

/** The router's side of a rollout (routes.ts): a unit's instances join its authority and leave it drained. */
export interface RouteKeeper {
  /** `backend` takes its share (its `weight`, 100 by default) of the authority's requests from now on; resolves once the router serves it. */
  join(route: UnitRoute, backend: Backend, weight?: number): Promise<void>;
  /** `backend` gets no new requests; resolves, with what happened, once it is out of the authority. */
  leave(route: UnitRoute, backend: Backend): Promise<string>;
  /** The authority's ready backends other than `backend`, with their weights; none when it does not exist. */
  peers(route: UnitRoute, backend: Backend): Promise<readonly WeighedBackend[]>;
  /** Sets the weights of those of the backends the authority has; resolves once the router serves them. */
  weigh(route: UnitRoute, weights: readonly WeighedBackend[]): Promise<void>;
  /** The router's counters for the authority's backends. */
  counters(route: UnitRoute): Promise<CountersReply>;
}

export const addressOf = (b: Backend): string => `${b.host}:${b.port}`;
export const authorityOf = (route: UnitRoute): string => `${route.hostname}:${route.port}`;

/** Where a deploy's routes go: the exchange of its router, and the product and environment it deploys. */
export interface RouteTarget {
  readonly exchangeId: number | null;
  readonly product: string | null;
  readonly environment: string | null;
}

const sameProduct = (a: string | null, b: string | null): boolean => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

export function routeKeeper(client: Pick<ManagerClient, 'router'>, transport: Pick<Messaging, 'request'>, target: RouteTarget): RouteKeeper {
  const { exchangeId, product, environment } = target;
  const router = (type: string, payload: unknown, timeoutMs: number): Promise<unknown> => {
    if (exchangeId === null) throw new Error('the deploy has no messaging exchange, so no router to ask');
    return transport.request({ exchangeId, queue: ROUTER_QUEUE }, type, payload, { timeoutMs });
  };

  /** Asks the router to serve the Manager's routes now; an error when it leaves this backend out. */
  async function served(route: UnitRoute, backend: Backend): Promise<void> {
    const reply = SyncReply.parse(await router(SYNC_REQUESTED, {}, SYNC_TIMEOUT_MS));
    const problem = reply.problems.find((p) => p.startsWith(`authority ${authorityOf(route)}`) && p.includes(addressOf(backend)));
    if (problem !== undefined) throw new Error(`the router does not serve it: ${problem}`);
  }

  /** Two products must not share an address by accident: another product's authority is refused. */
  const ours = (a: DetailedAuthority): DetailedAuthority => {
    if (!sameProduct(a.product, product)) throw new AuthorityOwnedError({ authority: `${a.hostname}:${a.port}`, id: a.id, owner: a.product, product });
    return a;
  };

  /** The authority, created when it does not exist yet (a concurrent creation is a 409, then it exists). */
  async function authority(route: UnitRoute): Promise<DetailedAuthority> {
    const found = await client.router.authority(route.hostname, route.port);
    if (found !== undefined) return ours(found);
    await client.router.createAuthority({ hostname: route.hostname, port: route.port, product, environment }).catch((err: unknown) => {
      if (!(isManagerApiError(err) && err.status === 409)) throw err;
    });
    const created = await client.router.authority(route.hostname, route.port);
    if (created === undefined) throw new Error(`authority ${authorityOf(route)} was created and is gone`);
    return ours(created);
  }

  const backendIn = (a: DetailedAuthority, b: Backend) => a.routes.find((r) => r.hostname === b.host && r.port === b.port);

  return {
    async join(route, backend, weight = DEFAULT_WEIGHT) {
      const a = await authority(route);
      const existing = backendIn(a, backend);
      if (existing === undefined) await client.router.addRoute(a.id, { hostname: backend.host, port: backend.port, weight });
      else if (existing.state !== 'ready' || existing.weight !== weight) await client.router.updateRoute(a.id, existing.id, { state: 'ready', weight });
      await served(route, backend);
    },

    async peers(route, backend) {
      const a = await client.router.authority(route.hostname, route.port);
      const ready = (a?.routes ?? []).filter((r) => r.state === 'ready' && !(r.hostname === backend.host && r.port === backend.port));
      return ready.map((r) => ({ backend: { host: r.hostname, port: r.port }, weight: r.weight }));
    },

    async weigh(route, weights) {
      const a = await client.router.authority(route.hostname, route.port);
      if (a === undefined) throw new Error(`authority ${authorityOf(route)} is gone`);
      for (const { backend, weight } of weights) {
        const existing = backendIn(a, backend);
        if (existing !== undefined && existing.weight !== weight) await client.router.updateRoute(a.id, existing.id, { weight });
      }
      await router(SYNC_REQUESTED, {}, SYNC_TIMEOUT_MS);
    },

    counters: async (route) => CountersReply.parse(await router(COUNTERS_REQUESTED, { hostname: route.hostname, port: route.port }, SYNC_TIMEOUT_MS)),

    async leave(route, backend) {
      const a = await client.router.authority(route.hostname, route.port);
      const existing = a === undefined ? undefined : backendIn(a, backend);
      if (a === undefined || existing === undefined) return `${addressOf(backend)} was not in route ${authorityOf(route)}`;
      if (existing.state === 'ready') await client.router.updateRoute(a.id, existing.id, { state: 'drain' });
      const timeoutMs = route.drain_seconds * 1_000;
      const ask = { hostname: route.hostname, port: route.port, backend_host: backend.host, backend_port: backend.port, timeout_ms: timeoutMs };
      const drained = DrainReply.parse(await router(DRAIN_REQUESTED, ask, SYNC_TIMEOUT_MS + timeoutMs));
      await client.router.deleteRoute(a.id, existing.id);
      await router(SYNC_REQUESTED, {}, SYNC_TIMEOUT_MS);
      const took = `${(drained.waited_ms / 1_000).toFixed(1)} s`;
      return drained.drained
        ? `${addressOf(backend)} left route ${authorityOf(route)}: drained in ${took}`
        : `${addressOf(backend)} left route ${authorityOf(route)} at its ${route.drain_seconds} s drain deadline, ${drained.sessions} request(s) still open`;
    },
  };
}
