/** Helpers of the end-to-end suites: platform processes as an operator starts them, and the real things around them. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { LABELS } from '../../actors/deployer/messages.js';
import { managerClient, type ManagerClient, type Workflow } from '../../http/client/manager-client.js';
import { sleep } from '../../runtime/core/promises.js';
import { dockerHost } from '../../runtime/docker/host.js';
import { createLogger } from '../../runtime/logger.js';
import { services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

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

export function startTopology(topology: string, env: NodeJS.ProcessEnv): PlatformProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topology], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The example's two repos (deploy/examples/hello/make-repos.sh), the source carrying an e-mail notification setting. */
export function exampleRepos(emailTo: string): { dir: string; deployment: string; source: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oa-e2e-repos-'));
  execFileSync('bash', [join(EXAMPLE, 'make-repos.sh'), dir], { stdio: 'ignore' });
  const work = mkdtempSync(join(tmpdir(), 'oa-e2e-src-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=e2e', '-c', 'user.email=e2e@openaperture.invalid', ...args], { stdio: 'ignore' });
  execFileSync('git', ['clone', '-q', join(dir, 'hello'), work]);
  const settings = { deployments: { notifications: { email: { events: { on_workflow_completed: [emailTo] } } } } };
  writeFileSync(join(work, 'openaperture.json'), JSON.stringify(settings, null, 2));
  git('add', 'openaperture.json');
  git('commit', '-q', '-m', 'notify by e-mail');
  git('push', '-q', 'origin', 'HEAD');
  return { dir, deployment: `file://${dir}/hello_docker`, source: `file://${dir}/hello` };
}

export interface Mail {
  readonly from: string;
  readonly to: readonly string[];
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
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), text: readable });
        callback();
      });
    },
  });
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

/** Host ports of the workflow's running containers, read from the labels the Deployer writes. */
export async function hostPortsOf(workflowId: string): Promise<number[]> {
  const containers = await localDocker().call('list', (api) => api.listContainers({ filters: { label: [`${LABELS.workflow}=${workflowId}`] } }));
  return containers.flatMap((c) => Object.values(JSON.parse(c.Labels[LABELS.ports] ?? '{}') as Record<string, number>));
}

export async function removeContainersOf(workflowId: string): Promise<void> {
  const host = localDocker();
  const containers = await host.call('list', (api) => api.listContainers({ all: true, filters: { label: [`${LABELS.workflow}=${workflowId}`] } }));
  for (const c of containers) await host.call('remove', (api) => api.getContainer(c.Id).remove({ force: true }));
  await host.close();
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
