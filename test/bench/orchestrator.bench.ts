import { execFileSync } from 'node:child_process';
import { createSystem } from 'comedy';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ChatRequested, NOTIFICATIONS_CHAT_QUEUE } from '../../actors/notifications/messages.js';
import { BUILDER_QUEUE, DEPLOYER_QUEUE, EXECUTE_REQUESTED, OrchestrationRequest, STEP_COMPLETED, WORKFLOW_ORCHESTRATION_QUEUE } from '../../actors/orchestrator/messages.js';
import workflowsActor from './fixtures/workflows.actor.js';
import { managerClient, type ManagerClient } from '../../http/client/manager-client.js';
import { startActorSystem } from '../../runtime/actors/system.js';
import { MessagingEnv } from '../../runtime/config.js';
import { createLogger } from '../../runtime/logger.js';
import { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import type { ManagerDeps } from '../../http/routes/index.js';
import type { Transport } from '../../runtime/messaging/transport.js';
import { seedPlatform, startOrchestrator, testTimeouts } from '../actors/orchestrator/fixtures/platform.js';
import type { BenchResult } from './report.js';

/**
 * The orchestrator: (1) 10,000 concurrent workflow actors in one process, each adopted as running with an armed
 * deadline, under the orchestrator's dynamic supervisor: the time to start them and the RSS they hold, against
 * 10,000 bare comedy actors created in the same way in a process of their own; (2) milestone transitions per second
 * with every transition persisted to PostgreSQL through the Manager (goal >= 1,000/s), against the same number of
 * bare Manager PUTs at the same concurrency. Workers answer at once (in-memory transport), so what is measured is the
 * orchestrator: routing, the machine, the saves, the target look-ups and the publishes.
 */
const ACTORS = 10_000;
/** Workflow actors started at once (the orchestrator adopts in batches too). */
const START_AT_ONCE = 500;
const WORKFLOWS = 400;
/** Deliveries in handlers at once for the orchestrator, and requests in flight for the baseline. */
const IN_FLIGHT = 64;
/** start -> build, build -> deploy, deploy -> completed. */
const TRANSITIONS_PER_WORKFLOW = 3;
/** Saves per workflow: before and after each of two dispatches, and the completion. */
const PUTS_PER_WORKFLOW = 5;
const log = createLogger({ level: 'silent' });
const RAW_MODULE = '/' + fileURLToPath(new URL('./fixtures/echo-raw.ts', import.meta.url));

interface ActorsFigures {
  readonly baseMb: number;
  readonly rssMb: number;
  readonly startSeconds: number;
}

/** In the child process: 10,000 workflow actors under a dynamic supervisor (fixtures/workflows.actor.ts). */
async function measureWorkflowActors(): Promise<ActorsFigures> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  const system = await startActorSystem({ spec: { strategy: 'one_for_one', intensity: { maxRestarts: 1, withinMs: 1_000 }, backoff: { initialMs: 10, maxMs: 10, factor: 2 }, children: [] }, log, logLevel: 'silent', askTimeoutMs: 60_000, onFailure: () => undefined });
  const supervisor = await system.root.startChild({ name: 'workflows', actor: workflowsActor, mode: 'in-memory' });
  const { seconds, running } = await supervisor.ask('start', { count: ACTORS, atOnce: START_AT_ONCE });
  if (running !== ACTORS) throw new Error(`${running} workflow actors run, not ${ACTORS}`);
  global.gc?.();
  return { baseMb: base / 1e6, rssMb: process.memoryUsage().rss / 1e6, startSeconds: seconds };
}

