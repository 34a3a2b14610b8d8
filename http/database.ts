import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MikroORM, type EntityManager, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver, type AbstractSqlConnection } from '@mikro-orm/postgresql';
import { lockDataDir } from './data-dir-lock.js';
import { ENTITIES } from '../entities/index.js';
import { migrationsList } from '../migrations/index.js';
import type { Logger } from '../runtime/logger.js';

/** PostgreSQL for deployments; PGlite (embedded, a directory or memory) for the all-in-one default (design §6). */
export type DatabaseConfig = { readonly kind: 'postgresql'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir?: string };

/**
 * How long a request waits on the database before it is answered 503 (README "Limits"): to connect, for a pooled
 * connection, for a statement's answer. Together they keep an outage's answer within 2 s.
 */
export const DATABASE_DEADLINES_MS = { connect: 1_000, acquire: 1_500, statement: 1_500 } as const;

type Deadlines = { readonly [K in keyof typeof DATABASE_DEADLINES_MS]: number };

const MIGRATION_DEADLINES_MS: Deadlines = { connect: 30_000, acquire: 30_000, statement: 0 };

/**
 * The embedded database has no network to lose: its deadlines only bound a request queued behind the one session.
 * Its first connection loads PGlite's catalogs (about a second).
 */
const EMBEDDED_DEADLINES_MS: Deadlines = { connect: 30_000, acquire: 10_000, statement: 10_000 };

/** Socket errors, and PostgreSQL's connection (08...) and shutdown (57P0x) classes: the server, not the statement. */
const UNREACHABLE_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|08...|57P0[1-3]|53300)$/;
/** What pg and knex say when a connection ends or a deadline passes; they set no code for these. */
const UNREACHABLE_MESSAGES = /Connection terminated|timeout expired|Query read timeout|Timeout acquiring a connection|Client has encountered a connection error|Connection ended|not queryable/i;

/** Whether `err` says the database could not be reached or did not answer in time (a 503), rather than refused a statement. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, hops = 0; e instanceof Error && hops < 4; e = e.cause, hops++) {
    const code = (e as { code?: unknown }).code;
    if (e.name === 'KnexTimeoutError' || e.name === 'ConnectionException') return true;
    if ((typeof code === 'string' && UNREACHABLE_CODES.test(code)) || UNREACHABLE_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/**
 * What to answer for a route that failed inside `em`'s transaction. When the transaction ended under the route (its
 * BEGIN timed out, its connection went), knex only says "Transaction query already complete" to the next statement;
 * the transaction's own failure says why.
 */
export async function transactionFailure(em: EntityManager, err: unknown): Promise<unknown> {
  const trx = em.getTransactionContext<{ isCompleted?(): boolean; executionPromise?: Promise<unknown> }>();
  if (trx?.isCompleted?.() !== true || trx.executionPromise === undefined) return err;
  return trx.executionPromise.then(
    () => err,
    (cause: unknown) => cause,
  );
}

export interface Database {
  readonly orm: MikroORM;
  /** A fresh unit of work: one per request. */
  fork(): EntityManager;
  /**
   * The rows of one read-only statement (`$1` parameters) on a pooled connection, outside any unit of work or
   * transaction: for the hottest reads, where the ORM's query building and hydration cost more than the query.
   * Columns come back as the driver returns them (`readOr404` converts them as the ORM does).
   */
  read(sql: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** What knex's client offers for its pool (public on knex's Client, absent from its typings). */
interface PooledClient {
  acquireConnection(): Promise<{ query(sql: string, params: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> }>;
  releaseConnection(connection: unknown): void;
}

/** Where the driver connects, and what to undo when the database closes. */
interface Endpoint {
  readonly connection: Options;
  readonly pool: { readonly min: number; readonly max: number };
  readonly deadlinesMs: Deadlines;
  close(): Promise<void>;
}

/**
 * The embedded database's thread, from its file beside this one. Run from source, the thread registers tsx first:
 * a worker does not inherit the loader hooks `--import tsx` gave this thread.
 */
function startWorker(workerData: { readonly dataDir: string | undefined; readonly socketPath: string }): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData });
  const entry = JSON.stringify(new URL('./pglite-worker.ts', import.meta.url).href);
  // Resolved here, by tsx's own exports map (its ESM entry): an eval'd worker resolves packages from the working
  // directory, which need not be the project's, and tsx's CommonJS entry cannot register from such a worker.
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const tsx = JSON.stringify(pathToFileURL(join(dirname(manifestPath), manifest.exports['./esm/api']!.import.default)).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, workerData });
}

/** The next message of `worker` of one of `types`, or its exit as an error. */
function nextMessage(worker: Worker, types: readonly string[]): Promise<{ type: string; message?: string }> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }) => {
      if (!types.includes(m.type)) return;
      worker.off('message', onMessage).off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number) => reject(new Error(`the embedded database's thread exited (${code})`));
    const onError = (err: Error) => reject(new Error(`the embedded database's thread failed: ${err.message}`, { cause: err }));
    worker.on('message', onMessage).once('exit', onExit).once('error', onError);
  });
}

