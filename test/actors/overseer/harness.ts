/**
 * What the Overseer's process tests run on: a RabbitMQ virtual host of their own (queue names such as `fleet_manager`
 * are global to a vhost, and other suites consume them), the real Manager on a scratch PostgreSQL database publishing
 * over that vhost, the Overseer as its own process started by `actors/main.ts`, and a FleetManager double.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLEET_MANAGER_QUEUE, FleetRequest } from '../../../actors/fleet-manager/messages.js';
import { ApiClientSchema } from '../../../entities/auth.js';
import { createApp } from '../../../http/app.js';
import { hashSecret, tokenIssuer } from '../../../http/auth.js';
import { managerClient, type ManagerClient } from '../../../http/client/manager-client.js';
import { openDatabase, type Database } from '../../../http/database.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import { openTransport } from '../../../runtime/messaging/open.js';
import type { Subscription, Transport } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { scratchVhost as makeVhost, type ScratchVhost } from '../../helpers/rabbit.js';
import { waitFor } from '../../helpers/wait.js';
import { scratchPostgres, testSecrets, type HarnessDeps } from '../../http/harness.js';

const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));

/** A vhost made for the suite and deleted after it; its AMQP URL. */
export const scratchVhost = (): Promise<ScratchVhost> => makeVhost({ prefix: 'oa_overseer' });

export interface TestManager {
  readonly baseUrl: string;
  /** A client with an admin token: what the test reads and writes as an operator, or as the orchestrator would. */
  readonly client: ManagerClient;
  readonly overseerCredentials: { readonly clientId: string; readonly clientSecret: string };
  /** A route called with an admin token; throws on an error status. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; location: string | null }>;
  stop(): Promise<void>;
}

/** The real Manager on a scratch database, publishing over `amqpUrl`; exchange 1 exists. */
export async function startManager(env: Record<string, string>): Promise<TestManager> {
  const { log } = captureLogs();
  const scratch = await scratchPostgres();
  const db: Database = await openDatabase({ kind: 'postgresql', url: scratch.url }, log);
  const transport: Transport = await openTransport('amqp', parseEnv(MessagingEnv, env), log);
  const tokens = tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 600 });
  const deps: HarnessDeps = { db, tokens, log, secrets: await testSecrets(), transport, exchangeId: 1 };
  const server: Server = createApp<HarnessDeps>(deps, MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { access_token } = await tokens.issue({ subject: 'test-admin', role: 'admin', kind: 'client' });
  const call: TestManager['call'] = async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return { status: res.status, location: res.headers.get('location') };
  };
  const credentials = async (id: string) => {
    const secret = randomUUID();
    const em = db.fork();
    em.create(ApiClientSchema, { client_id: id, name: id, secret_hash: hashSecret(secret), role: 'admin', disabled_at: null });
    await em.flush();
    return { clientId: id, clientSecret: secret };
  };
  await call('POST', '/messaging/exchanges', { name: 'exchange-1' });
  const tester = await credentials('tester');
  return {
    baseUrl,
    client: managerClient({ baseUrl, ...tester, log }),
    overseerCredentials: await credentials('overseer'),
    call,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await transport.close();
      await db.close();
      await scratch.drop();
    },
  };
}

/** The Overseer started by `actors/main.ts` in a process of its own, with its stdout log lines. */
export interface OverseerProcess {
  readonly lines: ReadonlyArray<Record<string, unknown>>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnOverseer(env: Record<string, string>): Promise<OverseerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'oa-overseer-'));
  const topology = join(dir, 'overseer.json');
  writeFileSync(topology, JSON.stringify({ name: 'overseer-test', transport: 'amqp', components: [{ name: 'overseer' }] }));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topology], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  try {
    await waitFor('the Overseer to start', () => lines.some((l) => l.msg === 'started') || (child.exitCode !== null ? Promise.reject(new Error(`exited ${child.exitCode}`)) : false), 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { lines, stop };
}

/** The environment every process of a test shares: the vhost, a root exchange of its own, exchange 1. */
export function messagingEnv(amqpUrl: string): Record<string, string> {
  return { AMQP_URL: amqpUrl, OA_EXCHANGE_NAME: `oa_overseer_${randomUUID().slice(0, 8)}`, EXCHANGE_ID: '1', BROKER_ID: '1' };
}

/** A FleetManager double (our component, standing in while the Overseer is tested): answers with `answer`, counts requests. */
export async function fleetDouble(transport: Transport, answer: (req: FleetRequest) => unknown): Promise<{ requests: FleetRequest[]; sub: Subscription }> {
  const requests: FleetRequest[] = [];
  const sub = await transport.consume({
    queue: FLEET_MANAGER_QUEUE,
    decode: (payload) => {
      const parsed = FleetRequest.safeParse(payload);
      return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: parsed.error.message };
    },
    handle: async (req) => {
      requests.push(req);
      return { type: 'ack', reply: answer(req) };
    },
  });
  return { requests, sub };
}