/** In the child process: the baseline, 10,000 bare comedy actors, created `START_AT_ONCE` at a time. */
async function measureComedyActors(): Promise<ActorsFigures> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  const system = createSystem({ config: {} });
  (system.getLog() as { setLevel(level: number): void }).setLevel(1);
  const root = await system.rootActor();
  const refs: unknown[] = [];
  const started = performance.now();
  for (let at = 0; at < ACTORS; at += START_AT_ONCE) {
    refs.push(...(await Promise.all(Array.from({ length: START_AT_ONCE }, () => root.createChild(RAW_MODULE, { mode: 'in-memory' })))));
  }
  const seconds = (performance.now() - started) / 1_000;
  global.gc?.();
  return { baseMb: base / 1e6, rssMb: process.memoryUsage().rss / 1e6, startSeconds: seconds };
}

function inChild(which: 'workflows' | 'comedy'): ActorsFigures {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, `--actors-${which}`], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as ActorsFigures;
}

async function benchActorsAtScale(): Promise<BenchResult[]> {
  const ours = inChild('workflows');
  const bare = inChild('comedy');
  process.stderr.write(
    `orchestrator: ${ACTORS} workflow actors: RSS ${ours.rssMb.toFixed(0)} MB (process before: ${ours.baseMb.toFixed(0)} MB), started in ${ours.startSeconds.toFixed(2)} s; ` +
      `${ACTORS} bare comedy actors: RSS ${bare.rssMb.toFixed(0)} MB (before: ${bare.baseMb.toFixed(0)} MB), created in ${bare.startSeconds.toFixed(2)} s\n`,
  );
  const count = ACTORS.toLocaleString('en-US');
  return [
    { name: `orchestrator: start ${count} workflow actors (lower is better)`, unit: 's', baseline: { label: `${count} bare comedy actors`, value: bare.startSeconds }, ours: { label: 'dynamic supervisor', value: ours.startSeconds } },
    { name: `orchestrator: RSS with ${count} workflow actors (lower is better)`, unit: 'MB', baseline: { label: `${count} bare comedy actors`, value: bare.rssMb }, ours: { label: 'workflow actors', value: ours.rssMb } },
  ];
}

/** Builder and Deployer stand-ins that call back at once. */
async function instantWorkers(transport: Transport): Promise<void> {
  for (const queue of [BUILDER_QUEUE, DEPLOYER_QUEUE]) {
    await transport.consume({
      queue,
      decode: (payload) => ({ ok: true, value: OrchestrationRequest.parse(payload) }),
      handle: async (request) => {
        await transport.publish({ exchangeId: 1, queue: WORKFLOW_ORCHESTRATION_QUEUE }, STEP_COMPLETED, { ...request, etcd_token: 'deploy-tok' });
        return { type: 'ack' };
      },
    });
  }
}

async function inFlight(n: number, window: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: window }, async () => {
    while (next < n) await call(next++);
  }));
  return (performance.now() - started) / 1_000;
}

async function createWorkflows(client: ManagerClient): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < WORKFLOWS; i++) ids.push(await client.workflows.create({ deployment_repo: 'acme/shop_docker', source_repo: 'acme/shop', milestones: ['build', 'deploy'] }));
  return ids;
}

