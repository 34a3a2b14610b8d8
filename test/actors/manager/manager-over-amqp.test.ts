import { expect } from 'chai';
import { connect } from 'amqplib';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateKeyPair } from '../../../http/secrets.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));

describe('the Manager over RabbitMQ and PostgreSQL', function () {
  this.timeout(120_000);
  needs('postgres', 'rabbitmq');
  const exchangeName = `oa_mgmt_${randomUUID().slice(0, 8)}`;
  const database = `oa_mgmt_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oa-mgmt-'));
    const client = new pg.Client({ connectionString: services().databaseUrl });
    await client.connect();
    await client.query(`create database ${database}`);
    await client.end();
  });
  after(async () => {
    const client = new pg.Client({ connectionString: services().databaseUrl });
    await client.connect();
    await client.query(`drop database if exists ${database} with (force)`);
    await client.end();
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    for (const q of ['workflow_orchestration', 'workflow_orchestration_error', 'system_modules', 'system_modules_error']) await channel.deleteQueue(q);
    await channel.deleteExchange(exchangeName);
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The Manager alone over RabbitMQ (the management topology's orchestrator would take the request off the queue).
  it('serves the API, refuses to guess missing configuration, and queues an executed workflow on the broker', async () => {
    const topology = join(dir, 'manager-over-amqp.json');
    writeFileSync(topology, JSON.stringify({ name: 'manager-over-amqp', transport: 'amqp', components: [{ name: 'manager' }] }));
    const keys = await generateKeyPair();
    writeFileSync(join(dir, 'public.pem'), keys.publicKeyPem);
    writeFileSync(join(dir, 'private.pem'), keys.privateKeyPem);
    const url = new URL(services().databaseUrl);
    url.pathname = `/${database}`;
    const env = {
      ...process.env,
      AMQP_URL: services().amqpUrl,
      OA_EXCHANGE_NAME: exchangeName,
      MANAGER_DATABASE_URL: url.toString(),
      MANAGER_TOKEN_SECRET: 's'.repeat(40),
      MANAGER_MESSAGING_PUBLIC_KEY: join(dir, 'public.pem'),
      MANAGER_MESSAGING_PRIVATE_KEY: join(dir, 'private.pem'),
      MANAGER_HTTP_PORT: '0',
      OA_LOG_LEVEL: 'info',
    };
    const missing = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topology], { env: { ...env, MANAGER_TOKEN_SECRET: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    missing.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    expect(await new Promise((resolve) => missing.on('exit', resolve))).to.equal(1);
    expect(err).to.match(/MANAGER_TOKEN_SECRET: expected at least 32 characters \(not set\)/);

    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topology], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const base = await waitFor('the API', () => /"url":"(http:\/\/[^"]+)","msg":"Manager API listening"/.exec(out)?.[1], 60_000);
      const secret = await waitFor('the admin credentials', () => /client_secret: (\S+)/.exec(out)?.[1]);
      const tokenRes = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'admin', client_secret: secret }) });
      const { access_token } = (await tokenRes.json()) as { access_token: string };
      const auth = { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' };
      const created = await fetch(`${base}/workflows`, { method: 'POST', headers: auth, body: JSON.stringify({ deployment_repo: 'org/app_docker', milestones: ['deploy'] }) });
      const location = created.headers.get('location')!;
      const executed = await fetch(`${base}${location}/execute`, { method: 'POST', headers: auth, body: '{}' });
      expect(executed.status).to.equal(202);
      const raw = await connect(services().amqpUrl);
      const channel = await raw.createChannel();
      const msg = await waitFor('the orchestration request on the broker', async () => (await channel.get('workflow_orchestration', { noAck: true })) || undefined);
      await raw.close();
      const envelope = JSON.parse(msg.content.toString('utf8')) as { type: string; payload: { id?: string; workflow?: { id: string } } };
      expect(envelope.type).to.equal('workflow.execute_requested');
      expect(JSON.stringify(envelope.payload)).to.include(location.split('/').pop()!);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
  });
});
