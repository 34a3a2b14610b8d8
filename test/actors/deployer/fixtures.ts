import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DeployerArgs } from '../../../actors/deployer/config.js';
import deployer from '../../../actors/deployer/deployer.actor.js';
import { MILESTONE_REQUESTED, WORKFLOW_ORCHESTRATION_QUEUE } from '../../../actors/orchestrator/messages.js';
import { createApp } from '../../../http/app.js';
import { hashSecret, tokenIssuer } from '../../../http/auth.js';
import { openDatabase, type Database } from '../../../http/database.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { ApiClientSchema } from '../../../entities/auth.js';
import { deployerIntake } from '../../../actors/deployer/intake.js';
import { routeIntake } from '../../../runtime/boot.js';
import { startActorSystem, type ActorSystem } from '../../../runtime/actors/system.js';
import { DEFAULT_BACKOFF } from '../../../runtime/actors/supervisor-spec.js';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { awaiting } from '../../helpers/dispatch.js';
import { captureLogs } from '../../helpers/log-capture.js';
import type { TestHost } from '../../helpers/docker-hosts.js';
import { waitFor } from '../../helpers/wait.js';
import { get } from '../../runtime/haproxy/harness.js';
import { sleep } from '../../../runtime/core/promises.js';
import { testSecrets, type HarnessDeps } from '../../http/harness.js';

const run = promisify(execFile);

/** A real Manager (every route, PGlite) with an admin API client for the Deployer and an admin token for seeding. */
export interface TestManager {
  readonly baseUrl: string;
  readonly client: { readonly clientId: string; readonly clientSecret: string };
  seed(method: string, path: string, body?: unknown): Promise<string | null>;
  close(): Promise<void>;
}

