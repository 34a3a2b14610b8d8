/** Helpers of the end-to-end suites: platform processes as an operator starts them, and the real things around them. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { LABELS } from '../../actors/deployer/messages.js';
import { managerClient, type ManagerClient, type Workflow } from '../../http/client/manager-client.js';
import { generateKeyPair } from '../../http/secrets.js';
import { sleep } from '../../runtime/core/promises.js';
import { dockerHost } from '../../runtime/docker/host.js';
import { createLogger } from '../../runtime/logger.js';
import type { MessagingMetadata } from '../../runtime/messaging/core/routing.js';
import { services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { connectionRow } from '../runtime/messaging/amqp-harness.js';

const MAIN = fileURLToPath(new URL('../../actors/main.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../deploy/examples/hello/', import.meta.url));

/** One platform process started from a topology, with its output kept for the test to read. */
export interface PlatformProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGINT, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/** tsx as found from here, so a process may run in a folder of its own (`cwd`: where its `.data/` goes). */
const TSX = import.meta.resolve('tsx');

export function startTopology(topology: string, env: NodeJS.ProcessEnv, opts: { readonly cwd?: string } = {}): PlatformProcess {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, '--topology', topology], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString('utf8');
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The admin credentials a first start prints once. */
export async function adminSecretOf(p: PlatformProcess, timeoutMs = 180_000): Promise<string> {
  return waitFor('the admin credentials on stdout', () => /client_secret: (\S+)/.exec(p.output())?.[1], timeoutMs);
}

export function adminClient(baseUrl: string, clientSecret: string, clientId = 'admin'): ManagerClient {
  return managerClient({ baseUrl, clientId, clientSecret, log: createLogger({ level: 'silent' }) });
}

/** A work tree of a bare repo, to commit and push as a developer does; `commit` returns the new sha. */
export function workTree(bare: string) {
  const work = mkdtempSync(join(tmpdir(), 'oa-e2e-work-'));
  execFileSync('git', ['clone', '-q', bare, work]);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', work, '-c', 'user.name=e2e', '-c', 'user.email=e2e@openaperture.invalid', ...args], { encoding: 'utf8' }).trim();
  return {
    work,
    head: () => git('rev-parse', 'HEAD'),
    commit(message: string, files: Record<string, string>): string {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
      git('add', '-A');
      git('commit', '-q', '-m', message);
      git('push', '-q', 'origin', 'HEAD');
      return git('rev-parse', 'HEAD');
    },
  };
}

/**
 * The example's two repos (deploy/examples/hello/make-repos.sh), the source carrying an e-mail notification setting.
 * The unit's route (hello.localhost:8080) is moved to `routePort`, a port of the test's own; without one it is
 * removed, so that a platform without a router (or sharing the port with another run) deploys the example as before.
 */
export function exampleRepos(emailTo: string, routePort?: number): { dir: string; deployment: string; source: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oa-e2e-repos-'));
  execFileSync('bash', [join(EXAMPLE, 'make-repos.sh'), dir], { stdio: 'ignore' });
  const settings = { deployments: { notifications: { email: { events: { on_workflow_completed: [emailTo] } } } } };
  const source = workTree(join(dir, 'hello'));
  source.commit('notify by e-mail', { 'openaperture.json': JSON.stringify(settings, null, 2) });
  rmSync(source.work, { recursive: true, force: true });
  const units = JSON.parse(readFileSync(join(EXAMPLE, 'units.json'), 'utf8')) as { units: Array<{ route?: { port: number } }> };
  for (const unit of units.units) {
    if (routePort === undefined) delete unit.route;
    else if (unit.route !== undefined) unit.route.port = routePort;
  }
  const deployment = workTree(join(dir, 'hello_docker'));
  deployment.commit(routePort === undefined ? 'no route' : `route on port ${routePort}`, { 'units.json': JSON.stringify(units, null, 2) });
  rmSync(deployment.work, { recursive: true, force: true });
  return { dir, deployment: `file://${dir}/hello_docker`, source: `file://${dir}/hello` };
}

