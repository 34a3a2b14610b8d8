import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTERS_REQUESTED, DRAIN_REQUESTED, SYNC_REQUESTED } from '../../../actors/router/messages.js';
import type { ManagerClient } from '../../../http/client/manager-client.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { fetchProcessList } from '../../../runtime/haproxy/runtime-api.js';
import { DEAD_LETTERED_ERROR } from '../../../runtime/messaging/transport.js';
import { sleep } from '../../../runtime/core/promises.js';
import { closedPort } from '../../helpers/ports.js';
import { needs } from '../../helpers/services.js';
import { startTcpProxy } from '../../helpers/tcp-proxy.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import { get, Harness } from '../../runtime/haproxy/harness.js';
import { managerAccessOf, routerArgs, startRouter, type TestRouter } from './harness.js';

const sync = (r: TestRouter) => r.request(SYNC_REQUESTED, {});
const backendRoute = (port: number, over: { weight?: number; state?: 'ready' | 'drain' | 'maint' } = {}) => ({ hostname: '127.0.0.1', port, ...over });

forEachDatabase('router: the real Router serving a real Manager routes through HAProxy', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (api) => {
  needs('haproxy');
  const h = new Harness();
  let client: ManagerClient;
  let access: Awaited<ReturnType<typeof managerAccessOf>>['access'];
  let running: TestRouter | undefined;
  before(async () => ({ access, client } = await managerAccessOf(api())));
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanUp();
  });
  const authority = async (port: number, hostname = `app-${port}.test`) => ({ hostname, id: await client.router.createAuthority({ hostname, port }) });

  it('sync answers once the proxy serves the Manager routes; a route it cannot hold is named, the others served', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const app = await authority(port);
    await client.router.addRoute(app.id, backendRoute(a.port));
    await client.router.addRoute(app.id, { hostname: 'db.internal', port: 5432 });
    running = await startRouter(routerArgs(access, h.newDir(), { resyncMs: 60_000 }));
    const reply = await sync(running);
    expect(reply).to.deep.equal({ authorities: 1, routes: 1, problems: [`authority ${app.hostname}:${port}: route db.internal:5432 left out: host: must be an IPv4 address (e.g. 127.0.0.1)`] });
    expect(await get(port, app.hostname)).to.deep.equal({ status: 200, body: 'a' });
    // A route written now is served when the next sync answers, without waiting for the resync timer.
    await client.router.addRoute(app.id, backendRoute(b.port));
    expect(await sync(running)).to.include({ routes: 2 });
    const bodies = await Promise.all(Array.from({ length: 10 }, () => get(port, app.hostname).then((r) => r.body)));
    expect(bodies.filter((x) => x === 'b')).to.have.length(5);
  });

  it('follows the Manager on its timer: weights, maint, a new authority on a new port (a reload)', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const [port, other] = [await closedPort(), await closedPort()];
    const app = await authority(port);
    const ra = await client.router.addRoute(app.id, backendRoute(a.port));
    await client.router.addRoute(app.id, backendRoute(b.port));
    const dir = h.newDir();
    running = await startRouter(routerArgs(access, dir));
    await sync(running);
    await client.router.updateRoute(app.id, ra, { state: 'maint' });
    await waitFor('route a out of rotation', async () => (await Promise.all([1, 2, 3, 4].map(() => get(port, app.hostname)))).every((r) => r.body === 'b'), 5_000);
    const second = await authority(other, 'second.test');
    await client.router.addRoute(second.id, backendRoute(a.port));
    await waitFor('the new authority served', async () => (await get(other, 'second.test').catch(() => ({ body: '' }))).body === 'a', 5_000);
    // One reload for the new port, and none after it: an unchanged feed leaves the proxy alone.
    await sleep(600);
    expect((await waitFor('the master CLI', () => fetchProcessList(join(dir, 'master.sock')))).reloads).to.equal(1);
  });

  it('drain waits until the draining backend has no session left, and says how long; a ready route is refused', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const app = await authority(port);
    const ra = await client.router.addRoute(app.id, backendRoute(a.port));
    await client.router.addRoute(app.id, backendRoute(b.port));
    running = await startRouter(routerArgs(access, h.newDir(), { resyncMs: 60_000 }));
    await sync(running);
    const target = { hostname: app.hostname.toUpperCase(), port, backend_host: '127.0.0.1', backend_port: a.port, timeout_ms: 5_000 };
    expect((await rejectionOf(running.request(DRAIN_REQUESTED, target))).message).to.match(/is ready, not draining: set its state to drain/);
    // A slow request in flight on each backend; then a is set to drain in the Manager.
    const inFlight = [get(port, app.hostname, '/slow?ms=1500'), get(port, app.hostname, '/slow?ms=1500')];
    await waitFor('both requests at their backends', () => a.hits + b.hits >= 2, 2_000);
    await client.router.updateRoute(app.id, ra, { state: 'drain' });
    type Drained = { drained: boolean; waited_ms: number; sessions: number };
    // A deadline before the session ends: not drained, and one session left.
    const early = (await running.request(DRAIN_REQUESTED, { ...target, timeout_ms: 300 })) as Drained;
    expect(early).to.include({ drained: false, sessions: 1 });
    expect(early.waited_ms).to.be.within(300, 800);
    const reply = (await running.request(DRAIN_REQUESTED, target)) as Drained;
    expect(reply).to.include({ drained: true, sessions: 0 });
    expect(reply.waited_ms).to.be.within(200, 1_500);
    expect((await Promise.all(inFlight)).map((r) => r.status)).to.deep.equal([200, 200]);
    expect((await get(port, app.hostname)).body).to.equal('b');
    expect((await rejectionOf(running.request(DRAIN_REQUESTED, { ...target, backend_port: 1 }))).message).to.match(/has no route 127\.0\.0\.1:1 among the routes/);
  });

  it("counters: each backend's state, requests and 5xx answers as the proxy counts them, with the counting worker", async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const gone = await closedPort();
    const app = await authority(port);
    await client.router.addRoute(app.id, backendRoute(a.port, { weight: 30 }));
    await client.router.addRoute(app.id, backendRoute(b.port, { weight: 10 }));
    await client.router.addRoute(app.id, backendRoute(gone, { weight: 10 }));
    running = await startRouter(routerArgs(access, h.newDir(), { resyncMs: 60_000 }));
    await sync(running);
    type Counters = { worker_pid: number; servers: Array<{ port: number; status: string; weight: number; requests: number; responses_5xx: number }> };
    const counters = async () => (await running!.request(COUNTERS_REQUESTED, { hostname: app.hostname.toUpperCase(), port })) as Counters;
    await waitFor('the closed port found down by its check', async () => (await counters()).servers.some((s) => s.port === gone && s.status === 'DOWN'), 5_000);
    for (let i = 0; i < 10; i += 1) await get(port, app.hostname, '/fail');
    const reply = await counters();
    expect(reply.worker_pid).to.be.a('number').and.above(0);
    const byPort = new Map(reply.servers.map((s) => [s.port, s]));
    expect([...byPort.keys()].sort()).to.deep.equal([a.port, b.port, gone].sort());
    expect(byPort.get(a.port)).to.include({ weight: 30, requests: a.hits, responses_5xx: a.hits });
    expect(byPort.get(a.port)?.status).to.match(/^UP/);
    expect(byPort.get(b.port)).to.include({ requests: b.hits, responses_5xx: b.hits });
    expect(a.hits + b.hits, 'every request answered by a live backend').to.equal(10);
    expect(byPort.get(gone)).to.include({ status: 'DOWN', requests: 0 });
    expect((await rejectionOf(running.request(COUNTERS_REQUESTED, { hostname: 'unknown.test', port }))).message).to.match(/no authority unknown\.test:\d+ among the routes the router serves/);
  });

  it('kill -9 of the HAProxy master: the Router crashes, restarts, and serves the Manager routes again', async () => {
    const a = await h.backend('a');
    const port = await closedPort();
    const app = await authority(port);
    await client.router.addRoute(app.id, backendRoute(a.port));
    const dir = h.newDir();
    running = await startRouter(routerArgs(access, dir));
    await sync(running);
    const masterPid = (): number => Number(readFileSync(join(dir, 'haproxy.pid'), 'utf8'));
    const pid = masterPid();
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    // Served by a new master: the old worker may answer for a moment after its master died.
    const servedByNew = async () => masterPid() !== pid && (await get(port, app.hostname).catch(() => ({ status: 0 }))).status === 200;
    await waitFor('routes served by a new HAProxy', servedByNew, 10_000);
    const tookMs = Date.now() - killedAt;
    process.stdout.write(`      kill -9 of the HAProxy master to routes served by a new one: ${tookMs} ms\n`);
    expect(tookMs).to.be.below(2_000);
    expect(running.failures).to.deep.equal([]);
  });

  it('a Manager outage: sync is refused with the reason, the proxy serves the last routes, and follows again once it is back', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const app = await authority(port);
    const ra = await client.router.addRoute(app.id, backendRoute(a.port));
    const manager = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(api().baseUrl).port) });
    try {
      running = await startRouter(routerArgs({ ...access, baseUrl: `http://127.0.0.1:${manager.port}` }, h.newDir()));
      await sync(running);
      manager.drop();
      const err = await rejectionOf(sync(running));
      expect(err.name).to.equal(DEAD_LETTERED_ERROR);
      expect(err.message).to.match(/^ManagerUnavailableError: /);
      expect(await get(port, app.hostname)).to.deep.equal({ status: 200, body: 'a' });
      await client.router.addRoute(app.id, backendRoute(b.port));
      await client.router.deleteRoute(app.id, ra);
      manager.restore();
      await waitFor('the new routes served', async () => (await get(port, app.hostname)).body === 'b', 30_000);
    } finally {
      await manager.close();
    }
  });
});

describe('router: without haproxy', () => {
  it('stays idle and refuses every request with the reason, naming ROUTER_HAPROXY_BINARY', async () => {
    const missing = 'ROUTER_HAPROXY_BINARY: no executable haproxy-nope (on PATH or in /usr/sbin)';
    const running = await startRouter(routerArgs({ baseUrl: 'http://127.0.0.1:1', clientId: 'c', clientSecret: 's' }, '/nonexistent', { haproxy: { missing } }));
    try {
      for (const request of [sync(running), running.request(DRAIN_REQUESTED, { hostname: 'a.test', port: 80, backend_host: '127.0.0.1', backend_port: 1, timeout_ms: 0 })]) {
        const err = await rejectionOf(request);
        expect([err.name, err.message]).to.deep.equal([DEAD_LETTERED_ERROR, `the router is idle: ${missing}`]);
      }
      expect(running.failures).to.deep.equal([]);
    } finally {
      await running.stop();
    }
  });
});
