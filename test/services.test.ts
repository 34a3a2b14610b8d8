import { expect } from 'chai';
import { connect as amqpConnect } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { haproxyBinary, needs, services } from './helpers/services.js';

/** The environment the suites rely on (deploy/dev-services.sh), checked with a real exchange per service. */

function getJson(options: { socketPath?: string; host?: string; port?: number; path: string }): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...options, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const hostPort = (address: string): { host: string; port: number } => ({ host: address.split(':')[0]!, port: Number(address.split(':')[1]) });

describe('test services', function () {
  this.timeout(20_000);

  describe('PostgreSQL', () => {
    needs('postgres');
    it('answers queries in the test database', async () => {
      const client = new pg.Client({ connectionString: services().databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ db: string }>('select current_database() as db');
        expect(rows[0]?.db).to.equal('openaperture_test');
      } finally {
        await client.end();
      }
    });
  });

  for (const [name, url] of [
    ['rabbitmq', () => services().amqpUrl],
    ['rabbitmq-2', () => services().amqpUrl2],
  ] as const) {
    describe(`RabbitMQ (${name})`, () => {
      needs(name);
      it('routes a published message back to a consumer', async () => {
        const connection = await amqpConnect(url());
        try {
          const channel = await connection.createChannel();
          const { queue } = await channel.assertQueue('', { exclusive: true });
          channel.sendToQueue(queue, Buffer.from('hello'));
          let got: string | undefined;
          for (let i = 0; i < 50 && got === undefined; i++) {
            const msg = await channel.get(queue, { noAck: true });
            if (msg) got = msg.content.toString('utf8');
            else await new Promise((r) => setTimeout(r, 20));
          }
          expect(got).to.equal('hello');
        } finally {
          await connection.close();
        }
      });
    });
  }

  describe('Docker engine', () => {
    needs('docker');
    it('has the offline base image', async () => {
      const { status, body } = await getJson({ socketPath: services().dockerSocket, path: `/images/${services().baseImage}/json` });
      expect(status).to.equal(200);
      expect(body).to.have.property('Id').that.matches(/^sha256:/);
    });
  });

  describe('registries', () => {
    needs('registry', 'registry-auth');
    it('serves the open registry API', async () => {
      const { status, body } = await getJson({ ...hostPort(services().registry), path: '/v2/_catalog' });
      expect(status).to.equal(200);
      expect(body).to.have.property('repositories').that.is.an('array');
    });
    it('refuses the authenticated registry without credentials', async () => {
      const { status } = await getJson({ ...hostPort(services().registryAuth.host), path: '/v2/' });
      expect(status).to.equal(401);
    });
  });

  describe('sshd', () => {
    needs('sshd', 'docker');
    it('runs the docker CLI over ssh with the generated key', () => {
      const { ssh } = services();
      const run = spawnSync('ssh', ['-i', ssh.keyPath, '-p', String(ssh.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `${ssh.user}@${ssh.host}`, 'docker', 'version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 15_000 });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout.trim()).to.match(/^\d+\.\d+/);
    });
  });

  describe('haproxy', () => {
    needs('haproxy');
    it('checks a master-worker config with an admin socket that hands listeners over', () => {
      const dir = mkdtempSync(join(tmpdir(), 'oa-services-haproxy-'));
      try {
        const config = ['global', '  master-worker', `  stats socket ${dir}/admin.sock mode 600 level admin expose-fd listeners`, 'defaults', '  mode http', '  timeout connect 1s', '  timeout client 1s', '  timeout server 1s', 'frontend fe', '  bind 127.0.0.1:1', ''];
        writeFileSync(join(dir, 'haproxy.cfg'), config.join('\n'));
        const run = spawnSync(haproxyBinary(), ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8', timeout: 15_000 });
        expect(run.status, `${run.stdout}${run.stderr}`).to.equal(0);
        expect(run.stdout).to.match(/Configuration file is valid/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('a suite whose service is missing', function () {
  this.timeout(30_000);
  const suite = fileURLToPath(new URL('./helpers/fixtures/needs-postgres.suite.ts', import.meta.url));
  const run = (required: boolean) =>
    spawnSync(process.execPath, [fileURLToPath(new URL('../node_modules/mocha/bin/mocha.js', import.meta.url)), '--no-config', '-n', 'import=tsx', suite], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', OA_REQUIRE_SERVICES: required ? '1' : '0' },
    });

  it('prints one loud SKIPPED line naming the service, and skips', () => {
    const result = run(false);
    expect(result.stderr).to.match(/!!!!! SKIPPED "needs postgres": service postgres unavailable: .*ECONNREFUSED/);
    expect(result.stdout).to.match(/0 passing[\s\S]*1 pending/);
    expect(result.status).to.equal(0);
  });

  it('fails under OA_REQUIRE_SERVICES=1', () => {
    const result = run(true);
    expect(result.stdout).to.match(/service postgres is required \(OA_REQUIRE_SERVICES=1\) but unavailable/);
    expect(result.status).to.not.equal(0);
  });
});
