import { expect } from 'chai';
import { connect } from 'amqplib';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagerClient } from '../../http/client/manager-client.js';
import { generateKeyPair } from '../../http/secrets.js';
import { scratchPostgres } from '../http/harness.js';
import { needs, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import {
  adminClient,
  adminSecretOf,
  adminToken,
  completion,
  exampleRepos,
  freePort,
  hostPortsOf,
  postAsAdmin,
  removeContainersOf,
  smtpSink,
  startTopology,
  type PlatformProcess,
} from './platform.js';

/**
 * Issue 9, seed 001: the management assembly in exchange 1 and the build and deploy assemblies in exchange 2 (a child
 * of 1: routing keys `<root>.<zone>.<queue>`), three processes over RabbitMQ and PostgreSQL. The same example
 * workflow completes; then the `build` process is killed with SIGKILL during a build and restarted by this test (the
 * process manager's role), and that workflow still completes exactly once.
 */
describe('e2e: management, build and deploy processes over RabbitMQ in two exchanges', function () {
  this.timeout(600_000);
  needs('postgres', 'rabbitmq', 'docker', 'registry');
  const root = `oa_e2e_${randomUUID().slice(0, 8)}`;
  const zone = 'zone2';
  const vhost = `oa-e2e-${randomUUID().slice(0, 8)}`;
  const mailTo = 'ops@example.test';
  const processes: PlatformProcess[] = [];
  let dir: string;
  let db: Awaited<ReturnType<typeof scratchPostgres>>;
  let smtp: Awaited<ReturnType<typeof smtpSink>>;
  let repos: ReturnType<typeof exampleRepos>;
  let client: ManagerClient;
  let env: NodeJS.ProcessEnv;
  const workflows: string[] = [];

  before(async function () {
    this.timeout(400_000);
    dir = mkdtempSync(join(tmpdir(), 'oa-e2e-3p-'));
    db = await scratchPostgres();
    smtp = await smtpSink();
    repos = exampleRepos(mailTo);
    const keys = await generateKeyPair();
    writeFileSync(join(dir, 'public.pem'), keys.publicKeyPem);
    writeFileSync(join(dir, 'private.pem'), keys.privateKeyPem);
    const amqp = new URL(services().amqpUrl);
    // The Manager's messaging tables as every process reads them (the ids the API gives a fresh database below). Each
    // exchange has its own broker (here a vhost of the same RabbitMQ), as the original's zones did, and the broker
    // restrictions send every publish into an exchange through that exchange's broker (reference §4.4).
    execFileSync('rabbitmqctl', ['add_vhost', vhost], { stdio: 'ignore' });
    execFileSync('rabbitmqctl', ['set_permissions', '-p', vhost, decodeURIComponent(amqp.username), '.*', '.*', '.*'], { stdio: 'ignore' });
    const connection = (id: number, virtualHost: string) => ({
      id,
      messaging_broker_id: id,
      username: decodeURIComponent(amqp.username),
      password: decodeURIComponent(amqp.password),
      host: amqp.hostname,
      port: Number(amqp.port || 5672),
      virtual_host: virtualHost,
    });
    const metadata = {
      exchanges: [
        { id: 1, name: root, parent_exchange_id: null, routing_key_fragment: root, failover_exchange_id: null },
        { id: 2, name: zone, parent_exchange_id: 1, routing_key_fragment: zone, failover_exchange_id: null },
      ],
      brokers: [
        { id: 1, name: 'management', failover_broker_id: null },
        { id: 2, name: 'zone2', failover_broker_id: null },
      ],
      connections: [connection(1, '/'), connection(2, vhost)],
      restrictions: [
        { id: 1, messaging_exchange_id: 1, messaging_broker_id: 1 },
        { id: 2, messaging_exchange_id: 2, messaging_broker_id: 2 },
      ],
    };
    writeFileSync(join(dir, 'messaging.json'), JSON.stringify(metadata));
    const port = await freePort();
    env = {
      ...process.env,
      OA_MESSAGING_METADATA: join(dir, 'messaging.json'),
      MANAGER_DATABASE_URL: db.url,
      MANAGER_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      MANAGER_MESSAGING_PUBLIC_KEY: join(dir, 'public.pem'),
      MANAGER_MESSAGING_PRIVATE_KEY: join(dir, 'private.pem'),
      MANAGER_HTTP_PORT: String(port),
      MANAGER_URL: `http://127.0.0.1:${port}`,
      OAUTH_CLIENT_ID: 'platform-e2e',
      OAUTH_CLIENT_SECRET: randomBytes(24).toString('base64url'),
      SMTP_URI: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_FROM: 'openaperture@example.test',
      UI_URL: 'http://ui.example.test',
      OA_HEARTBEAT_INTERVAL_MS: '1000',
      OA_LOG_LEVEL: 'warn',
    };
    const management = startTopology('management', { ...env, EXCHANGE_ID: '1', BROKER_ID: '1' });
    processes.push(management);
    const base = `http://127.0.0.1:${port}`;
    const secret = await adminSecretOf(management);
    client = adminClient(base, secret);
    await registerPlatform(base, await adminToken(base, secret), root, zone);
    processes.push(startTopology('build', { ...env, EXCHANGE_ID: '2', BROKER_ID: '2' }), startTopology('deploy', { ...env, EXCHANGE_ID: '2', BROKER_ID: '2' }));
    await waitFor(
      'the builder and deployer modules of exchange 2 to be registered',
      async () => {
        const types = (await client.exchangeModules.list(2)).items.filter((m) => m.status === 'active').map((m) => m.type);
        return types.includes('builder') && types.includes('deployer');
      },
      120_000,
    );
  });

  after(async () => {
    for (const p of processes) await p.stop();
    for (const id of workflows) await removeContainersOf(id);
    await smtp?.close();
    await db?.drop();
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    // The management exchange's queues live in the shared vhost; other suites use the same names.
    for (const queue of ['workflow_orchestration', 'system_modules', 'overseer', 'notifications_hipchat', 'notifications_email', 'build_logs']) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(`${queue}_error`);
    }
    await channel.deleteExchange(root);
    await raw.close();
    execFileSync('rabbitmqctl', ['delete_vhost', vhost], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    if (repos) rmSync(repos.dir, { recursive: true, force: true });
  });

  it('runs the example [build, deploy] workflow across the three processes', async () => {
    const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build', 'deploy'] });
    workflows.push(id);
    expect(await client.workflows.execute(id)).to.include({ queued: true });
    const done = await completion(client, id, 300_000);
    expect(done.workflow_error, (done.event_log ?? []).join('\n')).to.equal(false);
    expect((done.event_log ?? []).join('\n')).to.match(/exchange 2/);
    for (const port of await hostPortsOf(id)) expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).to.match(/hello/i);
    await waitFor('the completion e-mail', () => smtp.mails.find((m) => m.text.includes(id)), 60_000);
  });

  it('completes a workflow exactly once when the build process is killed with SIGKILL mid-build and restarted', async () => {
    slowDownBuild(repos.dir);
    const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build', 'deploy'], execute_options: { force_build: true } });
    workflows.push(id);
    expect(await client.workflows.execute(id, { force_build: true })).to.include({ queued: true });
    await waitFor('the build to start', async () => (await client.workflows.get(id))?.current_step === 'build', 120_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const build = processes[1]!;
    await build.kill();
    processes[1] = startTopology('build', { ...env, EXCHANGE_ID: '2', BROKER_ID: '2' });
    const done = await completion(client, id, 400_000);
    const log = (done.event_log ?? []).join('\n');
    expect(done.workflow_error, log).to.equal(false);
    expect(log.match(/Workflow completed in/g), log).to.have.length(1);
    const ports = await hostPortsOf(id);
    expect(ports).to.have.length(1);
  });
});

/** What the operator registers (bootstrap's job in the embedded default): the exchanges, the broker, the cluster. */
async function registerPlatform(base: string, token: string, root: string, zone: string): Promise<void> {
  expect(await postAsAdmin(base, token, '/messaging/exchanges', { name: root, routing_key_fragment: root })).to.equal('/messaging/exchanges/1');
  expect(await postAsAdmin(base, token, '/messaging/exchanges', { name: zone, routing_key_fragment: zone, parent_exchange_id: 1 })).to.equal('/messaging/exchanges/2');
  expect(await postAsAdmin(base, token, '/messaging/brokers', { name: 'local' })).to.equal('/messaging/brokers/1');
  await postAsAdmin(base, token, '/clusters', { etcd_token: 'local', allow_docker_builds: true, messaging_exchange_id: 2 });
  await postAsAdmin(base, token, '/clusters/local/hosts', { name: 'local', docker_url: `unix://${services().dockerSocket}` });
}

/** A build step long enough to kill the build process in (the deployment repo's Dockerfile gets a `RUN sleep`). */
function slowDownBuild(reposDir: string): void {
  const work = mkdtempSync(join(tmpdir(), 'oa-e2e-slow-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=e2e', '-c', 'user.email=e2e@openaperture.invalid', ...args], { stdio: 'ignore' });
  execFileSync('git', ['clone', '-q', join(reposDir, 'hello_docker'), work]);
  execFileSync('bash', ['-c', `printf 'RUN echo slow build && sleep 15\\n' >> ${join(work, 'Dockerfile.eex')}`]);
  git('commit', '-q', '-am', 'a slow build');
  git('push', '-q', 'origin', 'HEAD');
  rmSync(work, { recursive: true, force: true });
}
