import autocannon from 'autocannon';
import Koa from 'koa';
import pg from 'pg';
import { deepStrictEqual } from 'node:assert/strict';
import { Agent, get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../http/app.js';
import { tokenIssuer } from '../../http/auth.js';
import { standingIn } from '../../http/revocation.js';
import { ApiClientSchema } from '../../entities/auth.js';
import { openDatabase, type Database } from '../../http/database.js';
import { MANAGER_ROUTES, type ManagerDeps } from '../../http/routes/index.js';
import { workflowJson } from '../../http/routes/workflows.js';
import { generateKeyPair, loadKeyPair } from '../../http/secrets.js';
import type { Workflow } from '../../entities/workflows.js';
import { createLogger } from '../../runtime/logger.js';
import { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import { measureLoad, medianLoad, type Load } from './load.js';
import type { BenchResult } from './report.js';
import { scratchPostgres } from '../http/harness.js';

/**
 * The Manager's `GET /workflows/:id` (issue 4: >= 0.7x, p99 <= 20 ms) against a bare Koa + pg handler in the same
 * run, on the same database and row, on PostgreSQL and on the embedded PGlite (issue 20): 100 connections, three rounds of 5 s each in turn after a warm-up,
 * the median of each side reported.
 * The baseline runs the same lookup (`select "w0".* ... limit 1`, bound) on a `pg.Pool` as large as MikroORM's
 * default (knex: 10), and serialises the row with the same `workflowJson`. It checks no token: what the Manager adds
 * (routing, auth, validation, its pool and column conversion) is what is measured.
 */
const CONNECTIONS = 100;
const ROUNDS = 3;
const SECONDS = 5;
const WARMUP_SECONDS = 3;
/** MikroORM 6 leaves `pool` empty, so knex's default applies: min 2, max 10. */
const POOL_MAX = 10;
const SQL = 'select "w0".* from "workflows" as "w0" where "w0"."id" = $1 limit 1';
const WORKFLOW_PATH = /^\/workflows\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A workflow as an operator creates one, with every JSON column filled, so decoding is part of the work. */
const WORKFLOW = {
  deployment_repo: 'myorg/myapp_docker',
  deployment_repo_git_ref: 'master',
  source_repo: 'myorg/myapp',
  source_repo_git_ref: 'a1b2c3d',
  milestones: ['build', 'deploy'],
  workflow_step_durations: { build: '12 seconds', deploy: '34 seconds' },
  event_log: Array.from({ length: 10 }, (_, i) => `step ${i}: ${'x'.repeat(80)}`),
  app_name: 'myapp',
};

async function listen(app: Koa): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The baseline: bare Koa, no router, no auth, one pooled query per request, the Manager's JSON shape. */
function bareApp(pool: pg.Pool): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const match = ctx.method === 'GET' ? WORKFLOW_PATH.exec(ctx.path) : null;
    if (!match) {
      ctx.status = 404;
      ctx.body = { errors: [{ message: 'not found' }] };
      return;
    }
    const { rows } = await pool.query<Workflow>(SQL, [match[1]]);
    const row = rows[0];
    if (row === undefined) {
      ctx.status = 404;
      ctx.body = { errors: [{ message: 'Workflow not found' }] };
      return;
    }
    ctx.type = 'application/json';
    ctx.body = workflowJson(row);
  });
  return app;
}

