import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, stopCliProcesses, type CliResult } from './harness.js';
import { scratchPostgres } from '../http/harness.js';
import { needs } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `migrate`, `bootstrap` and `start` run the platform's own code from the CLI, on the database `npm start` would
 * use (OA_DATA_DIR): a newcomer's path of bootstrap, start, login and a first look at the cluster.
 */

function ok(r: CliResult): string {
  expect(r.code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).to.equal(0);
  return r.stdout;
}

describe('openaperture migrate, bootstrap and start', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-platform-'));
  });
  after(async () => {
    stopCliProcesses();
    await rm(dir, { recursive: true, force: true });
  });
  const env = (): Record<string, string> => ({ OA_DATA_DIR: join(dir, 'data'), OA_CONFIG_DIR: join(dir, 'config'), OA_LOG_LEVEL: 'info' });
  let admin: { id: string; secret: string };

  it('migrate creates the embedded database and applies every migration', async () => {
    const out = ok(await runCli(['migrate'], { env: env() }));
    expect(out).to.match(new RegExp(`^embedded PGlite at ${dir}/data/manager/db: up to date, \\d+ migrations \\(latest \\S+\\)\\n$`));
  });

  it('bootstrap creates the first platform once, and the admin secret is shown once', async () => {
    const first = ok(await runCli(['bootstrap', '--docker-url', 'unix:///var/run/docker.sock'], { env: env() }));
    expect(first).to.match(/^created\s+cluster\s+local$/m);
    expect(first).to.match(/^created\s+cluster_host\s+local/m);
    expect(first).to.match(/^EXCHANGE_ID=\d+ BROKER_ID=\d+ \(cluster id \d+\)$/m);
    const secret = /^\s+client_secret: (\S+)$/m.exec(first)?.[1];
    expect(secret, first).to.be.a('string');
    admin = { id: /^\s+client_id:\s+(\S+)$/m.exec(first)?.[1] ?? '', secret: secret ?? '' };
    const again = JSON.parse(ok(await runCli(['--json', 'bootstrap'], { env: env() }))) as { created: unknown[]; present: unknown[]; adminClient?: unknown };
    expect(again.created).to.deep.equal([]);
    expect(again.present).to.not.deep.equal([]);
    expect(again).to.not.have.property('adminClient');
  });

  it('start runs a topology on that database, serves the API, and stops cleanly on SIGINT', async () => {
    const topology = join(dir, 'manager-only.json');
    await writeFile(topology, JSON.stringify({ name: 'cli-test', transport: 'in-memory', components: [{ name: 'manager', mode: 'in-memory', args: { embedded: true } }] }));
    const lines: string[] = [];
    const started = startCli(['start', '--topology', topology], { env: { ...env(), MANAGER_HTTP_PORT: '0' }, onLine: (l) => lines.push(l) });
    const url = await waitFor(
      'the Manager to listen',
      () => lines.map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg?: string; url?: string }) : {})).find((l) => l.msg === 'Manager API listening')?.url,
      240_000,
    );
    ok(await runCli(['login', '--url', url, '--client-id', admin.id, '--client-secret', admin.secret], { env: env() }));
    expect(ok(await runCli(['clusters', 'list'], { env: env() }))).to.match(/^local\s+/m);
    expect(ok(await runCli(['hosts', 'list', 'local'], { env: env() }))).to.match(/^local\s+unix:\/\/\/var\/run\/docker\.sock\s+active/m);
    started.child.kill('SIGINT');
    const stopped = await started.done;
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(lines.some((l) => l.includes('"msg":"stopped"'))).to.equal(true);
  });

  it('an unknown topology is one line', async () => {
    const r = await runCli(['start', '--topology', 'no-such-topology'], { env: env() });
    expect(r.code).to.equal(1);
    expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/^openaperture: .*no-such-topology/);
  });

  describe('on PostgreSQL', () => {
    needs('postgres');
    it('migrate names the database without its password', async () => {
      const scratch = await scratchPostgres();
      try {
        const url = new URL(scratch.url);
        const out = ok(await runCli(['migrate'], { env: { ...env(), MANAGER_DATABASE_URL: scratch.url } }));
        expect(out).to.include(`PostgreSQL ${url.protocol}//${url.username}${url.password === '' ? '' : ':***'}@${url.host}${url.pathname}: up to date`);
        if (url.password !== '') expect(out).to.not.include(url.password);
      } finally {
        await scratch.drop();
      }
    });
  });
});
