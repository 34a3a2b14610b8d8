/** Taking a route out without cutting a request: drain it, wait for its sessions to end, then remove it. */
import { addressOf, authorityKey, backendNameOf, serverNameOf, type Authority, type Route, type RoutingModel } from './core/model.js';
import { sleep } from '../core/promises.js';
import type { HaproxyProcess } from './process.js';

/** Which route: its authority (`hostname:port`) and its backend address (`host:port`). */
export interface DrainTarget {
  readonly authority: string;
  readonly route: string;
}

export interface DrainResult {
  /** True when the sessions reached 0 before the deadline; false when the rest were shut down at the deadline. */
  readonly drained: boolean;
  /** From the drain command to the server's removal. */
  readonly tookMs: number;
  /** Sessions still open at the deadline (0 when drained). */
  readonly cutSessions: number;
}

/** The route's authority or address is not in the model the proxy runs. */
export class UnknownRouteError extends Error {
  override readonly name = 'UnknownRouteError';
  readonly retryable = false;
}

function findRoute(model: RoutingModel, target: DrainTarget): { authority: Authority; route: Route } {
  const authority = model.authorities.find((a) => authorityKey(a) === target.authority);
  if (authority === undefined) throw new UnknownRouteError(`no authority ${target.authority} in the running model`);
  const route = authority.routes.find((r) => addressOf(r) === target.route);
  if (route === undefined) throw new UnknownRouteError(`authority ${target.authority} has no route ${target.route}`);
  return { authority, route };
}

function withRoute(model: RoutingModel, target: DrainTarget, change: 'drain' | 'remove'): RoutingModel {
  const { authority, route } = findRoute(model, target);
  const routes = change === 'remove' ? authority.routes.filter((r) => r !== route) : authority.routes.map((r) => (r === route ? { ...r, state: 'drain' as const } : r));
  return { authorities: model.authorities.map((a) => (a === authority ? { ...a, routes } : a)) };
}

function runningModel(proxy: HaproxyProcess): RoutingModel {
  const model = proxy.model;
  if (model === undefined) throw new UnknownRouteError('the proxy runs an unknown model after a failed change; apply a whole model first');
  return model;
}

/**
 * Sets the route to drain (no new requests; in-flight ones go on), polls its current sessions every `pollIntervalMs`
 * until none are left or `deadlineMs` passed, shuts down what is left at the deadline, and removes the server.
 * Other changes may be applied meanwhile: the removal applies to the model running then.
 */
export async function drainRoute(
  proxy: HaproxyProcess,
  target: DrainTarget,
  opts: { readonly deadlineMs: number; readonly pollIntervalMs?: number },
): Promise<DrainResult> {
  const startedAt = Date.now();
  const model = runningModel(proxy);
  const { authority, route } = findRoute(model, target);
  const server = `${backendNameOf(authority)}/${serverNameOf(route)}`;
  await proxy.apply(withRoute(model, target, 'drain'));
  const open = await sessionsLeft(proxy, server, { until: startedAt + opts.deadlineMs, ...(opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: opts.pollIntervalMs }) });
  if (open > 0) await proxy.api.execute(`shutdown sessions server ${server}`);
  await proxy.apply(withRoute(runningModel(proxy), target, 'remove'));
  return { drained: open === 0, tookMs: Date.now() - startedAt, cutSessions: open };
}

/**
 * Polls the current sessions of `server` (`<backend>/<server>`) every `pollIntervalMs` (100 by default) until none
 * are left or the clock reaches `until` (ms since the epoch); how many were left.
 */
export async function sessionsLeft(proxy: HaproxyProcess, server: string, opts: { readonly until: number; readonly pollIntervalMs?: number }): Promise<number> {
  const sessions = async (): Promise<number> => {
    const stats = await proxy.api.serverStats();
    return stats.find((s) => `${s.backend}/${s.server}` === server)?.currentSessions ?? 0;
  };
  let open = await sessions();
  while (open > 0 && Date.now() < opts.until) {
    await sleep(opts.pollIntervalMs ?? 100);
    open = await sessions();
  }
  return open;
}
