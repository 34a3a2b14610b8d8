/**
 * Config-only workflows through RabbitMQ (issue 14 item 6): the management assembly and the build assembly as two
 * processes over RabbitMQ and PostgreSQL, as an operator runs them; the same batch of `[config]` workflows with the
 * Builder running one milestone at a time (the baseline) and BUILDER_CONCURRENCY at a time. One build workflow first
 * makes the image every config verifies.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllPages, type ManagerClient, type Workflow } from '../../http/client/manager-client.js';
import { sleep } from '../../runtime/core/promises.js';
import { generateKeyPair } from '../../http/secrets.js';
import { adminClient, adminSecretOf, adminToken, completion, exampleRepos, freePort, postAsAdmin, startTopology, type PlatformProcess } from '../e2e/platform.js';
import { scratchPostgres } from '../http/harness.js';
import { queueCounts, scratchVhost } from '../helpers/rabbit.js';
import { services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import type { BenchResult } from './report.js';

const WORKFLOWS = 100;
const PARALLEL = 8;

/**
 * Waits until every workflow of `ids` has completed, reading them with one listing a second: a poll per workflow
 * would load the Manager with hundreds of requests a second and measure that.
 */
async function allCompleted(client: ManagerClient, ids: ReadonlySet<string>): Promise<Workflow[]> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const rows = (await readAllPages((window) => client.workflows.list({ ...window, lookback: 0 }))).filter((w) => ids.has(w.id));
    if (rows.length === ids.size && rows.every((w) => w.workflow_completed === true)) return rows;
    if (Date.now() > deadline) throw new Error(`${rows.filter((w) => w.workflow_completed !== true).length} of ${ids.size} workflows did not complete in 10 minutes`);
    await sleep(1_000);
  }
}

/** Creates and executes `n` config-only workflows at once; workflows per second until the last one completed. */
async function batch(client: ManagerClient, repos: { deployment: string; source: string }, n: number): Promise<number> {
  const started = performance.now();
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['config'] });
      await client.workflows.execute(id);
      return id;
    }),
  );
  const done = await allCompleted(client, new Set(ids));
  const failed = done.filter((w) => w.workflow_error === true);
  if (failed.length > 0) throw new Error(`${failed.length} config-only workflows failed: ${(failed[0]?.event_log ?? []).join('\n')}`);
  return n / ((performance.now() - started) / 1_000);
}

export async function benchBuilder(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'oa-bench-builder-'));
  const db = await scratchPostgres();
  const repos = exampleRepos('bench@example.test');
  const processes: PlatformProcess[] = [];
  const vhost = await scratchVhost({ prefix: 'oa_bench' });
  try {
    const keys = await generateKeyPair();
    writeFileSync(join(dir, 'public.pem'), keys.publicKeyPem);
    writeFileSync(join(dir, 'private.pem'), keys.privateKeyPem);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AMQP_URL: vhost.url,
      OA_EXCHANGE_NAME: 'bench',
      EXCHANGE_ID: '1',
      BROKER_ID: '1',
      MANAGER_DATABASE_URL: db.url,
      MANAGER_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      MANAGER_MESSAGING_PUBLIC_KEY: join(dir, 'public.pem'),
      MANAGER_MESSAGING_PRIVATE_KEY: join(dir, 'private.pem'),
      MANAGER_HTTP_PORT: String(port),
      MANAGER_URL: `http://127.0.0.1:${port}`,
      OAUTH_CLIENT_ID: 'platform-bench',
      OAUTH_CLIENT_SECRET: randomBytes(24).toString('base64url'),
      OA_HEARTBEAT_INTERVAL_MS: '1000',
      OA_LOG_LEVEL: 'warn',
    };
    const management = startTopology('management', env);
    processes.push(management);
    const base = `http://127.0.0.1:${port}`;
    const secret = await adminSecretOf(management);
    const client = adminClient(base, secret);
    const token = await adminToken(base, secret);
    await postAsAdmin(base, token, '/messaging/exchanges', { name: 'bench', routing_key_fragment: 'bench' });
    await postAsAdmin(base, token, '/messaging/brokers', { name: 'local' });
    await postAsAdmin(base, token, '/clusters', { etcd_token: 'local', allow_docker_builds: true, messaging_exchange_id: 1 });
    await postAsAdmin(base, token, '/clusters/local/hosts', { name: 'local', docker_url: `unix://${services().dockerSocket}` });

    const builderConsumers = async (): Promise<number> => (await queueCounts(undefined, vhost.name)).find((q) => q.name === 'builder')?.consumers ?? 0;
    const withBuilder = async (concurrency: number, work: () => Promise<number>): Promise<number> => {
      const build = startTopology('build', { ...env, BUILDER_CONCURRENCY: String(concurrency) });
      processes.push(build);
      await waitFor('the Builder to consume', async () => (await builderConsumers()) === 1, 120_000);
      await waitFor('the builder to register', async () => (await client.exchangeModules.list(1)).items.some((m) => m.type === 'builder' && m.status === 'active'), 120_000);
      try {
        return await work();
      } finally {
        await build.stop();
      }
    };
    const image = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build'] });
    await withBuilder(1, async () => {
      await client.workflows.execute(image);
      const built = await completion(client, image, 300_000);
      if (built.workflow_error === true) throw new Error(`the image build failed: ${(built.event_log ?? []).join('\n')}`);
      return 0;
    });
    const one = await withBuilder(1, () => batch(client, repos, WORKFLOWS));
    const many = await withBuilder(PARALLEL, () => batch(client, repos, WORKFLOWS));
    return [
      {
        name: `${WORKFLOWS} config-only workflows through RabbitMQ, 2 processes`,
        unit: 'workflows/s',
        baseline: { label: 'Builder: 1 at a time', value: one },
        ours: { label: `Builder: ${PARALLEL} at a time`, value: many },
      },
    ];
  } finally {
    for (const p of processes) await p.stop();
    await db.drop();
    await vhost.drop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(repos.dir, { recursive: true, force: true });
  }
}
