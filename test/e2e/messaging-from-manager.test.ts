import { expect } from 'chai';
import { connect } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagerClient } from '../../http/client/manager-client.js';
import { generateKeyPair } from '../../http/secrets.js';
import { runCli } from '../cli/harness.js';
import { scratchPostgres } from '../http/harness.js';
import { needs, services } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { adminClient, adminToken, completion, exampleRepos, freePort, postAsAdmin, startTopology, type PlatformProcess } from './platform.js';

/** `rabbitmqctl` on node 1, or on the second node (`-n`). */
function rabbitmqctl(node: 'rabbit' | 'rabbit2', ...args: string[]): void {
  const run = spawnSync('rabbitmqctl', [...(node === 'rabbit2' ? ['-n', services().rabbit2Node] : []), ...args], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${run.stderr}`);
}

/** When (epoch ms, the log's own clock) the first log line of `output` matching `pattern` was written. */
function loggedAt(output: string, pattern: RegExp): number | undefined {
  const line = output.split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : (JSON.parse(line) as { time: number }).time;
}

/**
 * Issue 19 item 1 (seed 000, seed 002: components "resolve their connection options dynamically by looking up their
 * current Broker and Exchange"): the Manager's process reads its messaging from its own database, and a `build`
 * process started with only BROKER_ID, EXCHANGE_ID, MANAGER_URL and OAUTH_* reads its from the Manager. A failover
 * broker added through the API is used once the primary stops, with no process restarted; the build process then
 * restarts while the Manager is down, on its cached metadata, and runs the next workflow.
 *
 * Brokers: 1 (management, a vhost on node 1), 2 (exchange 2's primary, a vhost on node 2, the node this test
 * stops), 3 (the failover added later, a vhost on node 1). Broker 2's connection row goes through a TCP proxy the
 * test owns and drops when it stops node 2: another suite starting node 2 meanwhile (the chaos suite stops and
 * starts it too) cannot bring the primary back in the middle of this one.
 */
describe('e2e: messaging from the Manager (two RabbitMQ nodes, PostgreSQL, the real Manager)', function () {
  this.timeout(900_000);
  needs('postgres', 'rabbitmq', 'rabbitmq-2', 'docker', 'registry');
  const tag = randomUUID().slice(0, 8);
  const root = `oa_mfm_${tag}`;
  const vhosts = { management: `oa-mfm-m-${tag}`, zone: `oa-mfm-z-${tag}`, spare: `oa-mfm-s-${tag}` };
  const processes: { management?: PlatformProcess; build?: PlatformProcess } = {};
  let dir: string;
  let db: Awaited<ReturnType<typeof scratchPostgres>>;
  let repos: ReturnType<typeof exampleRepos>;
  let client: ManagerClient;
  let base: string;
  let token: string;
  let managementEnv: NodeJS.ProcessEnv;
  let buildEnv: NodeJS.ProcessEnv;
  let rabbit2Stopped = false;
  let primary: TcpProxy;

  const amqp = () => new URL(services().amqpUrl);
  const connectionTo = (node: 'rabbit' | 'rabbit2', vhost: string) => {
    const url = new URL(node === 'rabbit' ? services().amqpUrl : services().amqpUrl2);
    return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password), host: url.hostname, port: Number(url.port || 5672), virtual_host: vhost };
  };
  const stopPrimary = () => {
    rabbit2Stopped = true;
    primary.drop();
    rabbitmqctl('rabbit2', 'stop_app');
  };
  const startPrimary = () => {
    rabbitmqctl('rabbit2', 'start_app');
    primary.restore();
    rabbit2Stopped = false;
  };
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  /** Starts a topology in a folder of its own, so its `.data/messaging` cache is its own too. */
  const start = (topology: string, env: NodeJS.ProcessEnv, name: string) => {
    const cwd = join(dir, name);
    mkdirSync(cwd, { recursive: true });
    return startTopology(topology, env, { cwd });
  };
  const runBuild = async (forceBuild: boolean) => {
    const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build'], ...(forceBuild ? { execute_options: { force_build: true } } : {}) });
    expect(await client.workflows.execute(id, forceBuild ? { force_build: true } : {})).to.include({ queued: true });
    const done = await completion(client, id, 300_000);
    const log = (done.event_log ?? []).join('\n');
    expect(done.workflow_error, log).to.equal(false);
    expect(log).to.match(/exchange 2/);
    return done;
  };
  const builderConsumers = async (node: 'rabbit' | 'rabbit2', vhost: string): Promise<number> => {
    const c = connectionTo(node, vhost);
    const raw = await connect(`amqp://${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/${encodeURIComponent(vhost)}`);
    raw.on('error', () => undefined);
    try {
      const channel = await raw.createChannel();
      channel.on('error', () => undefined);
      return (await channel.checkQueue('builder')).consumerCount;
    } finally {
      await raw.close().catch(() => undefined);
    }
  };

  before(async function () {
    this.timeout(400_000);
    dir = mkdtempSync(join(tmpdir(), 'oa-e2e-mfm-'));
    db = await scratchPostgres();
    repos = exampleRepos('ops@example.test');
    const keys = await generateKeyPair();
    writeFileSync(join(dir, 'public.pem'), keys.publicKeyPem);
    writeFileSync(join(dir, 'private.pem'), keys.privateKeyPem);
    const user = decodeURIComponent(amqp().username);
    for (const [node, vhost] of [['rabbit', vhosts.management], ['rabbit2', vhosts.zone], ['rabbit', vhosts.spare]] as const) {
      rabbitmqctl(node, 'add_vhost', vhost);
      rabbitmqctl(node, 'set_permissions', '-p', vhost, user, '.*', '.*', '.*');
    }
    primary = await startTcpProxy({ host: connectionTo('rabbit2', vhosts.zone).host, port: connectionTo('rabbit2', vhosts.zone).port });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const platformClient = { OAUTH_CLIENT_ID: 'platform-mfm', OAUTH_CLIENT_SECRET: randomBytes(24).toString('base64url') };
    const basics = { PATH: process.env.PATH, HOME: process.env.HOME, OA_LOG_LEVEL: 'info', OA_HEARTBEAT_INTERVAL_MS: '1000' };
    const manager = {
      MANAGER_DATABASE_URL: db.url,
      MANAGER_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      MANAGER_MESSAGING_PUBLIC_KEY: join(dir, 'public.pem'),
      MANAGER_MESSAGING_PRIVATE_KEY: join(dir, 'private.pem'),
    };
    // The operator's first step (seed 000's SQL): the first exchange and its broker, in the Manager's database.
    const first = await runCli(['--json', 'bootstrap', '--amqp-url', `amqp://${user}:${decodeURIComponent(amqp().password)}@${amqp().host}/${vhosts.management}`, '--exchange', root, '--cluster', `bootstrap-${tag}`], {
      env: { ...manager, DOCKER_HOST: `unix://${services().dockerSocket}` },
    });
    expect(first.code, first.stderr).to.equal(0);
    const report = JSON.parse(first.stdout) as { exchangeId: number; brokerId: number; adminClient: { client_secret: string } };
    expect([report.exchangeId, report.brokerId]).to.deep.equal([1, 1]);
    managementEnv = { ...basics, ...manager, ...platformClient, MANAGER_HTTP_PORT: String(port), MANAGER_URL: base, EXCHANGE_ID: '1', BROKER_ID: '1' };
    // Its messaging from its own database: no AMQP_URL, no OA_MESSAGING_METADATA.
    expect(Object.keys(managementEnv).filter((k) => /AMQP|MESSAGING_METADATA|MESSAGING_CACHE/.test(k))).to.deep.equal([]);
    processes.management = start('management', managementEnv, 'management');
    await waitFor('the Manager', async () => (await fetch(`${base}/status`).catch(() => undefined))?.status === 200, 120_000);
    token = await adminToken(base, report.adminClient.client_secret);
    client = adminClient(base, report.adminClient.client_secret);
    // Exchange 2 (a zone under the root) on broker 2; each exchange reached through its own broker (reference §4.4).
    expect(await postAsAdmin(base, token, '/messaging/exchanges', { name: 'zone', routing_key_fragment: 'zone', parent_exchange_id: 1 })).to.equal('/messaging/exchanges/2');
    expect(await postAsAdmin(base, token, '/messaging/brokers', { name: `zone-${tag}` })).to.equal('/messaging/brokers/2');
    await postAsAdmin(base, token, '/messaging/brokers/2/connections', { ...connectionTo('rabbit2', vhosts.zone), port: primary.port });
    await postAsAdmin(base, token, '/messaging/exchanges/1/brokers', { messaging_broker_id: 1 });
    await postAsAdmin(base, token, '/messaging/exchanges/2/brokers', { messaging_broker_id: 2 });
    // The build cluster lives in exchange 2 (bootstrap's own is in exchange 1, where no builder runs).
    await call('DELETE', `/clusters/bootstrap-${tag}`, undefined);
    await postAsAdmin(base, token, '/clusters', { etcd_token: `mfm-${tag}`, allow_docker_builds: true, messaging_exchange_id: 2 });
    await postAsAdmin(base, token, `/clusters/mfm-${tag}/hosts`, { name: 'local', docker_url: `unix://${services().dockerSocket}` });
    // The seed's variables, and nothing else about messaging.
    buildEnv = { ...basics, ...platformClient, BROKER_ID: '2', EXCHANGE_ID: '2', MANAGER_URL: base };
    expect(Object.keys(buildEnv).filter((k) => /AMQP|MESSAGING/.test(k))).to.deep.equal([]);
    processes.build = start('build', buildEnv, 'build');
    await waitFor(
      'the builder of exchange 2 to be registered',
      async () => (await client.exchangeModules.list(2)).items.some((m) => m.status === 'active' && m.type === 'builder'),
      120_000,
    );
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, p] of Object.entries(processes)) process.stdout.write(`\n--- ${name} process, last output ---\n${p.output().slice(-6_000)}\n`);
  });

  after(async () => {
    if (rabbit2Stopped) startPrimary();
    for (const p of [processes.build, processes.management]) await p?.stop();
    await primary?.close();
    await db?.drop();
    for (const [node, vhost] of [['rabbit', vhosts.management], ['rabbit2', vhosts.zone], ['rabbit', vhosts.spare]] as const) {
      try {
        rabbitmqctl(node, 'delete_vhost', vhost);
      } catch {
        // Never made (a failed before): nothing to delete.
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (repos) rmSync(repos.dir, { recursive: true, force: true });
  });

  it('runs a workflow on a build process that was given only BROKER_ID, EXCHANGE_ID, MANAGER_URL and OAUTH_*', async () => {
    await runBuild(false);
    const out = processes.build!.output();
    expect(out).to.include(`"endpoint":"primary broker 2 (127.0.0.1:${primary.port})","msg":"connected"`);
  });

  it('uses a failover broker added through the API once the primary stops, restarting no process', async () => {
    const [buildPid, managementPid] = [processes.build!.child.pid, processes.management!.child.pid];
    expect(await postAsAdmin(base, token, '/messaging/brokers', { name: `spare-${tag}` })).to.equal('/messaging/brokers/3');
    await postAsAdmin(base, token, '/messaging/brokers/3/connections', connectionTo('rabbit', vhosts.spare));
    await call('PUT', '/messaging/brokers/2', { name: `zone-${tag}`, failover_broker_id: 3 });
    const changedAt = Date.now();
    // messaging_changed reached both processes, and the build process's forked Builder followed its cache file.
    const retargeted = /"msg":"messaging metadata changed"/;
    await waitFor('the build process to retarget broker 2', () => /retarget-failover/.test(processes.build!.output()) && retargeted.test(processes.build!.output()), 30_000);
    await waitFor('the management process to retarget broker 2', () => /retarget-failover/.test(processes.management!.output()), 30_000);
    await waitFor('the forked Builder to follow', () => /new messaging metadata from OA_MESSAGING_METADATA/.test(processes.build!.output()), 30_000);
    const stoppedAt = Date.now();
    stopPrimary();
    await waitFor('the build process on the failover broker', () => /switching to the failover broker/.test(processes.build!.output()), 60_000);
    await waitFor('its consumers on broker 3', async () => (await builderConsumers('rabbit', vhosts.spare)) > 0, 60_000);
    const consumingAt = Date.now();
    await runBuild(true);
    const out = processes.build!.output();
    const figures = {
      appliedInBuildProcessMs: (loggedAt(out, /retarget-failover/) ?? NaN) - changedAt,
      followedByForkedBuilderMs: (loggedAt(out, /new messaging metadata from OA_MESSAGING_METADATA/) ?? NaN) - changedAt,
      appliedInManagementProcessMs: (loggedAt(processes.management!.output(), /retarget-failover/) ?? NaN) - changedAt,
      failoverAfterStopMs: (loggedAt(out, /switching to the failover broker/) ?? NaN) - stoppedAt,
      consumingOnFailoverAfterStopMs: consumingAt - stoppedAt,
      workflowOnFailoverMs: Date.now() - consumingAt,
    };
    process.stdout.write(`      messaging-change figures: ${JSON.stringify(figures)}\n`);
    expect([processes.build!.child.pid, processes.management!.child.pid]).to.deep.equal([buildPid, managementPid]);
    expect(processes.build!.child.exitCode).to.equal(null);
    startPrimary();
  });

  it('restarts the build process while the Manager is down, on its cached metadata, and it works', async () => {
    // The primary node was started again just now: a process may be reconnecting to it when it is asked to stop, so
    // the stop gets a minute, and a failure shows the process's last words.
    const stopped = async (p: NonNullable<typeof processes.management>) => [await p.stop(60_000), p.output().slice(-3_000)] as const;
    const [managementExit, managementSaid] = await stopped(processes.management!);
    expect(managementExit, managementSaid).to.equal(0);
    const [buildExit, buildSaid] = await stopped(processes.build!);
    expect(buildExit, buildSaid).to.equal(0);
    const restartedAt = Date.now();
    processes.build = start('build', buildEnv, 'build');
    await waitFor('the start on the cached metadata', () => /cannot be reached: starting on the cached messaging metadata/.test(processes.build!.output()), 120_000);
    // Up, with the failover the cache holds: its Builder consumes on its primary (node 2, back again).
    await waitFor('the restarted Builder consuming', async () => (await builderConsumers('rabbit2', vhosts.zone)) > 0, 120_000);
    process.stdout.write(`      restart without the Manager: consuming ${Date.now() - restartedAt} ms after the start\n`);
    expect(processes.build.child.exitCode).to.equal(null);
    // The Manager comes back; the process started without it runs the next workflow.
    processes.management = start('management', managementEnv, 'management');
    await waitFor('the Manager', async () => (await fetch(`${base}/status`).catch(() => undefined))?.status === 200, 120_000);
    const pid = processes.build.child.pid;
    await runBuild(true);
    expect(processes.build.child.pid).to.equal(pid);
    expect(processes.build.child.exitCode).to.equal(null);
  });
});
