import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockRouterDir, routerLockPathOf } from '../../../actors/router/lock.js';
import { haproxyBinary, needs } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';

const LOCK = fileURLToPath(new URL('../../../actors/router/lock.ts', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));

/** Another process holding `dir` through lockRouterDir, as a running router does; resolves once it holds it. */
async function holderOf(dir: string): Promise<ChildProcess> {
  const code = `const { lockRouterDir } = await import(${JSON.stringify(LOCK)}); await lockRouterDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  await waitFor('the other process to hold the lock', () => out.includes('locked'), 20_000);
  return child;
}

const exitOf = (child: ChildProcess): Promise<unknown> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));

describe('router: one router per ROUTER_DIR', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-router-lock-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused while another live process holds the directory, naming ROUTER_DIR and its pid', async () => {
    const holder = await holderOf(dir);
    children.push(holder);
    const refused = await lockRouterDir(dir).then(() => undefined, (err: unknown) => err as Error);
    expect(refused?.name).to.equal('RouterDirLockedError');
    expect(refused?.message).to.equal(`ROUTER_DIR ${dir} is in use by the router of process ${holder.pid}; stop that process or give this router another ROUTER_DIR`);
  });

  it('is taken at once from a holder that was SIGKILLed, and free again once released', async () => {
    const holder = await holderOf(dir);
    holder.kill('SIGKILL');
    await exitOf(holder);
    const release = await lockRouterDir(dir);
    expect(await readFile(routerLockPathOf(dir), 'utf8')).to.equal(`${process.pid}\n`);
    await release();
    await (await lockRouterDir(dir))();
  });

  it("takes a lock naming this process's own pid that it does not hold (left by an earlier process given the same pid, as pid 1 in a container), and refuses one it holds", async () => {
    await writeFile(routerLockPathOf(dir), `${process.pid}\n`);
    const release = await lockRouterDir(dir);
    const again = await lockRouterDir(dir).then(() => undefined, (err: unknown) => err as Error);
    expect(again?.name).to.equal('RouterDirLockedError');
    await release();
  });

  describe('a router process on a held ROUTER_DIR', function () {
    needs('haproxy');
    it('stops with the error naming ROUTER_DIR and the holder, before it touches the proxy', async () => {
      const holder = await holderOf(join(dir, 'router'));
      children.push(holder);
      const topology = join(dir, 'router.json');
      await writeFile(topology, JSON.stringify({ name: 'router-lock-test', transport: 'in-memory', components: [{ name: 'router' }] }));
      const env = { ...process.env, MANAGER_URL: 'http://127.0.0.1:1', OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 's', ROUTER_DIR: join(dir, 'router'), ROUTER_HAPROXY_BINARY: haproxyBinary() };
      const second = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topology], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(second);
      let output = '';
      second.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      second.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      await exitOf(second);
      expect(second.exitCode, output).to.not.equal(0);
      expect(output).to.include(`ROUTER_DIR ${join(dir, 'router')} is in use by the router of process ${holder.pid}`);
      expect(output).to.not.include('HAProxy started');
    });
  });
});
