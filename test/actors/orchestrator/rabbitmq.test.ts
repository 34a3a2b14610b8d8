import { expect } from 'chai';
import { connect } from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { ORCHESTRATOR_INTAKE } from '../../../actors/orchestrator/intake.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmailRequested, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE } from '../../../actors/notifications/messages.js';
import { BUILDER_QUEUE, DEPLOY_OA_QUEUE, DEPLOYER_QUEUE, WORKFLOW_ORCHESTRATION_QUEUE } from '../../../actors/orchestrator/messages.js';
import orchestrator, { type OrchestratorArgs } from '../../../actors/orchestrator/orchestrator.actor.js';
import { createApp } from '../../../http/app.js';
import { tokenIssuer } from '../../../http/auth.js';
import { managerClient, type ManagerClient, type Workflow } from '../../../http/client/manager-client.js';
import { openDatabase, type Database } from '../../../http/database.js';
import { MANAGER_ROUTES, type ManagerDeps } from '../../../http/routes/index.js';
import { startPlatformProcess, type PlatformProcess } from '../../../runtime/boot.js';
import { MessagingEnv, parseEnv, RuntimeEnv, type ManagerAccess } from '../../../runtime/config.js';
import { openTransport } from '../../../runtime/messaging/open.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import type { ChildInfo } from '../../../runtime/actors/protocol.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { scratchPostgres, testSecrets } from '../../http/harness.js';
import { operatorAccess } from './fixtures/manager.js';
import { seedPlatform, testTimeouts } from './fixtures/platform.js';
import { startTestWorkers } from './fixtures/test-workers.js';

const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));
const WORKERS = fileURLToPath(new URL('./fixtures/workers-process.ts', import.meta.url));
const QUEUES = [WORKFLOW_ORCHESTRATION_QUEUE, BUILDER_QUEUE, DEPLOYER_QUEUE, DEPLOY_OA_QUEUE, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE, 'system_modules'];

