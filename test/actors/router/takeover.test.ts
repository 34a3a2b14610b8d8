import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { fetchProcessList } from '../../../runtime/haproxy/runtime-api.js';
import { closedPort } from '../../helpers/ports.js';
import { haproxyBinary, needs } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import { get, Harness } from '../../runtime/haproxy/harness.js';
import { managerAccessOf } from './harness.js';

const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));

/** The Router alone in a process started by actors/main.ts (in-memory transport), with its stdout log lines. */
function spawnRouter(topology: string, env: Record<string, string>): { child: ChildProcess; lines: Array<Record<string, unknown>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topology], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { child, lines };
}

forEachDatabase('router: a killed router process does not take traffic down', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (api) => {
  needs('haproxy');
  const h = new Harness();
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await h.cleanUp();
  });

  it('SIGKILL of the process hosting the router: HAProxy serves on, and a new router takes it over, 0 failed requests', async () => {
    const { access, client } = await managerAccessOf(api());
    const a = await h.backend('a');
    const port = await closedPort();
    const id = await client.router.createAuthority({ hostname: 'app.test', port });
    await client.router.addRoute(id, { hostname: '127.0.0.1', port: a.port });
    const dir = h.newDir();
    const topology = join(dir, 'router.json');
    writeFileSync(topology, JSON.stringify({ name: 'router-test', transport: 'in-memory', components: [{ name: 'router' }] }));
    const env = { MANAGER_URL: access.baseUrl, OAUTH_CLIENT_ID: access.clientId, OAUTH_CLIENT_SECRET: access.clientSecret, ROUTER_DIR: join(dir, 'router'), ROUTER_HAPROXY_BINARY: haproxyBinary(), ROUTER_RESYNC_MS: '200' };
    const first = spawnRouter(topology, env);
    children.push(first.child);
    await waitFor('the first router serving', async () => (await get(port, 'app.test').catch(() => ({ status: 0 }))).status === 200, 30_000);
    const masterPid = Number(readFileSync(join(dir, 'router', 'haproxy.pid'), 'utf8'));

    const tally = { ok: 0, failed: 0 };
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const { status } = await get(port, 'app.test').catch(() => ({ status: 0 }));
        if (status === 200) tally.ok += 1;
        else tally.failed += 1;
      }
    })();
    await waitFor('some requests through the first router', () => tally.ok > 50, 5_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const okWhileNone = tally.ok;
    await waitFor('requests with no router process', () => tally.ok > okWhileNone + 50, 5_000);
    const startedAt = Date.now();
    const second = spawnRouter(topology, env);
    children.push(second.child);
    await waitFor('the second router to take the proxy over', () => second.lines.some((l) => l.msg === 'routes changed'), 30_000);
    const tookOverMs = Date.now() - startedAt;
    const okAtTakeOver = tally.ok;
    await waitFor('requests after the take-over', () => tally.ok > okAtTakeOver + 50, 5_000);
    probing = false;
    await probe;
    process.stdout.write(`      across the router kill and take-over: ${tally.ok} ok, ${tally.failed} failed; new process to take-over done: ${tookOverMs} ms\n`);
    expect(tally.failed).to.equal(0);
    expect(second.lines.some((l) => l.msg === 'took over the HAProxy an earlier router left serving; it is reloaded on the Manager routes' && l.pid === masterPid)).to.equal(true);
    expect((await fetchProcessList(join(dir, 'router', 'master.sock'))).masterPid).to.equal(masterPid);
  });
});