export interface Mail {
  readonly from: string;
  readonly to: readonly string[];
  /** The Message-ID header ('' when there is none). */
  readonly messageId: string;
  readonly text: string;
}

/** A real SMTP server on loopback that keeps what it receives. */
export async function smtpSink(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
      stream.on('end', () => {
        // Unfolded headers and quoted-printable soft breaks undone, so a test can match what a reader sees.
        const readable = text.replace(/\r?\n[ \t]+/g, ' ').replace(/=\r?\n/g, '');
        const messageId = /^Message-ID: *(.*)$/im.exec(readable.slice(0, readable.search(/\r?\n\r?\n/)))?.[1]?.trim() ?? '';
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), messageId, text: readable });
        callback();
      });
    },
  });
  // A sender killed mid-transaction (the chaos suite kills the process that e-mails) resets its connection, which
  // smtp-server emits as an error: without a listener it would end the test process (read ECONNRESET).
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Waits until the workflow completes (polling every 500 ms); its final state. */
export async function completion(client: ManagerClient, id: string, timeoutMs: number): Promise<Workflow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = await client.workflows.get(id);
    if (w?.workflow_completed) return w;
    if (Date.now() > deadline) throw new Error(`workflow ${id} did not complete within ${timeoutMs} ms; last seen: ${JSON.stringify(w?.event_log ?? null)}`);
    await sleep(500);
  }
}

/** A token of the admin client, for the routes the typed client has no method for (registration). */
export async function adminToken(baseUrl: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'admin', client_secret: clientSecret }),
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** POSTs as the admin; the Location of what was created. */
export async function postAsAdmin(baseUrl: string, token: string, path: string, body: unknown): Promise<string> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('location') ?? '';
}

const localDocker = () => dockerHost({ name: 'local', url: `unix://${services().dockerSocket}` });

/** The containers on the local Docker host that carry every one of `labels` (`key=value`), stopped ones with `all`. */
export async function containersLabelled(labels: readonly string[], all = false): Promise<Array<{ id: string; state: string; labels: Record<string, string> }>> {
  const host = localDocker();
  try {
    const list = await host.call('list', (api) => api.listContainers({ all, filters: { label: [...labels] } }));
    return list.map((c) => ({ id: c.Id, state: c.State, labels: c.Labels }));
  } finally {
    await host.close();
  }
}

/** Host ports of the workflow's running containers, read from the labels the Deployer writes. */
export async function hostPortsOf(workflowId: string): Promise<number[]> {
  const containers = await containersLabelled([`${LABELS.workflow}=${workflowId}`]);
  return containers.flatMap((c) => Object.values(JSON.parse(c.labels[LABELS.ports] ?? '{}') as Record<string, number>));
}

export const removeContainersOf = (workflowId: string): Promise<void> => removeContainersLabelled([`${LABELS.workflow}=${workflowId}`]);

/** Removes the containers that carry every one of `labels`, running or not. */
export async function removeContainersLabelled(labels: readonly string[]): Promise<void> {
  const host = localDocker();
  const containers = await host.call('list', (api) => api.listContainers({ all: true, filters: { label: [...labels] } }));
  for (const c of containers) await host.call('remove', (api) => api.getContainer(c.Id).remove({ force: true }));
  await host.close();
}

