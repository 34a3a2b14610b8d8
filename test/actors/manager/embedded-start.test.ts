import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../helpers/wait.js';
import { freePort } from '../../e2e/platform.js';

const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));

interface Run {
  readonly stdout: () => string;
  readonly url: Promise<string>;
  stop(): Promise<number | null>;
}

/** `npm start` as a newcomer runs it: the all-in-one topology, here on a free port and a throwaway data directory. */
function start(dataDir: string, port: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', 'all-in-one'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OA_DATA_DIR: dataDir, MANAGER_HTTP_PORT: String(port), OA_LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = waitFor('the Manager to listen', () => /"url":"(http:\/\/[^"]+)","msg":"Manager API listening"/.exec(out)?.[1], 180_000);
  return {
    stdout: () => out,
    url,
    async stop() {
      child.kill('SIGINT');
      // A process that does not stop is a failure to diagnose: its output says where it stood.
      const stuck = setTimeout(() => process.stderr.write(`\nall-in-one (pid ${child.pid}) has not exited 60 s after SIGINT; its output ends:\n${out.slice(-4_000)}\n`), 60_000);
      try {
        return await exited;
      } finally {
        clearTimeout(stuck);
      }
    },
  };
}

async function tokenFor(url: string, secret: string): Promise<string> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'admin', client_secret: secret }),
  });
  expect(res.status).to.equal(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('npm start: the embedded all-in-one Manager', function () {
  this.timeout(400_000);
  let dataDir: string;
  before(() => (dataDir = mkdtempSync(join(tmpdir(), 'oa-embedded-'))));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('bootstraps on first start, keeps its data and keys, and prints the secret only once', async () => {
    const port = await freePort();
    const first = start(dataDir, port);
    const url = await first.url;
    const secret = await waitFor('the admin credentials', () => /client_secret: (\S+)/.exec(first.stdout())?.[1]);
    const token = await tokenFor(url, secret);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const cluster = await fetch(`${url}/clusters/local`, { headers: auth });
    expect(cluster.status, 'bootstrap made the local cluster').to.equal(200);
    const hosts = (await (await fetch(`${url}/clusters/local/hosts`, { headers: auth })).json()) as Array<{ name: string }>;
    expect(hosts.map((h) => h.name)).to.deep.equal(['local']);
    const exchanges = (await (await fetch(`${url}/messaging/exchanges`, { headers: auth })).json()) as Array<{ name: string }>;
    expect(exchanges.map((e) => e.name)).to.deep.equal(['openaperture']);
    const broker = await fetch(`${url}/messaging/brokers`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'local' }) });
    expect(broker.status).to.equal(201);
    const location = broker.headers.get('location')!;
    const connection = await fetch(`${url}${location}/connections`, { method: 'POST', headers: auth, body: JSON.stringify({ username: 'guest', password: 'guest-pass', host: '127.0.0.1' }) });
    expect(connection.status).to.equal(201);
    expect(await first.stop()).to.equal(0);
    expect(statSync(join(dataDir, 'manager', 'keys', 'private.pem')).mode & 0o777).to.equal(0o600);

    const second = start(dataDir, port);
    const again = await second.url;
    expect(second.stdout()).to.not.include('client_secret');
    const token2 = await tokenFor(again, secret);
    const listed = await fetch(`${again}${location}/connections`, { headers: { authorization: `Bearer ${token2}` } });
    expect(((await listed.json()) as Array<{ password: string }>)[0]!.password, 'sealed under the kept key pair').to.equal('guest-pass');
    expect(await second.stop()).to.equal(0);
  });
});
