import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './platform.js';
import { processStat } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'openaperture.mjs');

/** A process's command line: the node binary, its execArgv, the script and its arguments. */
const commandLine = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
const nodeOptions = (pid: number): string =>
  readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('NODE_OPTIONS='))?.slice('NODE_OPTIONS='.length) ?? '';

/**
 * Production runs compiled JavaScript (issue 13 item 7): built as `npm ci` builds it (the `prepare` script), the
 * `openaperture` command starts a topology from dist/, with a forked component, and no tsx anywhere.
 */
describe('the compiled platform (dist/)', function () {
  this.timeout(600_000);
  let dataDir: string;

  before(() => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, `npm run build failed:\n${build.stdout}${build.stderr}`).to.equal(0);
    dataDir = mkdtempSync(join(tmpdir(), 'oa-compiled-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs from bin/openaperture.mjs without tsx: the Manager answers, a forked component starts, SIGINT stops it', async () => {
    const topology = join(dataDir, 'compiled.json');
    const components = [
      { name: 'manager', mode: 'in-memory', args: { embedded: true } },
      { name: 'notifications', mode: 'forked', args: { embedded: true } },
    ];
    writeFileSync(topology, JSON.stringify({ name: 'compiled', transport: 'in-memory', components }));
    const port = await freePort();
    const env: Record<string, string | undefined> = { ...process.env, OA_DATA_DIR: dataDir, MANAGER_HTTP_PORT: String(port), OA_LOG_LEVEL: 'info' };
    delete env.NODE_OPTIONS;
    const platform = spawn(process.execPath, [BIN, 'start', '--topology', topology], { cwd: tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    platform.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    platform.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => platform.on('exit', resolve));
    try {
      const logs = () => out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { pid: number; msg: string; url?: string });
      const url = await waitFor('the Manager to listen', () => logs().find((l) => l.msg === 'Manager API listening')?.url, 180_000);
      const forked = await waitFor('the forked Notifications', () => logs().find((l) => l.msg === 'Notifications ready')?.pid, 60_000);
      expect((await fetch(`${url}/openapi.json`)).status).to.equal(200);

      expect(forked, 'Notifications runs in a process of its own').to.not.equal(platform.pid);
      expect(processStat(forked)?.ppid, 'forked from the platform process').to.equal(platform.pid);
      for (const pid of [platform.pid!, forked]) {
        expect(commandLine(pid).join(' '), `process ${pid}`).to.not.match(/tsx/);
        expect(nodeOptions(pid), `process ${pid}'s NODE_OPTIONS`).to.not.match(/tsx/);
      }
      expect(commandLine(forked).join(' ')).to.include('comedy/lib/forked-actor-worker.js');
    } finally {
      platform.kill('SIGINT');
    }
    expect(await exited, out.slice(-2_000)).to.equal(0);
  });
});
