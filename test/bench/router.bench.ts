import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { routeKeeper } from '../../actors/deployer/routes.js';
import type { Backend } from '../../actors/deployer/routes.js';
import type { UnitRoute } from '../../actors/orchestrator/messages.js';
import { managerClient } from '../../http/client/manager-client.js';
import { serverOptions } from '../../runtime/haproxy/core/config.js';
import { backendNameOf, serverNameOf, type Route } from '../../runtime/haproxy/core/model.js';
import { HaproxyProcess } from '../../runtime/haproxy/process.js';
import { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import { startManager } from '../actors/deployer/fixtures.js';
import { routerArgs, startRouter } from '../actors/router/harness.js';
import { captureLogs } from '../helpers/log-capture.js';
import { closedPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { get, Harness, modelOf } from '../runtime/haproxy/harness.js';
import { measureLoad, medianLoad, type Load } from './load.js';
import type { BenchResult } from './report.js';

/**
 * Issue 15: the router against no router, in the same run.
 * - Load: autocannon at CONNECTIONS connections on `GET /` through HAProxy programmed by runtime/haproxy (one
 *   authority, one route) against the same load straight to that one backend instance, a Node http server in a process
 *   of its own answering its name; a warm-up each, then ROUNDS rounds of SECONDS in turn, the median of each side kept.
 *   Goals: >= 0.9x the requests/s, p99 <= 1.5x. The same again with an instance that answers after APP_WAIT_MS
 *   (waiting as an app waits on its database), where the instance and not the CPU bounds the load.
 * - Route change, "deploy step to traffic moved": from the Deployer's RouteKeeper.join (write the backend to a real
 *   Manager, ask the real Router actor to sync) until a probe, one request at a time on new connections, first gets
 *   an answer from the new backend; against the same change sent straight to a HAProxy's Runtime API (`add server`,
 *   `enable health`, `enable server`, the router's own commands) and probed the same way. The median of CHANGES each;
 *   between changes the new backend leaves again (not measured).
 */
const CONNECTIONS = 50;
const ROUNDS = 3;
const SECONDS = 5;
const WARMUP_SECONDS = 2;
const CHANGES = 10;
/** The second instance's wait per request: an app whose answer waits on its own I/O rather than on CPU. */
const APP_WAIT_MS = 5;
const HOSTNAME = 'app.bench.test';
const BACKEND = fileURLToPath(new URL('./fixtures/http-backend.ts', import.meta.url));

interface Instance extends Backend {
  readonly name: string;
  stop(): Promise<void>;
}

/** Starts fixtures/http-backend.ts answering `name` (after `waitMs`) and resolves once it listens. */
async function startInstance(name: string, waitMs = 0): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', BACKEND, name, String(waitMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  try {
    const port = await waitFor(`backend ${name} to listen`, () => /^listening (\d+)$/m.exec(out)?.[1], 15_000);
    return { name, host: '127.0.0.1', port: Number(port), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const routeTo = (b: Backend): Route => ({ host: b.host, port: b.port, weight: 10, state: 'ready' });

/** Both sides' load, the median of ROUNDS rounds taken in turn, so a slow spell of the machine weighs on both. */
async function compareLoad(direct: number, routed: number): Promise<{ direct: Load; routed: Load }> {
  const load = (port: number, seconds: number) => measureLoad({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: seconds, headers: { host: HOSTNAME } });
  await load(direct, WARMUP_SECONDS);
  await load(routed, WARMUP_SECONDS);
  const rounds = { direct: [] as Load[], routed: [] as Load[] };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.direct.push(await load(direct, SECONDS));
    rounds.routed.push(await load(routed, SECONDS));
  }
  const figures = (side: Load[]) => side.map((r) => `${r.requestsPerSecond.toFixed(0)} req/s p99 ${r.p99} ms`).join(', ');
  process.stderr.write(`router bench: per round: direct ${figures(rounds.direct)}; routed ${figures(rounds.routed)}\n`);
  return { direct: medianLoad(rounds.direct), routed: medianLoad(rounds.routed) };
}

/** Milliseconds from the start of `change` until a probe on `port` first gets an answer from `to`. */
async function timeToTraffic(port: number, to: Instance, change: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const moved = (async () => {
    for (;;) if ((await get(port, HOSTNAME)).body === to.name) return performance.now() - started;
  })();
  await change();
  return moved;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The health check of both sides' proxies: the router tests' (a server is up after one check of 200 ms). */
const CHECK = { intervalMs: 200, fall: 2, rise: 1 };

/** The platform's path: the Deployer's RouteKeeper, a real Manager (PGlite) and the real Router actor on its HAProxy. */
async function changeThroughRouter(h: Harness, binary: string, from: Instance, to: Instance): Promise<number[]> {
  const manager = await startManager();
  const broker = new MemoryBroker();
  const { log } = captureLogs();
  const transport = broker.transport({ exchangeId: 1, log });
  const dir = h.newDir();
  // The resync timer at ROUTER_RESYNC_MS's default, so that what moves the traffic is the sync the keeper asks for.
  const args = routerArgs({ baseUrl: manager.baseUrl, ...manager.client }, dir, { haproxy: { binary }, settings: h.settingsFor(dir, { check: CHECK }), resyncMs: 2_000 });
  const router = await startRouter(args, broker);
  try {
    const keeper = routeKeeper(managerClient({ baseUrl: manager.baseUrl, ...manager.client, log }), transport, { exchangeId: 1, product: null, environment: null });
    const route: UnitRoute = { hostname: HOSTNAME, port: await closedPort(), drain_seconds: 1 };
    await keeper.join(route, from);
    const ms: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      ms.push(await timeToTraffic(route.port, to, () => keeper.join(route, to)));
      await keeper.leave(route, to);
    }
    return ms;
  } finally {
    await router.stop();
    await transport.close();
    await manager.close();
  }
}

/** The baseline: the same server added to a HAProxy of the same settings by hand, over its Runtime API. */
async function changeThroughRuntimeApi(h: Harness, binary: string, from: Instance, to: Instance): Promise<number[]> {
  const dir = h.newDir();
  const settings = h.settingsFor(dir, { check: CHECK });
  const port = await closedPort();
  const proxy = await HaproxyProcess.start({ binary, dir, settings }, modelOf({ hostname: HOSTNAME, port, routes: [routeTo(from)] }));
  const server = `${backendNameOf({ hostname: HOSTNAME, port })}/${serverNameOf(to)}`;
  try {
    const ms: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      ms.push(
        await timeToTraffic(port, to, async () => {
          await proxy.api.execute(`add server ${server} ${serverOptions(routeTo(to), settings)}`);
          await proxy.api.execute(`enable health ${server}`);
          await proxy.api.execute(`enable server ${server}`);
        }),
      );
      await proxy.api.execute(`disable server ${server}`);
      await waitFor(`${server} to be deleted`, () => proxy.api.execute(`del server ${server}`).then(() => true));
    }
    return ms;
  } finally {
    await proxy.stop();
  }
}

/** `instance`'s load straight and through a HAProxy serving it alone (one authority, one route). */
async function loadThroughProxy(h: Harness, binary: string, instance: Instance): Promise<{ direct: Load; routed: Load }> {
  const port = await closedPort();
  const dir = h.newDir();
  const proxy = await HaproxyProcess.start({ binary, dir, settings: h.settingsFor(dir) }, modelOf({ hostname: HOSTNAME, port, routes: [routeTo(instance)] }));
  return compareLoad(instance.port, port).finally(() => proxy.stop());
}

/** The router's rows (issue 15's must-show); `binary` is the haproxy found (OA_TEST_HAPROXY, PATH or sbin). */
export async function benchRouter(binary: string): Promise<BenchResult[]> {
  const h = new Harness();
  const instances: Instance[] = [];
  try {
    const [only, waiting, from, to] = [await startInstance('bench'), await startInstance('waiting', APP_WAIT_MS), await startInstance('from'), await startInstance('to')];
    instances.push(only, waiting, from, to);
    const load = await loadThroughProxy(h, binary, only);
    const app = await loadThroughProxy(h, binary, waiting);

    const direct = await changeThroughRuntimeApi(h, binary, from, to);
    const routed = await changeThroughRouter(h, binary, from, to);
    const all = (ms: readonly number[]) => ms.map((m) => m.toFixed(0)).join(', ');
    process.stderr.write(`router bench: route change ms: Runtime API ${all(direct)}; RouteKeeper.join ${all(routed)}\n`);
    return [
      { name: `router: GET / at ${CONNECTIONS} conns, one instance (goal >= 0.90x)`, unit: 'req/s', baseline: { label: 'straight to the instance', value: load.direct.requestsPerSecond }, ours: { label: 'through HAProxy', value: load.routed.requestsPerSecond } },
      { name: `router: p99 latency, same load (lower is better; goal <= 1.50x)`, unit: 'ms', baseline: { label: 'straight to the instance', value: load.direct.p99 }, ours: { label: 'through HAProxy', value: load.routed.p99 } },
      { name: `router: GET / at ${CONNECTIONS} conns, an instance answering after ${APP_WAIT_MS} ms`, unit: 'req/s', baseline: { label: 'straight to the instance', value: app.direct.requestsPerSecond }, ours: { label: 'through HAProxy', value: app.routed.requestsPerSecond } },
      { name: `router: p99 latency, same load (lower is better)`, unit: 'ms', baseline: { label: 'straight to the instance', value: app.direct.p99 }, ours: { label: 'through HAProxy', value: app.routed.p99 } },
      { name: `router: route change, deploy step to traffic moved, median of ${CHANGES} (lower is better)`, unit: 'ms', baseline: { label: 'Runtime API by hand', value: median(direct) }, ours: { label: 'Manager + Router sync', value: median(routed) } },
    ];
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await h.cleanUp();
  }
}