describe('WorkflowOrchestrator over RabbitMQ and PostgreSQL', function () {
  this.timeout(120_000);
  needs('postgres', 'rabbitmq');
  const exchangeName = `oa_orch_${randomUUID().slice(0, 8)}`;
  const { log } = captureLogs();
  const emails: EmailRequested[] = [];
  const children: ChildProcess[] = [];
  let messagingEnv: MessagingEnv;
  let rawMessagingEnv: Record<string, string>;
  let drop: () => Promise<void>;
  let db: Database;
  let server: Server;
  let transport: Transport;
  let access: ManagerAccess;
  let client: ManagerClient;
  let operatorToken: string;
  let baseUrl: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oa-orch-'));
    rawMessagingEnv = { AMQP_URL: services().amqpUrl, OA_EXCHANGE_NAME: exchangeName, EXCHANGE_ID: '1', BROKER_ID: '1' };
    messagingEnv = parseEnv(MessagingEnv, rawMessagingEnv);
    const scratch = await scratchPostgres(services().databaseUrl, 'oa_orch');
    drop = scratch.drop;
    db = await openDatabase({ kind: 'postgresql', url: scratch.url }, log);
    transport = await openTransport('amqp', messagingEnv, log);
    const tokens = tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 600 });
    const deps: ManagerDeps = { db, tokens, log, transport, exchangeId: 1, brokerId: 1, secrets: await testSecrets() };
    server = createApp(deps, MANAGER_ROUTES).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const admin = (await tokens.issue({ subject: 'test-admin', role: 'admin', kind: 'client' })).access_token;
    operatorToken = (await tokens.issue({ subject: 'test-operator', role: 'operator', kind: 'client' })).access_token;
    await seedPlatform(async (method, path, body) => {
      const res = await fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    });
    access = await operatorAccess(db, baseUrl);
    client = managerClient({ ...access, log });
    await transport.consume({
      queue: NOTIFICATIONS_EMAIL_QUEUE,
      decode: (payload) => ({ ok: true, value: EmailRequested.parse(payload) }),
      handle: async (email) => {
        emails.push(email);
        return { type: 'ack' };
      },
    });
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await transport?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await db?.close();
    await drop?.();
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    for (const q of QUEUES) {
      await channel.deleteQueue(q);
      await channel.deleteQueue(`${q}_error`);
    }
    await channel.deleteExchange(exchangeName);
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function execute(repo: string): Promise<string> {
    const id = await client.workflows.create({ deployment_repo: repo, source_repo: 'test/shop', source_repo_git_ref: 'abc123', milestones: ['build', 'deploy'] });
    const res = await fetch(`${baseUrl}/workflows/${id}/execute`, { method: 'POST', headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).to.equal(202);
    return id;
  }
  const finished = (id: string): Promise<Workflow> =>
    waitFor(`workflow ${id} to complete`, async () => {
      const w = await client.workflows.get(id);
      return w?.workflow_completed && (w.event_log ?? []).some((l) => / Workflow (completed|has failed) in /.test(l)) ? w : undefined;
    }, 60_000);
  const count = (w: Workflow, prefix: string) => (w.event_log ?? []).filter((l) => l.includes(`] ${prefix}`)).length;

  it('restarts its forked process after a kill mid-workflow, and the workflow completes exactly once', async () => {
    const args: OrchestratorArgs = { manager: access, exchangeId: 1, brokerId: 1, timeoutsMs: testTimeouts(60) };
    const env = parseEnv(RuntimeEnv.extend(MessagingEnv.shape), { ...rawMessagingEnv, OA_LOG_LEVEL: 'silent', OA_WATCHDOG_INTERVAL_MS: '200', OA_WATCHDOG_TIMEOUT_MS: '2000' });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached = false;
    const workers = await startTestWorkers({
      transport,
      manager: client,
      log,
      beforeAnswer: async (r) => {
        if (r.current_step !== 'build') return;
        reached = true;
        await held;
      },
    });
    const failures: Error[] = [];
    let platform: PlatformProcess | undefined;
    try {
      platform = await startPlatformProcess({
        topology: { name: 'orchestrator-forked', transport: 'amqp', restarts: { max_restarts: 3, within_ms: 10_000, backoff_initial_ms: 100, backoff_max_ms: 1_000 }, components: [{ name: 'orchestrator', mode: 'forked', args: { ...args } }] },
        catalogue: { orchestrator: { actor: orchestrator, intake: ORCHESTRATOR_INTAKE } },
        env,
        log,
        onFailure: (err) => failures.push(err),
      });
      const pidOf = (): number | undefined => {
        const [component] = platform!.system.root.children();
        const [actor]: readonly ChildInfo[] = component?.children ?? [];
        return actor?.status === 'running' ? actor.pid : undefined;
      };
      const first = await waitFor('the forked orchestrator', pidOf);
      expect(first).not.to.equal(process.pid);
      const id = await execute('test/ok_docker');
      await waitFor('the build to reach the worker', () => reached, 30_000);
      // Killed after the broker's confirmation is saved: the restarted orchestrator re-arms the deadline and does not
      // send the build again (an unconfirmed request is sent again with the same dispatch id: see the persisted tests).
      await waitFor('the confirmed build to be saved', async () => {
        const run = (await client.workflows.get(id))?.orchestration?.run as { milestone?: string; confirmed?: boolean } | null | undefined;
        return run?.milestone === 'build' && run.confirmed === true;
      }, 30_000);
      process.kill(first, 'SIGKILL');
      const second = await waitFor('the orchestrator to be restarted', () => {
        const pid = pidOf();
        return pid !== undefined && pid !== first ? pid : undefined;
      }, 30_000);
      expect(second).to.be.a('number');
      release();
      const w = await finished(id);
      expect([w.workflow_error, w.current_step]).to.deep.equal([false, 'workflow_completed']);
      expect([count(w, 'Workflow completed in'), count(w, 'Starting Workflow Milestone:  :deploy'), count(w, 'Completed Workflow Milestone:  :build')]).to.deep.equal([1, 1, 1]);
      expect(workers.received.filter((r) => r.workflowId === id).map((r) => r.milestone)).to.deep.equal(['build', 'deploy']);
      await waitFor('the completion e-mail', () => emails.some((e) => e.prefix.includes(id)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(emails.filter((e) => e.prefix.includes(id))).to.have.length(1);
      expect(failures).to.deep.equal([]);
    } finally {
      release();
      await platform?.system.shutdown(5_000);
      await workers.stop();
    }
  });

  it('runs a workflow with the orchestrator and the workers in separate processes', async () => {
    const topology = join(dir, 'orchestrator.json');
    writeFileSync(topology, JSON.stringify({ name: 'orchestrator-only', transport: 'amqp', components: [{ name: 'orchestrator' }] }));
    const env = {
      ...process.env,
      AMQP_URL: services().amqpUrl,
      OA_EXCHANGE_NAME: exchangeName,
      EXCHANGE_ID: '1',
      BROKER_ID: '1',
      MANAGER_URL: baseUrl,
      OAUTH_CLIENT_ID: access.clientId,
      OAUTH_CLIENT_SECRET: access.clientSecret,
      OA_HEARTBEAT_INTERVAL_MS: '60000',
      OA_LOG_LEVEL: 'info',
    };
    const started = (file: string, argv: string[], ready: RegExp) => {
      const child = spawn(process.execPath, ['--import', 'tsx', file, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      if (process.env.OA_TEST_LOG_LEVEL) child.on('exit', () => process.stderr.write(out));
      return { ready: waitFor(`${file} to be ready`, () => ready.test(out) || (child.exitCode !== null ? Promise.reject(new Error(out)) : false), 60_000), exited, child };
    };
    const workers = started(WORKERS, [], /test workers ready/);
    const orchestratorProcess = started(MAIN, ['--topology', topology], /adopted the unfinished workflows/);
    await Promise.all([workers.ready, orchestratorProcess.ready]);
    const ok = await execute('test/ok_docker');
    const failing = await execute('test/fail-deploy_docker');
    const [w, f] = await Promise.all([finished(ok), finished(failing)]);
    expect([w.workflow_error, w.current_step, count(w, 'Workflow completed in')]).to.deep.equal([false, 'workflow_completed', 1]);
    expect([f.workflow_error, f.current_step]).to.deep.equal([true, 'deploy']);
    expect(f.event_log!.some((l) => l.endsWith('Workflow Milestone Failed:  :deploy.  Reason:  the deployer double was told to fail deploy'))).to.equal(true);
    orchestratorProcess.child.kill('SIGTERM');
    workers.child.kill('SIGTERM');
    expect(await orchestratorProcess.exited).to.equal(0);
    expect(await workers.exited).to.equal(0);
  });
});