/** Removes the local Docker host's images of a repository (`127.0.0.1:5000/name`), every tag. */
export async function removeImagesOf(repository: string): Promise<void> {
  const host = localDocker();
  try {
    const images = await host.call('list', (api) => api.listImages({ filters: { reference: [repository] } }));
    for (const image of images) await host.call('remove', (api) => api.getImage(image.Id).remove({ force: true }));
  } finally {
    await host.close();
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Where one broker is: a vhost of the RabbitMQ node that `url` reaches. */
export interface VhostAddress {
  readonly url: string;
  readonly vhost: string;
}

/** An exchange's broker, and the failover broker it switches to when that one is unreachable (README "Failover"). */
export interface BrokerPair {
  readonly primary: VhostAddress;
  readonly failover?: VhostAddress;
}

/** The AMQP URL of a vhost on a node. */
export function vhostUrl(address: VhostAddress): string {
  const url = new URL(address.url);
  url.pathname = `/${encodeURIComponent(address.vhost)}`;
  return url.toString();
}

/**
 * The Manager's messaging tables as every process of seed 001's layout reads them (the ids the API gives a fresh
 * database in `registerPlatform`): the management exchange 1 (`root`) and its child 2 (`zone`, routing keys
 * `<root>.<zone>.<queue>`), each with its own broker (ids 1 and 2, their failovers 3 and 4), as the original's zones
 * had, and broker restrictions sending every publish into an exchange through that exchange's broker (reference §4.4).
 */
export function twoExchangeMetadata(root: string, zone: string, brokers: { management: BrokerPair; zone: BrokerPair }): MessagingMetadata {
  const pairs = [brokers.management, brokers.zone];
  const failovers = pairs.map((pair, i) => (pair.failover === undefined ? undefined : { id: i + 3, address: pair.failover }));
  return {
    exchanges: [
      { id: 1, name: root, parent_exchange_id: null, routing_key_fragment: root, failover_exchange_id: null },
      { id: 2, name: zone, parent_exchange_id: 1, routing_key_fragment: zone, failover_exchange_id: null },
    ],
    brokers: [
      ...pairs.map((_, i) => ({ id: i + 1, name: i === 0 ? 'management' : zone, failover_broker_id: failovers[i]?.id ?? null })),
      ...failovers.flatMap((f, i) => (f === undefined ? [] : [{ id: f.id, name: `${i === 0 ? 'management' : zone}-failover`, failover_broker_id: null }])),
    ],
    connections: [
      ...pairs.map((pair, i) => connectionRow(i + 1, i + 1, vhostUrl(pair.primary))),
      ...failovers.flatMap((f) => (f === undefined ? [] : [connectionRow(f.id, f.id, vhostUrl(f.address))])),
    ],
    restrictions: [
      { id: 1, messaging_exchange_id: 1, messaging_broker_id: 1 },
      { id: 2, messaging_exchange_id: 2, messaging_broker_id: 2 },
    ],
  };
}

/** The three assemblies of seed 001 (deploy/topologies): management in exchange 1, build and deploy in exchange 2. */
export type AssemblyName = 'management' | 'build' | 'deploy';
export const ASSEMBLIES: readonly AssemblyName[] = ['management', 'build', 'deploy'];
const PLACES: Record<AssemblyName, NodeJS.ProcessEnv> = {
  management: { EXCHANGE_ID: '1', BROKER_ID: '1' },
  build: { EXCHANGE_ID: '2', BROKER_ID: '2' },
  deploy: { EXCHANGE_ID: '2', BROKER_ID: '2' },
};

export interface AssemblyOptions {
  /** A directory of the test's, for the keys and the messaging metadata. */
  readonly dir: string;
  readonly metadata: MessagingMetadata;
  /** What the Manager connects to (a TCP proxy in front of PostgreSQL, for a test that cuts it). */
  readonly databaseUrl: string;
  readonly smtpPort: number;
  /** Added to (and winning over) the environment every process shares. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The assemblies as an operator runs them, with this test as their process manager: `start` (again) runs one, `get`
 * is the one running now. Every process shares one environment; the management one serves the API at `base`.
 */
export class Assemblies {
  private readonly running = new Map<AssemblyName, PlatformProcess>();

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly base: string,
  ) {}

  start(name: AssemblyName): PlatformProcess {
    const p = startTopology(name, { ...this.env, ...PLACES[name] });
    this.running.set(name, p);
    return p;
  }

  get(name: AssemblyName): PlatformProcess {
    const p = this.running.get(name);
    if (p === undefined) throw new Error(`the ${name} assembly was never started`);
    return p;
  }

  async stopAll(): Promise<void> {
    for (const p of this.running.values()) await p.stop();
  }
}

/** The environment of the three assemblies: generated keys and secrets, the metadata file, SMTP, a free API port. */
export async function assemblies(opts: AssemblyOptions): Promise<Assemblies> {
  const keys = await generateKeyPair();
  writeFileSync(join(opts.dir, 'public.pem'), keys.publicKeyPem);
  writeFileSync(join(opts.dir, 'private.pem'), keys.privateKeyPem);
  writeFileSync(join(opts.dir, 'messaging.json'), JSON.stringify(opts.metadata));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OA_MESSAGING_METADATA: join(opts.dir, 'messaging.json'),
    // The deploy assembly's router: its HAProxy's files in the test's directory, not the checkout's .data.
    ROUTER_DIR: join(opts.dir, 'router'),
    MANAGER_DATABASE_URL: opts.databaseUrl,
    MANAGER_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    MANAGER_MESSAGING_PUBLIC_KEY: join(opts.dir, 'public.pem'),
    MANAGER_MESSAGING_PRIVATE_KEY: join(opts.dir, 'private.pem'),
    MANAGER_HTTP_PORT: String(port),
    MANAGER_URL: `http://127.0.0.1:${port}`,
    OAUTH_CLIENT_ID: 'platform-e2e',
    OAUTH_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    SMTP_URI: '127.0.0.1',
    SMTP_PORT: String(opts.smtpPort),
    SMTP_FROM: 'openaperture@example.test',
    UI_URL: 'http://ui.example.test',
    OA_HEARTBEAT_INTERVAL_MS: '1000',
    OA_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  return new Assemblies(env, `http://127.0.0.1:${port}`);
}

/**
 * Starts the management assembly, registers the platform as an operator would (bootstrap's job in the embedded
 * default: the exchanges, the broker, a cluster of exchange 2 with the local Docker host), starts the build and deploy
 * assemblies and waits until their Builder and Deployer are registered. The admin client.
 */
export async function startAssemblies(a: Assemblies, opts: { root: string; zone: string; clusterToken: string }): Promise<ManagerClient> {
  const management = a.start('management');
  const secret = await adminSecretOf(management);
  const client = adminClient(a.base, secret);
  await registerPlatform(a.base, await adminToken(a.base, secret), opts);
  a.start('build');
  a.start('deploy');
  await workersRegistered(client, 2);
  return client;
}

/** Waits until a Builder and a Deployer of the exchange have registered through their heartbeats. */
export async function workersRegistered(client: ManagerClient, exchangeId: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `the builder and deployer modules of exchange ${exchangeId} to be registered`,
    async () => {
      const types = (await client.exchangeModules.list(exchangeId)).items.filter((m) => m.status === 'active').map((m) => m.type);
      return types.includes('builder') && types.includes('deployer');
    },
    timeoutMs,
  );
}

async function registerPlatform(base: string, token: string, opts: { root: string; zone: string; clusterToken: string }): Promise<void> {
  const expectAt = (what: string, location: string, want: string) => {
    if (location !== want) throw new Error(`${what} was created at ${location}, not ${want} as the messaging metadata says`);
  };
  expectAt('the root exchange', await postAsAdmin(base, token, '/messaging/exchanges', { name: opts.root, routing_key_fragment: opts.root }), '/messaging/exchanges/1');
  expectAt('the zone', await postAsAdmin(base, token, '/messaging/exchanges', { name: opts.zone, routing_key_fragment: opts.zone, parent_exchange_id: 1 }), '/messaging/exchanges/2');
  expectAt('the broker', await postAsAdmin(base, token, '/messaging/brokers', { name: 'local' }), '/messaging/brokers/1');
  await postAsAdmin(base, token, '/clusters', { etcd_token: opts.clusterToken, allow_docker_builds: true, messaging_exchange_id: 2 });
  await postAsAdmin(base, token, `/clusters/${opts.clusterToken}/hosts`, { name: 'local', docker_url: `unix://${services().dockerSocket}` });
}
