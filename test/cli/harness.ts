import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../http/app.js';
import { hashSecret, tokenIssuer } from '../../http/auth.js';
import { openDatabase, type Database } from '../../http/database.js';
import { MANAGER_ROUTES, type ManagerDeps } from '../../http/routes/index.js';
import { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import { relayedBuildLogs } from '../helpers/build-logs.js';
import { ApiClientSchema, type Role } from '../../entities/auth.js';
import { captureLogs } from '../helpers/log-capture.js';
import { testSecrets } from '../http/harness.js';

/** The real Manager (every route, embedded PGlite in memory) for the CLI to talk to, and the CLI as a subprocess. */

export interface CliManager {
  readonly baseUrl: string;
  readonly db: Database;
  /** The Manager's exchange 1: a stand-in orchestrator consumes `workflow_orchestration` here. */
  readonly broker: MemoryBroker;
  readonly adminToken: string;
  /** An API client row with a fresh secret, as bootstrap makes one. */
  addClient(role: Role): Promise<{ readonly clientId: string; readonly clientSecret: string }>;
  /** A request with an admin token. */
  call(method: string, path: string, body?: unknown): Promise<{ readonly status: number; readonly body: unknown }>;
}

/** Starts the Manager before the suite's tests and stops it after them. */
export function liveManager(): () => CliManager {
  let manager: CliManager | undefined;
  let server: Server | undefined;
  before(async function () {
    this.timeout(60_000);
    const { log } = captureLogs();
    const db = await openDatabase({ kind: 'pglite' }, log);
    const tokens = tokenIssuer({ secret: 'c'.repeat(48), ttlSeconds: 600 });
    const broker = new MemoryBroker();
    const transport = broker.transport({ exchangeId: 1, log });
    const deps: ManagerDeps = { db, tokens, log, secrets: await testSecrets(), transport, buildLogs: await relayedBuildLogs(transport), exchangeId: 1 };
    server = createApp(deps, MANAGER_ROUTES).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server?.once('listening', () => resolve()));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const adminToken = (await tokens.issue({ subject: 'test-admin', role: 'admin', kind: 'client' })).access_token;
    manager = {
      baseUrl,
      db,
      broker,
      adminToken,
      async addClient(role) {
        const clientId = `cli-${role}-${randomUUID().slice(0, 8)}`;
        const clientSecret = randomUUID();
        const em = db.fork();
        em.create(ApiClientSchema, { client_id: clientId, name: clientId, secret_hash: hashSecret(clientSecret), role, disabled_at: null });
        await em.flush();
        return { clientId, clientSecret };
      },
      async call(method, path, body) {
        const headers: Record<string, string> = { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
        const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const text = await res.text();
        return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
      },
    };
  });
  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await manager?.db.close();
  });
  return () => {
    if (manager === undefined) throw new Error('the Manager is not started');
    return manager;
  };
}

/** A fresh config directory per test file (OA_CONFIG_DIR), removed after. */
export function configDir(): () => string {
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-cli-'));
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error('no config directory yet');
    return dir;
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** CLI processes not yet ended: a failed test leaves no `workflow run` behind (see stopCliProcesses). */
const running = new Set<ChildProcess>();

/** Kills, by pid, the CLI processes a failed test left running; for a suite's `after`. */
export function stopCliProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** The CLI's sources, under tsx found from here (the CLI runs in another folder); bin/openaperture.mjs runs their build. */
const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Variables of the test's own environment that would change which Manager the CLI talks to. */
const SESSION_VARIABLES = ['MANAGER_URL', 'OAUTH_CLIENT_ID', 'OAUTH_CLIENT_SECRET', 'OAUTH_LOGIN_URL', 'OA_CONFIG_DIR'];

/**
 * Runs `node --import tsx cli/main.ts ...args` from `cwd` (the system's temp directory unless given, so the CLI is
 * shown to work from anywhere), asynchronously: the Manager it talks to runs in this process. `onLine` sees stdout lines
 * as they come.
 */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly onLine?: (line: string) => void;
}

/** The CLI as a running process (`start`): signal it by `child.pid`; `done` settles when it has exited. */
export function startCli(args: readonly string[], opts: CliOptions = {}): { readonly child: ChildProcess; readonly done: Promise<CliResult> } {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of SESSION_VARIABLES) delete env[name];
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: opts.cwd ?? tmpdir(), env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) opts.onLine?.(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}
