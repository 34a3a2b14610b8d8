/**
 * What the Router actor does with its HAProxy: serve the Manager's routes (a sync), wait for a draining backend's
 * sessions to end (a drain), and tell when the proxy dies. The decisions are core/; this sequences the I/O.
 */
import { mkdir } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { routeCountOf, routingModelOf, type RoutingPlan } from './core/routing-model.js';
import { DrainRefusedError, ProxyExitedError, UnservedAuthorityError } from './errors.js';
import type { CountersReply, CountersRequested, DrainReply, DrainRequested } from './messages.js';
import type { RouteSource } from './ports.js';
import { addressOf, authorityKey, backendNameOf, serverNameOf, type Authority, type RoutingModel } from '../../runtime/haproxy/core/model.js';
import { sessionsLeft } from '../../runtime/haproxy/drain.js';
import { HaproxyProcess, type HaproxyOptions } from '../../runtime/haproxy/process.js';
import { Lane } from '../../runtime/core/lane.js';
import type { Logger } from '../../runtime/logger.js';

export interface RouterDeps {
  readonly source: RouteSource;
  readonly haproxy: HaproxyOptions;
  readonly log: Logger;
  /** Told once, when the proxy exits without being asked. */
  readonly onProxyExit: (err: ProxyExitedError) => void;
}

/** How often a drain reads the backend's current sessions. */
const DRAIN_POLL_MS = 100;

export class Router {
  private proxy: HaproxyProcess | undefined;
  // Syncs one at a time, each reading the Manager after it was asked: a caller that just wrote a route sees it served.
  private readonly syncs = new Lane();
  private problemsSaid = '';

  constructor(private readonly deps: RouterDeps) {}

  /** Reads the Manager's routes and has the proxy serve them: started, taken over, or changed (API or reload). */
  async sync(): Promise<RoutingPlan> {
    return this.syncs.run(() => this.syncNow());
  }

  /** Syncs, then waits until the backend has no session left (it must be set to drain or maint), or the deadline. */
  async drain(req: DrainRequested): Promise<DrainReply> {
    const { model } = await this.sync();
    const server = serverOf(model, req);
    if (this.proxy === undefined) throw new DrainRefusedError('the proxy is not running');
    const startedAt = Date.now();
    const sessions = await sessionsLeft(this.proxy, server, { until: startedAt + req.timeout_ms, pollIntervalMs: DRAIN_POLL_MS });
    return { drained: sessions === 0, waited_ms: Date.now() - startedAt, sessions };
  }

  /** The proxy's counters for each backend of the authority it serves (as served now: no sync first). */
  async counters(req: CountersRequested): Promise<CountersReply> {
    if (this.proxy?.model === undefined) await this.sync();
    const proxy = this.proxy;
    if (proxy?.model === undefined) throw new UnservedAuthorityError(`the proxy is not running, so it serves no authority ${req.hostname}:${req.port}`);
    const authority = authorityOf(proxy.model, req.hostname, req.port);
    const backend = backendNameOf(authority);
    const [stats, worker] = await Promise.all([proxy.api.serverStats(), proxy.api.workerPid()]);
    const servers = authority.routes.flatMap((route) => {
      const row = stats.find((s) => s.backend === backend && s.server === serverNameOf(route));
      if (row === undefined) return [];
      const { status, weight, requests, responses5xx, connectionErrors, responseErrors } = row;
      return [{ host: route.host, port: route.port, status, weight, requests, responses_5xx: responses5xx, connection_errors: connectionErrors, response_errors: responseErrors }];
    });
    return { worker_pid: worker, servers };
  }

  /** Stops the proxy (on shutdown, or before the actor restarts). */
  async stop(): Promise<void> {
    await this.proxy?.stop();
  }

  private async syncNow(): Promise<RoutingPlan> {
    const { log } = this.deps;
    this.proxy ??= await this.takeOver();
    const plan = routingModelOf(await this.deps.source.routes(), await this.deps.source.tls());
    this.sayProblems(plan.problems);
    const counts = { authorities: plan.model.authorities.length, routes: routeCountOf(plan.model) };
    if (this.proxy === undefined) {
      await mkdir(this.deps.haproxy.dir, { recursive: true, mode: 0o700 });
      this.proxy = this.watch(await HaproxyProcess.start(this.deps.haproxy, plan.model));
      log.info({ ...counts, pid: this.proxy.pid }, 'HAProxy started on the Manager routes');
    } else if (!isDeepStrictEqual(this.proxy.model, plan.model)) {
      const change = await this.proxy.apply(plan.model);
      log.info({ ...counts, change: change.kind, ...(change.kind === 'reload' ? { reasons: change.reasons } : { commands: change.commands.length }) }, 'routes changed');
    }
    return plan;
  }

  /** The HAProxy an earlier router process left serving on this directory, if any: it serves on meanwhile. */
  private async takeOver(): Promise<HaproxyProcess | undefined> {
    try {
      const proxy = await HaproxyProcess.adopt(this.deps.haproxy);
      if (proxy === undefined) return undefined;
      this.deps.log.info({ pid: proxy.pid }, 'took over the HAProxy an earlier router left serving; it is reloaded on the Manager routes');
      return this.watch(proxy);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not take over the HAProxy an earlier router left; it was stopped and a new one starts');
      return undefined;
    }
  }

  private watch(proxy: HaproxyProcess): HaproxyProcess {
    void proxy.exited.then((exit) => {
      if (exit.requested) return;
      if (this.proxy === proxy) this.proxy = undefined;
      this.deps.onProxyExit(new ProxyExitedError(proxy.pid, exit.signal ?? `code ${exit.code ?? 'unknown'}`, proxy.lastOutput));
    });
    return proxy;
  }

  private sayProblems(problems: readonly string[]): void {
    const said = problems.join('\n');
    if (said === this.problemsSaid) return;
    this.problemsSaid = said;
    if (problems.length > 0) this.deps.log.warn({ problems }, 'some Manager routes are not served');
    else this.deps.log.info('every Manager route is served');
  }
}

/** The served authority `hostname:port`; refused when the router does not serve it. */
function authorityOf(model: RoutingModel, hostname: string, port: number): Authority {
  const key = `${hostname.toLowerCase()}:${port}`;
  const authority = model.authorities.find((a) => authorityKey(a) === key);
  if (authority === undefined) throw new UnservedAuthorityError(`no authority ${key} among the routes the router serves`);
  return authority;
}

/** The `backend/server` of the drained route in the served model; refused when it is not there or not draining. */
function serverOf(model: RoutingModel, req: DrainRequested): string {
  const key = `${req.hostname.toLowerCase()}:${req.port}`;
  const address = addressOf({ host: req.backend_host, port: req.backend_port });
  const authority = authorityOf(model, req.hostname, req.port);
  const route = authority.routes.find((r) => addressOf(r) === address);
  if (route === undefined) throw new DrainRefusedError(`authority ${key} has no route ${address} among the routes the router serves`);
  if (route.state === 'ready') throw new DrainRefusedError(`route ${address} of authority ${key} is ready, not draining: set its state to drain in the Manager first`);
  return `${backendNameOf(authority)}/${serverNameOf(route)}`;
}
