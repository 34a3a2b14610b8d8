import autocannon from 'autocannon';
import Koa from 'koa';
import pg from 'pg';
import { deepStrictEqual } from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../http/app.js';
import { tokenIssuer } from '../../http/auth.js';
import { openDatabase, type Database } from '../../http/database.js';
import { MANAGER_ROUTES, type ManagerDeps } from '../../http/routes/index.js';
import { workflowJson } from '../../http/routes/workflows.js';
import { generateKeyPair, loadKeyPair } from '../../http/secrets.js';
import type { Workflow } from '../../entities/workflows.js';
import { createLogger } from '../../runtime/logger.js';
import { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import type { BenchResult } from './report.js';
import { scratchPostgres } from '../http/harness.js';

/**
 * The Manager's `GET /workflows/:id` (issue 4: >= 0.7x, p99 <= 20 ms) against a bare Koa + pg handler in the same
 * run, on the same PostgreSQL database and row: 100 connections, three rounds of 5 s each in turn after a warm-up,
 * the median of each side reported.
 * The baseline runs the same lookup (`select "w0".* ... limit 1`, bound) on a `pg.Pool` as large as MikroORM's
 * default (knex: 10), and serialises the row with the same `workflowJson`. It checks no token: what the Manager adds
 * (routing, auth, validation, its pool and column conversion) is what is measured.
 * autocannon runs in a worker thread so the load generator does not share the servers' event loop.
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

interface Load {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

async function load(url: string, token: string, seconds: number): Promise<Load> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, workers: 1, headers: { authorization: `Bearer ${token}` } });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0 || result.requests.total === 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total} requests`);
  }
  return { requestsPerSecond: result.requests.total / (result.duration || seconds), p50: result.latency.p50, p99: result.latency.p99 };
}

/** Each figure's median over the rounds (taken separately: the rounds need not agree on which was the median). */
function medianLoad(rounds: readonly Load[]): Load {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return {
    requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
  };
}

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

export async function benchManager(databaseUrl: string): Promise<BenchResult[]> {
  const scratch = await scratchPostgres(databaseUrl, 'oa_bench');
  const closers: Array<() => Promise<void>> = [scratch.drop];
  try {
    // The Manager as manager.actor.ts builds it: every route, info-level logging (to a sink that drops the lines).
    const log = createLogger({ level: 'info', destination: { write: () => undefined } });
    const db: Database = await openDatabase({ kind: 'postgresql', url: scratch.url }, log);
    closers.unshift(() => db.close());
    const broker = new MemoryBroker();
    const transport = broker.transport({ exchangeId: 1, log });
    closers.unshift(() => transport.close());
    const tokens = tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 3_600 });
    const secrets = loadKeyPair({ ...(await generateKeyPair({ modulusBits: 2_048 })), keyName: 'bench' });
    const deps: ManagerDeps = { db, tokens, log, transport, exchangeId: 1, secrets };
    const ours = await listen(createApp(deps, MANAGER_ROUTES));
    closers.unshift(() => ours.close());

    const pool = new pg.Pool({ connectionString: scratch.url, max: POOL_MAX });
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
    const base = medianLoad(bareRounds);
    const mine = medianLoad(ourRounds);
    process.stderr.write(`manager: GET /workflows/:id req/s per round: bare ${bareRounds.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}; Manager ${ourRounds.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}\n`);
    const name = `GET /workflows/:id, ${CONNECTIONS} conns, PostgreSQL`;
    return [
      { name: `${name} (goal >= 0.70x)`, unit: 'req/s', baseline: { label: 'bare Koa + pg', value: base.requestsPerSecond }, ours: { label: 'Manager', value: mine.requestsPerSecond } },
      latencyRow(`${name}, p50 (as 1/latency)`, base.p50, mine.p50),
      latencyRow(`${name}, p99 (as 1/latency; goal <= 20 ms)`, base.p99, mine.p99),
    ];
  } finally {
    // Each in turn, even if one fails, so the scratch database is always dropped.
    for (const close of closers) await close().catch((err: unknown) => process.stderr.write(`manager bench cleanup: ${String(err)}\n`));
  }
}