const load = (url: string, token: string, seconds: number): Promise<Load> =>
  measureLoad({ url, connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${token}` } });

async function getJson(url: string, token: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Latencies as rates (1/latency), so the ratio reads "higher is better" like every other row. */
const latencyRow = (name: string, base: number, ours: number): BenchResult => ({
  name,
  unit: 'req/s-equiv',
  baseline: { label: `bare ${base.toFixed(1)} ms`, value: 1_000 / Math.max(base, 0.1) },
  ours: { label: `${ours.toFixed(1)} ms`, value: 1_000 / Math.max(ours, 0.1) },
});

/** Clients guessing secrets at /oauth/token at once, as issue 20 measured them (it saw /status go from 1.6 to 380 ms). */
const BRUTE_FORCERS = 4;

/** GET /status one request at a time on one kept connection for `seconds`: p50 and p99 to the microsecond. */
async function statusLatency(base: string, seconds: number): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  const until = performance.now() + seconds * 1_000;
  try {
    while (performance.now() < until) {
      const started = performance.now();
      const status = await new Promise<number | undefined>((resolve, reject) => {
        httpGet(`${base}/status`, { agent }, (res) => res.resume().on('end', () => resolve(res.statusCode))).on('error', reject);
      });
      if (status !== 200) throw new Error(`GET /status answered ${String(status)}`);
      times.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { requestsPerSecond: times.length / seconds, p50: at(0.5), p99: at(0.99) };
}

/**
 * GET /status alone, then while BRUTE_FORCERS clients post wrong secrets to /oauth/token for a known and an unknown
 * client_id (issue 20 item 4), each read one request at a time. The lockout answers them 429 once it applies; what
 * reaches scrypt before then runs off the event loop.
 */
async function statusUnderBruteForce(base: string): Promise<{ quiet: Load; attacked: Load; guesses: number }> {
  const quiet = await statusLatency(base, SECONDS);
  const guess = (clientId: string) =>
    autocannon({
      url: `${base}/oauth/token`,
      method: 'POST',
      connections: BRUTE_FORCERS / 2,
      duration: SECONDS + 1,
      workers: 1,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'not-the-secret' }),
    });
  const attack = Promise.all([guess('bench-operator'), guess('nobody-at-all')]);
  const attacked = await statusLatency(base, SECONDS);
  const guesses = (await attack).reduce((n, r) => n + r.requests.total, 0);
  return { quiet, attacked, guesses };
}

/** One side of the comparison: the Manager and the bare baseline over one database, and what they measured. */
interface Side {
  readonly bare: Load;
  readonly manager: Load;
  readonly status: Awaited<ReturnType<typeof statusUnderBruteForce>>;
}

/**
 * The bare baseline's pool to the Manager's own database: the same server for PostgreSQL, the same socket (the
 * embedded PGlite's) with the Manager's one connection for the embedded default.
 */
function barePool(db: Database, kind: 'postgresql' | 'pglite', url: string): pg.Pool {
  if (kind === 'postgresql') return new pg.Pool({ connectionString: url, max: POOL_MAX });
  const config = db.orm.config;
  return new pg.Pool({ host: config.get('host'), port: config.get('port'), user: config.get('user'), database: config.get('dbName'), max: 1 });
}

async function measureOn(kind: 'postgresql' | 'pglite', url: string, closers: Array<() => Promise<void>>): Promise<Side> {
  // The Manager as manager.actor.ts builds it: every route, revocation checks, info-level logging (to a sink).
  const log = createLogger({ level: 'info', destination: { write: () => undefined } });
  const db: Database = await openDatabase(kind === 'postgresql' ? { kind, url } : { kind }, log);
  closers.unshift(() => db.close());
  const broker = new MemoryBroker();
  const transport = broker.transport({ exchangeId: 1, log });
  closers.unshift(() => transport.close());
  const tokens = tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 3_600, standing: standingIn(db) });
  await db.fork().insert(ApiClientSchema, { client_id: 'bench-operator', name: 'bench', secret_hash: 'scrypt$none$none', role: 'operator', disabled_at: null, inserted_at: new Date(), updated_at: new Date() });
  const secrets = loadKeyPair({ ...(await generateKeyPair({ modulusBits: 2_048 })), keyName: 'bench' });
  const deps: ManagerDeps = { db, tokens, log, transport, exchangeId: 1, secrets };
  const ours = await listen(createApp(deps, MANAGER_ROUTES));
  closers.unshift(() => ours.close());
  const pool = barePool(db, kind, url);
  closers.unshift(() => pool.end());
  const bare = await listen(bareApp(pool));
  closers.unshift(() => bare.close());

  const operator = (await tokens.issue({ subject: 'bench-operator', role: 'operator', kind: 'client' })).access_token;
  const created = await fetch(`${ours.base}/workflows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    body: JSON.stringify(WORKFLOW),
  });
  const id = created.headers.get('location')?.split('/').pop();
  if (created.status !== 201 || id === undefined) throw new Error(`POST /workflows answered ${created.status}: ${await created.text()}`);
  const path = `/workflows/${id}`;
  // Both must answer the same document, or the comparison means nothing.
  deepStrictEqual(await getJson(`${bare.base}${path}`, operator), await getJson(`${ours.base}${path}`, operator));

  await load(`${bare.base}${path}`, operator, WARMUP_SECONDS);
  await load(`${ours.base}${path}`, operator, WARMUP_SECONDS);
  // Rounds taken in turn and the median of each side kept: a slow spell of the machine then weighs on both, not on
  // whichever happened to run during it.
  const bareRounds: Load[] = [];
  const ourRounds: Load[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRounds.push(await load(`${bare.base}${path}`, operator, SECONDS));
    ourRounds.push(await load(`${ours.base}${path}`, operator, SECONDS));
  }
  const side = { bare: medianLoad(bareRounds), manager: medianLoad(ourRounds), status: await statusUnderBruteForce(ours.base) };
  const p99s = (rounds: Load[]) => rounds.map((r) => `${r.p99.toFixed(0)} ms`).join(', ');
  process.stderr.write(
    `manager on ${kind}: GET /workflows/:id req/s per round: bare ${bareRounds.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}; ` +
      `Manager ${ourRounds.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}; p99 bare ${p99s(bareRounds)}; Manager ${p99s(ourRounds)}\n`,
  );
  return side;
}

