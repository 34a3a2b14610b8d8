import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HaproxyProcess } from '../../../runtime/haproxy/process.js';
import { closedPort } from '../../helpers/ports.js';
import { haproxyBinary, needs } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { get, Harness, modelOf, route } from './harness.js';
import type { RoutingModel } from '../../../runtime/haproxy/core/model.js';

const HOLDER = fileURLToPath(new URL('./fixtures/hold-proxy.ts', import.meta.url));

/** Starts a HAProxy in another process, SIGKILLs that process, and gives the master pid it left running. */
async function orphanProxy(h: Harness, dir: string, model: RoutingModel): Promise<number> {
  const args = JSON.stringify({ binary: haproxyBinary(), dir, settings: h.settingsFor(dir), model });
  const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  holder.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const pid = await waitFor('the holder to start its proxy', () => /^ready (\d+)$/m.exec(out)?.[1], 15_000);
  const gone = new Promise((resolve) => holder.once('exit', resolve));
  holder.kill('SIGKILL');
  await gone;
  return Number(pid);
}

describe('runtime/haproxy/process: taking over a master an earlier process left running', function () {
  this.timeout(30_000);
  needs('haproxy');
  const h = new Harness();
  afterEach(() => h.cleanUp());

  it('a master outlives its SIGKILLed parent; adopt takes it over serving, its first apply reloads it, and stop() ends it', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const dir = h.newDir();
    const pid = await orphanProxy(h, dir, modelOf({ hostname: 'app.test', port, routes: [route(a)] }));
    expect(await get(port, 'app.test')).to.deep.equal({ status: 200, body: 'a' });
    const proxy = await HaproxyProcess.adopt({ binary: haproxyBinary(), dir, settings: h.settingsFor(dir) });
    expect([proxy?.pid, proxy?.model]).to.deep.equal([pid, undefined]);
    expect(await get(port, 'app.test')).to.deep.equal({ status: 200, body: 'a' });
    expect(await proxy!.apply(modelOf({ hostname: 'app.test', port, routes: [route(b)] }))).to.include({ kind: 'reload' });
    expect(await get(port, 'app.test')).to.deep.equal({ status: 200, body: 'b' });
    expect((await proxy!.processList()).reloads).to.equal(1);
    expect(await proxy!.apply(modelOf({ hostname: 'app.test', port, routes: [route(a), route(b)] }))).to.include({ kind: 'runtime' });
    expect(await proxy!.stop()).to.deep.equal({ code: null, signal: null, requested: true });
    expect(await HaproxyProcess.adopt({ binary: haproxyBinary(), dir, settings: h.settingsFor(dir) })).to.equal(undefined);
  });

  it('an adopted master that dies unasked resolves `exited`, within its poll period', async () => {
    const dir = h.newDir();
    const pid = await orphanProxy(h, dir, modelOf());
    const proxy = await HaproxyProcess.adopt({ binary: haproxyBinary(), dir, settings: h.settingsFor(dir) });
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    expect(await proxy!.exited).to.include({ requested: false });
    expect(Date.now() - killedAt).to.be.below(1_000);
  });

  it('takes nothing over without a live haproxy of this directory: no pidfile, a stale one, or a pid of another process', async () => {
    const dir = h.newDir();
    const opts = { binary: haproxyBinary(), dir, settings: h.settingsFor(dir) };
    expect(await HaproxyProcess.adopt(opts)).to.equal(undefined);
    for (const pid of [process.pid, 2 ** 22 + 1, 'junk']) {
      writeFileSync(join(dir, 'haproxy.pid'), `${pid}\n`);
      expect(await HaproxyProcess.adopt(opts), `pidfile ${pid}`).to.equal(undefined);
    }
    // A live haproxy of another directory is not ours either.
    const other = h.newDir();
    const otherPid = await orphanProxy(h, other, modelOf());
    writeFileSync(join(dir, 'haproxy.pid'), `${otherPid}\n`);
    expect(await HaproxyProcess.adopt(opts)).to.equal(undefined);
    process.kill(otherPid, 'SIGKILL');
  });
});