/**
 * PGlite served over the PostgreSQL wire protocol (design §11: one SQL path), on a Unix socket in a private
 * directory, from a thread of its own (pglite-worker.ts): the ordinary PostgreSQL driver talks to it as to any
 * server. PGlite is one session, so one lasting connection.
 */
async function embeddedEndpoint(dataDir: string | undefined): Promise<Endpoint> {
  const onDisk = dataDir !== undefined && !dataDir.startsWith('memory://');
  const unlock = onDisk ? await lockDataDir(dataDir) : async () => undefined;
  const socketDir = await mkdtemp(join(tmpdir(), 'oa-pglite-'));
  const port = 5432;
  let worker: Worker | undefined;
  const close = async () => {
    if (worker !== undefined) {
      const stopped = nextMessage(worker, ['stopped']);
      worker.postMessage({ type: 'stop' });
      await stopped.catch(() => undefined);
      await worker.terminate();
    }
    await rm(socketDir, { recursive: true, force: true });
    await unlock();
  };
  try {
    // pg finds a server's socket as `<host directory>/.s.PGSQL.<port>`.
    worker = startWorker({ dataDir, socketPath: join(socketDir, `.s.PGSQL.${port}`) });
    // A thread that fails later shows as refused connections (503s); its error must not end the process.
    worker.on('error', () => undefined);
    const started = await nextMessage(worker, ['ready', 'failed']);
    if (started.type === 'failed') throw new Error(`the embedded database did not start: ${started.message}`);
  } catch (err) {
    await close();
    throw err;
  }
  return { connection: { host: socketDir, port, user: 'postgres', dbName: 'postgres' }, pool: { min: 1, max: 1 }, deadlinesMs: EMBEDDED_DEADLINES_MS, close };
}

async function endpointOf(config: DatabaseConfig): Promise<Endpoint> {
  if (config.kind === 'pglite') return embeddedEndpoint(config.dataDir);
  return { connection: { clientUrl: config.url }, pool: { min: 0, max: 10 }, deadlinesMs: DATABASE_DEADLINES_MS, close: async () => undefined };
}

/** knex's own messages ("Connection Error: ...", deprecations), into the Manager's log instead of the console. */
const knexLog = (log: Logger) => ({
  warn: (message: unknown) => log.warn({ detail: String(message) }, 'database driver'),
  error: (message: unknown) => log.error({ detail: String(message) }, 'database driver'),
  deprecate: (method: unknown, alternative: unknown) => log.warn({ detail: `${String(method)} is deprecated: ${String(alternative)}` }, 'database driver'),
  debug: () => undefined,
});

function ormOptions(endpoint: Endpoint, deadlinesMs: Deadlines, log: Logger): Options {
  return {
    entities: ENTITIES,
    extensions: [Migrator],
    debug: false,
    discovery: { warnWhenNoEntities: false },
    driver: PostgreSqlDriver,
    ...endpoint.connection,
    pool: { ...endpoint.pool, acquireTimeoutMillis: deadlinesMs.acquire },
    driverOptions: { connection: { connectionTimeoutMillis: deadlinesMs.connect, query_timeout: deadlinesMs.statement }, log: knexLog(log) },
  };
}

/** Every pending migration, on a connection of its own without the requests' deadlines (a first start may be slow). */
async function migrate(endpoint: Endpoint, log: Logger): Promise<void> {
  const migrations = { migrationsList: await migrationsList(), transactional: true, allOrNothing: true, silent: true, snapshot: false };
  const orm = await MikroORM.init({ ...ormOptions(endpoint, MIGRATION_DEADLINES_MS, log), migrations });
  try {
    const applied = await orm.getMigrator().up();
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
  } catch (err) {
    throw new Error(`database migration failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    await orm.close();
  }
}

/** Opens the database and applies every pending migration (the same files and the same driver on both engines). */
export async function openDatabase(config: DatabaseConfig, log: Logger): Promise<Database> {
  const endpoint = await endpointOf(config);
  let orm: MikroORM;
  try {
    await migrate(endpoint, log);
    orm = await MikroORM.init(ormOptions(endpoint, endpoint.deadlinesMs, log));
  } catch (err) {
    await endpoint.close();
    throw err;
  }
  // The ORM's own pool (knex, pg clients): each answers `query(sql, params)` with `{ rows }`.
  const pool = (orm.em.getConnection() as AbstractSqlConnection).getKnex().client as unknown as PooledClient;
  return {
    orm,
    fork: () => orm.em.fork(),
    async read(sql, params) {
      const connection = await pool.acquireConnection();
      try {
        return (await connection.query(sql, params)).rows;
      } finally {
        pool.releaseConnection(connection);
      }
    },
    async close() {
      await orm.close();
      await endpoint.close();
    },
  };
}