export async function startManager(): Promise<TestManager> {
  const { log } = captureLogs();
  const db: Database = await openDatabase({ kind: 'pglite' }, log);
  const tokens = tokenIssuer({ secret: 'd'.repeat(48), ttlSeconds: 600 });
  const broker = new MemoryBroker();
  const app = createApp<HarnessDeps>({ db, tokens, log, secrets: await testSecrets(), transport: broker.transport({ exchangeId: 1, log }), exchangeId: 1 }, MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>);
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = (await tokens.issue({ subject: 'test-admin', role: 'admin', kind: 'client' })).access_token;
  const clientId = `deployer-${randomUUID().slice(0, 8)}`;
  const clientSecret = randomUUID();
  const em = db.fork();
  em.create(ApiClientSchema, { client_id: clientId, name: clientId, secret_hash: hashSecret(clientSecret), role: 'admin', disabled_at: null });
  await em.flush();
  return {
    baseUrl,
    client: { clientId, clientSecret },
    async seed(method, path, body) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.status >= 300) throw new Error(`seeding ${method} ${path} answered ${res.status}: ${await res.text()}`);
      return res.headers.get('location');
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

/** A cluster with the three hosts, and a workflow to report on; resolves with the workflow id. */
export async function seedCluster(m: TestManager, token: string, hosts: readonly TestHost[]): Promise<string> {
  await m.seed('POST', '/clusters', { etcd_token: token });
  for (const h of hosts) await m.seed('POST', `/clusters/${token}/hosts`, h.row);
  const location = await m.seed('POST', '/workflows', { deployment_repo: 'org/web_docker', milestones: ['deploy'] });
  return location!.split('/').pop()!;
}

/**
 * A small HTTP image on the first host, pushed to the open registry so the others pull it: busybox httpd serving
 * `<version> <unit instance>` at `/` and `ok` at `/health`, unless `healthy` is false (no `/health`: a 404); with
 * `answers` 500, `/` answers that status (a CGI) while `/health` stays ok. The shell stays PID 1 and exits on SIGTERM,
 * as a real service does, so a stop does not wait out Docker's grace period.
 */
export async function buildWebImage(repo: string, version: string, healthy = true, answers: 200 | 500 = 200): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'oa-deployer-image-'));
  const health = healthy ? 'echo ok > /www/health; ' : '';
  const index =
    answers === 200
      ? 'echo "$VERSION $OA_UNIT" > /www/index.html; '
      : `mkdir -p /www/cgi-bin; printf '#!/bin/sh\\nprintf "HTTP/1.0 500 Internal Server Error\\\\r\\\\n\\\\r\\\\n$VERSION $OA_UNIT\\\\n"\\n' > /www/cgi-bin/index.cgi; chmod +x /www/cgi-bin/index.cgi; `;
  const script = `${index}${health}echo "web $VERSION starting"; ${healthy ? '' : 'echo "web $VERSION: health endpoint disabled"; '}httpd -f -p 8080 -h /www & trap 'kill $!; exit 0' TERM; wait`;
  writeFileSync(join(dir, 'Dockerfile'), `FROM openaperture/busybox:latest\nENV VERSION=${version}\nRUN mkdir -p /www\nCMD ["sh", "-c", ${JSON.stringify(script)}]\n`);
  const image = `${repo}:${version}`;
  try {
    await run('docker', ['build', '-q', '-t', image, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    await run('docker', ['push', image]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return image;
}

/** Removes the test's containers and images from every host. */
export async function cleanHosts(sockets: readonly string[], cluster: string, repo: string): Promise<void> {
  for (const socket of sockets) {
    const docker = (...args: string[]) => run('docker', ['-H', socket, ...args]).then((r) => r.stdout.split('\n').filter((l) => l !== ''));
    const ids = await docker('ps', '-aq', '--filter', `label=io.openaperture.cluster=${cluster}`);
    if (ids.length > 0) await docker('rm', '-f', ...ids);
    const images = await docker('images', '-q', repo);
    if (images.length > 0) await docker('rmi', '-f', ...new Set(images)).catch(() => []);
  }
}

/** Which instances answer on ports 20000..20000+span (the start of a cluster's default range), and with what: `{"web@0.service": "v1"}`. */
export async function answering(span = 16): Promise<Record<string, string>> {
  const answers = await Promise.all(
    Array.from({ length: span }, async (_, i) => {
      try {
        const res = await fetch(`http://127.0.0.1:${20_000 + i}/`, { signal: AbortSignal.timeout(1_000) });
        return res.ok ? (await res.text()).trim() : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return Object.fromEntries(answers.flatMap((a) => (a === undefined ? [] : [[a.split(' ')[1] ?? '', a.split(' ')[0] ?? '']])));
}

/** The Deployer under test on an in-memory transport, and the test acting as the orchestrator. */
export interface TestDeployer {
  readonly transport: Transport;
  /** Publishes a deploy milestone and resolves with the Deployer's callback to the orchestrator. */
  deploy(request: Record<string, unknown>, timeoutMs?: number): Promise<{ type: string; payload: Record<string, unknown> }>;
  readonly chat: Array<{ is_success: boolean; message: string }>;
  stop(): Promise<void>;
}

/** `broker`: the in-memory broker its exchange 1 is on, shared with another component the test runs (a Router). */
export async function startDeployer(m: TestManager, args: Partial<DeployerArgs> = {}, broker = new MemoryBroker()): Promise<TestDeployer> {
  const { log } = captureLogs();
  const transport = broker.transport({ exchangeId: 1, log });
  const callbacks: Array<{ type: string; payload: Record<string, unknown> }> = [];
  const chat: Array<{ is_success: boolean; message: string }> = [];
  await transport.consume({
    queue: WORKFLOW_ORCHESTRATION_QUEUE,
    decode: (payload) => ({ ok: true, value: payload as Record<string, unknown> }),
    handle: async (payload, info) => (callbacks.push({ type: info.envelope.type, payload }), { type: 'ack' }),
  });
  await transport.consume({
    queue: 'notifications_hipchat',
    decode: (payload) => ({ ok: true, value: payload as { is_success: boolean; message: string } }),
    handle: async (payload) => (chat.push(payload), { type: 'ack' }),
  });
  const deployerArgs: DeployerArgs = {
    queue: 'deployer',
    manager: { baseUrl: m.baseUrl, ...m.client },
    registries: {},
    dockerTimeoutMs: 30_000,
    defaultRunningSeconds: 1,
    logLines: 20,
    ...args,
  };
  const system: ActorSystem = await startActorSystem({
    spec: {
      strategy: 'one_for_one',
      intensity: { maxRestarts: 3, withinMs: 10_000 },
      backoff: { ...DEFAULT_BACKOFF, initialMs: 20 },
      watchdog: { intervalMs: 200, timeoutMs: 500 },
      children: [{ name: 'deployer', actor: deployer, args: deployerArgs }],
    },
    log,
    logLevel: 'silent',
    askTimeoutMs: 10_000,
    onFailure: () => undefined,
    messaging: { transport, settings: { kind: 'in-memory', env: parseEnv(MessagingEnv, {}) } },
  });
  await routeIntake({ system, transport, handle: system.root.untypedHandle('deployer'), intakes: deployerIntake(deployerArgs.queue), log });
  return {
    transport,
    chat,
    async deploy(request, timeoutMs = 120_000) {
      const seen = callbacks.length;
      const dispatchId = randomUUID();
      await m.seed('PUT', `/workflows/${String(request['id'])}`, awaiting('deploy', dispatchId));
      await transport.publish({ exchangeId: 1, queue: 'deployer' }, MILESTONE_REQUESTED, {
        milestones: ['deploy'],
        current_step: 'deploy',
        workflow_orchestration_exchange_id: 1,
        notifications_exchange_id: 1,
        dispatch_id: dispatchId,
        ...request,
      });
      return waitFor('the Deployer to call the orchestrator back', () => callbacks[seen], timeoutMs);
    },
    async stop() {
      await system.shutdown(5_000);
      await transport.close();
    },
  };
}

/** What clients through the router saw: each answer's status and body, in order. */
export interface Probe {
  readonly answers: Array<{ readonly status: number; readonly body: string }>;
  stop(): Promise<void>;
}

/** `clients` clients, each sending a request every `everyMs` (at most) to `host` on the router's `port`, until stopped. */
export function startProbe(port: number, host: string, opts: { readonly everyMs?: number; readonly clients?: number } = {}): Probe {
  const answers: Array<{ status: number; body: string }> = [];
  const everyMs = opts.everyMs ?? 20;
  let probing = true;
  const client = async (): Promise<void> => {
    while (probing) {
      const started = Date.now();
      answers.push(await get(port, host).catch((err: Error) => ({ status: 0, body: err.message })));
      await sleep(Math.max(0, everyMs - (Date.now() - started)));
    }
  };
  const loops = Promise.all(Array.from({ length: opts.clients ?? 1 }, client));
  return {
    answers,
    async stop() {
      probing = false;
      await loops;
    },
  };
}
