import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createApp, type BaseDeps } from '../../http/app.js';
import { tokenIssuer, type TokenIssuerOptions } from '../../http/auth.js';
import { standingIn } from '../../http/revocation.js';
import { ApiClientSchema, ROLES } from '../../entities/auth.js';
import { openDatabase, type Database } from '../../http/database.js';
import type { AnyRoute } from '../../http/route.js';
import { generateKeyPair, loadKeyPair, type SecretBox } from '../../http/secrets.js';
import { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import { relayedBuildLogs } from '../helpers/build-logs.js';
import { captureLogs, type LogLine } from '../helpers/log-capture.js';
import type { Logger } from '../../runtime/logger.js';
import { needs } from '../helpers/services.js';
import { workflowCountsIn } from '../../http/metrics.js';
import { ProcessMetrics } from '../../runtime/metrics/process-metrics.js';

/** A Manager API over a fresh database, with tokens for each role. */
export interface ApiHarness {
  readonly kind: 'postgresql' | 'pglite';
  /** Where the app listens, e.g. `http://127.0.0.1:40123`. */
  readonly baseUrl: string;
  readonly db: Database;
  /** The broker the Manager's transport publishes to (exchange 1): tests consume from it. */
  readonly broker: MemoryBroker;
  readonly secrets: SecretBox;
  readonly tokens: { readonly admin: string; readonly operator: string; readonly viewer: string };
  readonly logs: LogLine[];
  /** The app's registry (ServeOptions.metrics), counting workflows from `db` as the Manager actor does. */
  readonly metrics?: ProcessMetrics;
  call(method: string, path: string, opts?: CallOptions): Promise<ApiResponse>;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is (bytes for a compressed body); `contentType` defaults to JSON. */
  readonly raw?: string | Uint8Array;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** No answer within this is an error (a timeout), not a wait. */
  readonly timeoutMs?: number;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export type HarnessDeps = BaseDeps & { readonly secrets: SecretBox };

export type ServeOptions = Pick<TokenIssuerOptions, 'loginLimits'> & { readonly metrics?: true };

let keys: Promise<SecretBox> | undefined;
/** One RSA key pair per test run: generating one takes a while. */
export const testSecrets = (): Promise<SecretBox> => (keys ??= generateKeyPair().then((pair) => loadKeyPair({ ...pair, keyName: 'test' })));

/** A throwaway PostgreSQL database, dropped at the end. */
export async function scratchPostgres(admin = process.env.DATABASE_URL!, prefix = 'oa_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** An app serving `routes` over `db` on an ephemeral port, with a token for each role; `close` stops it (not `db`). */
export async function serveApi(
  kind: ApiHarness['kind'],
  db: Database,
  routes: ReadonlyArray<AnyRoute<HarnessDeps>>,
  logs: { log: Logger; lines: LogLine[] },
  { metrics: withMetrics, ...options }: ServeOptions = {},
): Promise<{ harness: ApiHarness; close(): Promise<void> }> {
  const { log, lines } = logs;
  // Tokens stand only while their subject does (revocation): the test principals are API clients, as a caller is.
  await db.fork().upsertMany(ApiClientSchema, ROLES.map((role) => ({ client_id: `test-${role}`, name: `test-${role}`, secret_hash: 'scrypt$none$none', role, disabled_at: null, inserted_at: new Date(), updated_at: new Date() })), { onConflictFields: ['client_id'], onConflictAction: 'ignore' });
  const secrets = await testSecrets();
  const tokens = tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 600, standing: standingIn(db), ...options });
  const broker = new MemoryBroker();
  const transport = broker.transport({ exchangeId: 1, log });
  const buildLogs = await relayedBuildLogs(transport);
  const metrics = withMetrics ? new ProcessMetrics() : undefined;
  metrics?.countWorkflowsWith(workflowCountsIn(db));
  const app = createApp<HarnessDeps>({ db, tokens, log, secrets, transport, buildLogs, exchangeId: 1, ...(metrics ? { metrics } : {}) }, routes);
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issue = async (role: 'admin' | 'operator' | 'viewer') => (await tokens.issue({ subject: `test-${role}`, role, kind: 'client' })).access_token;
  const harness: ApiHarness = {
    kind,
    baseUrl: base,
    db,
    broker,
    secrets,
    logs: lines,
    ...(metrics ? { metrics } : {}),
    tokens: { admin: await issue('admin'), operator: await issue('operator'), viewer: await issue('viewer') },
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
      let body: string | Uint8Array | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
      const signal = opts.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(opts.timeoutMs) };
      const res = await fetch(`${base}${path}`, { method, headers, ...signal, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON: the test sees the text.
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
  return {
    harness,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Runs `suite` once on PostgreSQL and once on PGlite (design §6: the same migrations on both), each with a fresh
 * database and an app serving `routes` on an ephemeral port.
 */
export function forEachDatabase(
  title: string,
  routes: ReadonlyArray<AnyRoute<HarnessDeps>>,
  suite: (h: () => ApiHarness, kind: 'postgresql' | 'pglite') => void,
  options: ServeOptions = {},
): void {
  for (const kind of ['postgresql', 'pglite'] as const) {
    describe(`${title} (${kind})`, function () {
      this.timeout(60_000);
      if (kind === 'postgresql') needs('postgres');
      let served: { harness: ApiHarness; close(): Promise<void> } | undefined;
      let drop: (() => Promise<void>) | undefined;
      before(async () => {
        const logs = captureLogs();
        let db: Database;
        if (kind === 'postgresql') {
          const scratch = await scratchPostgres();
          drop = scratch.drop;
          db = await openDatabase({ kind, url: scratch.url }, logs.log);
        } else {
          db = await openDatabase({ kind }, logs.log);
        }
        served = await serveApi(kind, db, routes, logs, options);
      });
      after(async () => {
        await served?.close();
        await served?.harness.db.close();
        await drop?.();
      });
      suite(() => {
        if (!served) throw new Error('harness not started');
        return served.harness;
      }, kind);
    });
  }
}