async function benchTransitions(databaseUrl: string): Promise<BenchResult> {
  // Loaded here, not at the top: the RSS child process imports this file and must not count the Manager's modules.
  const { createApp } = await import('../../http/app.js');
  const { tokenIssuer } = await import('../../http/auth.js');
  const { openDatabase } = await import('../../http/database.js');
  const { MANAGER_ROUTES } = await import('../../http/routes/index.js');
  const { operatorAccess } = await import('../actors/orchestrator/fixtures/manager.js');
  const { scratchPostgres, testSecrets } = await import('../http/harness.js');
  const scratch = await scratchPostgres(databaseUrl, 'oa_bench_orch');
  const db = await openDatabase({ kind: 'postgresql', url: scratch.url }, log);
  const broker = new MemoryBroker();
  const managerTransport = broker.transport({ exchangeId: 1, log });
  const tokens = tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 3_600 });
  const deps: ManagerDeps = { db, tokens, log, transport: managerTransport, exchangeId: 1, brokerId: 1, secrets: await testSecrets() };
  const server: Server = createApp(deps, MANAGER_ROUTES).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = (await tokens.issue({ subject: 'bench', role: 'admin', kind: 'client' })).access_token;
  await seedPlatform(async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
  });
  const access = await operatorAccess(db, baseUrl);
  const client = managerClient({ ...access, log });
  try {
    // Baseline: the PUTs the orchestrator makes, with a body like its saves, at the same concurrency.
    const baselineIds = await createWorkflows(client);
    const body = { current_step: 'build', elapsed_step_time: '0 second(s)', event_log: Array.from({ length: 8 }, (_, i) => `[OA][x][acme/shop_docker] line ${i}`) };
    const baselineSeconds = await inFlight(WORKFLOWS * PUTS_PER_WORKFLOW, IN_FLIGHT, (i) => client.workflows.update(baselineIds[i % WORKFLOWS]!, body));

    const transport = broker.transport({ exchangeId: 1, log, maxInFlight: IN_FLIGHT });
    await instantWorkers(transport);
    let completed = 0;
    let finish!: () => void;
    const allDone = new Promise<void>((resolve) => (finish = resolve));
    await transport.consume({
      queue: NOTIFICATIONS_CHAT_QUEUE,
      decode: (payload) => ({ ok: true, value: ChatRequested.parse(payload) }),
      handle: async (chat) => {
        if (chat.message.startsWith('Workflow completed in') && ++completed === WORKFLOWS) finish();
        return { type: 'ack' };
      },
    });
    const system = await startOrchestrator({ manager: access, exchangeId: 1, brokerId: 1, timeoutsMs: testTimeouts(600) }, transport, MessagingEnv.parse({}));
    const ids = await createWorkflows(client);
    const started = performance.now();
    for (const id of ids) {
      await transport.publish({ exchangeId: 1, queue: WORKFLOW_ORCHESTRATION_QUEUE }, EXECUTE_REQUESTED, {
        id,
        deployment_repo: 'acme/shop_docker',
        source_repo: 'acme/shop',
        milestones: ['build', 'deploy'],
        current_step: null,
        notifications_exchange_id: '1',
      });
    }
    await allDone;
    const oursSeconds = (performance.now() - started) / 1_000;
    await system.shutdown(5_000);
    await transport.close();
    const transitions = WORKFLOWS * TRANSITIONS_PER_WORKFLOW;
    process.stderr.write(`orchestrator: ${transitions} transitions (${WORKFLOWS * PUTS_PER_WORKFLOW} saves) in ${oursSeconds.toFixed(2)} s; the same PUTs alone in ${baselineSeconds.toFixed(2)} s\n`);
    return {
      name: `orchestrator: milestone transitions, saved to PostgreSQL (${IN_FLIGHT} in flight)`,
      unit: 'transitions/s',
      baseline: { label: `${PUTS_PER_WORKFLOW} bare Manager PUTs per workflow`, value: transitions / baselineSeconds },
      ours: { label: 'orchestrator + Manager', value: transitions / oursSeconds },
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await managerTransport.close();
    await db.close();
    await scratch.drop();
  }
}

export async function benchOrchestrator(databaseUrl: string | undefined): Promise<BenchResult[]> {
  const results = await benchActorsAtScale();
  if (databaseUrl) results.push(await benchTransitions(databaseUrl));
  else process.stderr.write('!!!!! SKIPPED orchestrator transitions benchmark: DATABASE_URL is not set\n');
  return results;
}

if (process.argv.includes('--actors-workflows')) {
  process.stdout.write(`${JSON.stringify(await measureWorkflowActors())}\n`);
  process.exit(0);
}
if (process.argv.includes('--actors-comedy')) {
  process.stdout.write(`${JSON.stringify(await measureComedyActors())}\n`);
  process.exit(0);
}