function rowsOf(kind: string, side: Side, goal: string): BenchResult[] {
  const name = `GET /workflows/:id, ${CONNECTIONS} conns, ${kind}`;
  return [
    { name: `${name} (${goal})`, unit: 'req/s', baseline: { label: 'bare Koa + pg', value: side.bare.requestsPerSecond }, ours: { label: 'Manager', value: side.manager.requestsPerSecond } },
    latencyRow(`${name}, p50 (as 1/latency)`, side.bare.p50, side.manager.p50),
    latencyRow(`${name}, p99 (as 1/latency)`, side.bare.p99, side.manager.p99),
    {
      name: `GET /status p99 on ${kind}, alone and while ${BRUTE_FORCERS} clients brute-force /oauth/token (${side.status.guesses} guesses; as 1/latency)`,
      unit: 'req/s-equiv',
      baseline: { label: `alone ${side.status.quiet.p99.toFixed(2)} ms`, value: 1_000 / side.status.quiet.p99 },
      ours: { label: `brute-forced ${side.status.attacked.p99.toFixed(2)} ms`, value: 1_000 / side.status.attacked.p99 },
    },
  ];
}

/**
 * The Manager on PostgreSQL and on the embedded default (PGlite over its socket), each against bare Koa + pg on the
 * same database; then the embedded Manager against the PostgreSQL one (issue 20: goal within 2x).
 */
export async function benchManager(databaseUrl: string): Promise<BenchResult[]> {
  const scratch = await scratchPostgres(databaseUrl, 'oa_bench');
  const closers: Array<() => Promise<void>> = [scratch.drop];
  try {
    const postgres = await measureOn('postgresql', scratch.url, closers);
    const embedded = await measureOn('pglite', scratch.url, closers);
    return [
      ...rowsOf('PostgreSQL', postgres, 'goal >= 0.70x; p99 goal <= 20 ms'),
      ...rowsOf('embedded PGlite', embedded, 'one connection, as the Manager has'),
      {
        name: `GET /workflows/:id, ${CONNECTIONS} conns: the embedded Manager against the PostgreSQL one (goal >= 0.50x)`,
        unit: 'req/s',
        baseline: { label: `Manager on PostgreSQL, p99 ${postgres.manager.p99.toFixed(0)} ms`, value: postgres.manager.requestsPerSecond },
        ours: { label: `Manager on PGlite, p99 ${embedded.manager.p99.toFixed(0)} ms`, value: embedded.manager.requestsPerSecond },
      },
    ];
  } finally {
    // Each in turn, even if one fails, so the scratch database is always dropped.
    for (const close of closers) await close().catch((err: unknown) => process.stderr.write(`manager bench cleanup: ${String(err)}\n`));
  }
}
