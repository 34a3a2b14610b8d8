/**
 * The platform the chaos trials run against, kept up across them: the three assemblies (deploy/topologies) over
 * RabbitMQ and PostgreSQL, every exchange's primary broker a vhost on the second RabbitMQ node with its failover on the
 * first, the Manager reaching PostgreSQL through a TCP proxy this test owns, the example's repos (a cluster, an image
 * repository and units of this run's own), and what the trials look at from outside: the deployment repo's history,
 * the registry's log, SMTP, and a copy of the milestone requests (to send one again by hand).
 */
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '../../actors/deployer/messages.js';
import type { ManagerClient } from '../../http/client/manager-client.js';
import { scratchPostgres } from '../http/harness.js';
import { scratchVhost, type ScratchVhost } from '../helpers/rabbit.js';
import { services } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { assemblies, exampleRepos, removeContainersLabelled, removeImagesOf, smtpSink, startAssemblies, twoExchangeMetadata, workTree, type Assemblies } from '../e2e/platform.js';

/** One vhost of the run: on which node (for rabbitmqctl) and how to reach it over AMQP. */
export interface RunVhost extends ScratchVhost {
  readonly node: string | undefined;
  readonly role: 'primary' | 'failover';
  /** Whose broker it is, as reports name it: `zone primary`, `management failover`. */
  readonly label: string;
}

export interface World {
  readonly tag: string;
  readonly platform: Assemblies;
  readonly client: ManagerClient;
  /** In front of PostgreSQL: the Manager's only way to its database. */
  readonly db: TcpProxy;
  readonly smtp: Awaited<ReturnType<typeof smtpSink>>;
  readonly vhosts: readonly RunVhost[];
  readonly clusterToken: string;
  /** The image repository in the registry, `oa-chaos-<tag>/hello`. */
  readonly imageRepository: string;
  readonly deployment: { readonly url: string; readonly bare: string };
  readonly source: { readonly url: string; commit(message: string, files: Record<string, string>): string };
  readonly registryLog: RegistryLog;
  /** A copy of every milestone request sent to the zone's workers, as an operator could take one to republish it. */
  readonly tap: MilestoneTap;
  /** The deploy assembly's router directory (ROUTER_DIR): its HAProxy's config and pidfile. */
  readonly routerDir: string;
  close(): Promise<void>;
}

/** The unit the trials deploy: no host port (other suites on this machine take ports from 45000 too), a quick health. */
const UNITS = {
  units: [{ name: 'hello', command: ['sh', '-c', "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"], health: { running_seconds: 1 } }],
};

/** Where deploy/dev-services.sh's open registry logs (OA_TEST_REGISTRY_LOG to say otherwise). */
const REGISTRY_LOG = process.env.OA_TEST_REGISTRY_LOG ?? '/var/log/openaperture-dev/registry.log';

export async function startWorld(): Promise<World> {
  const tag = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), 'oa-chaos-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  /** Undoes what was set up, last first; every step is tried, and the first failure is thrown at the end. */
  const close = async () => {
    const failures: unknown[] = [];
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw failures[0];
  };
  try {
    const s = services();
    const vhosts: RunVhost[] = [];
    for (const [role, node, amqpUrl] of [['primary', s.rabbit2Node, s.amqpUrl2], ['failover', undefined, s.amqpUrl]] as const) {
      for (const which of ['management', 'zone'] as const) {
        const vhost = await scratchVhost({ amqpUrl, node, name: `oa-chaos-${tag}-${which}` });
        vhosts.push({ ...vhost, node, role, label: `${which} ${role}` });
        cleanups.push(() => vhost.drop());
      }
    }
    const vhostOf = (role: RunVhost['role'], which: string) => ({ url: role === 'primary' ? s.amqpUrl2 : s.amqpUrl, vhost: `oa-chaos-${tag}-${which}` });
    const root = `oa_chaos_${tag}`;
    const zone = 'zone2';
    const metadata = twoExchangeMetadata(root, zone, {
      management: { primary: vhostOf('primary', 'management'), failover: vhostOf('failover', 'management') },
      zone: { primary: vhostOf('primary', 'zone'), failover: vhostOf('failover', 'zone') },
    });
    const database = await scratchPostgres(s.databaseUrl, 'oa_chaos');
    cleanups.push(() => database.drop());
    const pgUrl = new URL(database.url);
    const db = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    cleanups.push(() => db.close());
    pgUrl.host = `127.0.0.1:${db.port}`;
    const smtp = await smtpSink();
    cleanups.push(() => smtp.close());

    const clusterToken = `chaos-${tag}`;
    const imageRepository = `oa-chaos-${tag}/hello`;
    const repos = exampleRepos('ops@example.test');
    cleanups.push(() => rmSync(repos.dir, { recursive: true, force: true }));
    const deployment = workTree(join(repos.dir, 'hello_docker'));
    const dockerfile = readFileSync(join(deployment.work, 'Dockerfile.eex'), 'utf8');
    deployment.commit('the chaos run: its cluster, image repository and units, and a build long enough to be hit', {
      'cluster.json': JSON.stringify({ token: clusterToken }),
      'docker.json': JSON.stringify({ docker_url: `${s.registry}/${imageRepository}` }),
      'units.json': JSON.stringify(UNITS, null, 2),
      'Dockerfile.eex': `${dockerfile}RUN sleep 1\n`,
    });
    rmSync(deployment.work, { recursive: true, force: true });
    const source = workTree(join(repos.dir, 'hello'));
    cleanups.push(() => rmSync(source.work, { recursive: true, force: true }));
    cleanups.push(() => removeImagesOf(`${s.registry}/${imageRepository}`));
    cleanups.push(() => removeContainersLabelled([`${LABELS.cluster}=${clusterToken}`]));

    const tap = await milestoneTap(vhosts.find((v) => v.role === 'primary' && v.label.startsWith('zone'))!, root, `${root}.${zone}`);
    cleanups.push(() => tap.close());

    mkdirSync(join(dir, 'builder'));
    const platform = await assemblies({
      dir,
      metadata,
      databaseUrl: pgUrl.toString(),
      smtpPort: smtp.port,
      env: {
        BUILDER_TMPDIR: join(dir, 'builder'),
        // Failover after two failed reconnects (about a second), not five.
        OA_AMQP_RETRY_COUNT: '2',
        OA_HEARTBEAT_INTERVAL_MS: '5000',
        // A dispatch that is lost fails its workflow within a trial's time rather than an hour later.
        OA_MILESTONE_TIMEOUT_CONFIG_S: '90',
        OA_MILESTONE_TIMEOUT_BUILD_S: '90',
        OA_MILESTONE_TIMEOUT_DEPLOY_S: '90',
      },
    });
    cleanups.push(() => platform.stopAll());
    const client = await startAssemblies(platform, { root, zone, clusterToken });
    return {
      tag,
      platform,
      client,
      db,
      smtp,
      vhosts,
      clusterToken,
      imageRepository,
      deployment: { url: repos.deployment, bare: join(repos.dir, 'hello_docker') },
      source: { url: repos.source, commit: (message, files) => source.commit(message, files) },
      registryLog: registryLog(REGISTRY_LOG),
      tap,
      routerDir: join(dir, 'router'),
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** The commits of a bare repo after `since` (its HEAD before), oldest first: sha and subject. */
export function commitsSince(bare: string, since: string): Array<{ sha: string; subject: string }> {
  const out = execFileSync('git', ['--git-dir', bare, 'log', '--reverse', '--format=%H %s', `${since}..HEAD`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => ({ sha: l.slice(0, 40), subject: l.slice(41) }));
}

/** The subject of the Builder's commits: `Deployment for commit <sha>` (README, "The deployment-repo format"). */
export const RENDER_COMMIT = 'Deployment for commit ';

/** The source commit of the last render committed at or before `rev`, if any. */
export function lastRenderedBefore(bare: string, rev: string): string | undefined {
  const subject = execFileSync('git', ['--git-dir', bare, 'log', '-1', '--format=%s', `--grep=^${RENDER_COMMIT}`, rev], { encoding: 'utf8' }).trim();
  return subject.startsWith(RENDER_COMMIT) ? subject.slice(RENDER_COMMIT.length) : undefined;
}

export const headOf = (bare: string): string => execFileSync('git', ['--git-dir', bare, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();

/** The registry's access log, read from an offset: which manifests were PUT (a push ends with its manifest). */
export interface RegistryLog {
  readonly path: string;
  /** The log's size now; undefined when there is no log to read. */
  offset(): number | undefined;
  /** Tags of `repository` whose manifest the registry accepted (201) after `offset`, in order. */
  manifestPuts(repository: string, offset: number): string[];
}

export function registryLog(path: string): RegistryLog {
  return {
    path,
    offset() {
      try {
        return statSync(path).size;
      } catch {
        return undefined;
      }
    },
    manifestPuts(repository, offset) {
      const size = statSync(path).size;
      const buffer = Buffer.alloc(Math.max(size - offset, 0));
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buffer, 0, buffer.length, offset);
      } finally {
        closeSync(fd);
      }
      // The access-log line of each request: "PUT /v2/<repository>/manifests/<tag> HTTP/1.1" 201
      const escaped = repository.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const line = new RegExp(`"PUT /v2/${escaped}/manifests/([^ ?"]+) HTTP/[0-9.]+" 201 `, 'g');
      return [...buffer.toString('utf8').matchAll(line)].map((m) => decodeURIComponent(m[1]!));
    },
  };
}

/** The queue of this test's that copies the milestone requests the zone's workers get. */
export const TAP_QUEUE = 'chaos_tap';

/** Copies of the milestone requests sent to the Builder and the Deployer on the primary broker, to send again. */
export interface MilestoneTap {
  /** Sends the last request of the workflow's `milestone` again, as it was (same body and properties); false if none. */
  republish(workflowId: string, milestone: string): Promise<boolean>;
  close(): Promise<void>;
}

/** One connection to a vhost for `work`, closed afterwards (a connection kept would die with a stopped node). */
async function withChannel<T>(url: string, work: (connection: ChannelModel, channel: Channel) => Promise<T>): Promise<T> {
  const connection = await connect(url);
  try {
    return await work(connection, await connection.createChannel());
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function milestoneTap(vhost: RunVhost, rootExchange: string, routingKey: string): Promise<MilestoneTap> {
  await withChannel(vhost.url, async (_, channel) => {
    // The same declaration as the platform's (a durable topic exchange), which may not have made it yet.
    await channel.assertExchange(rootExchange, 'topic', { durable: true });
    await channel.assertQueue(TAP_QUEUE, { durable: true });
    for (const queue of ['builder', 'deployer']) await channel.bindQueue(TAP_QUEUE, rootExchange, `${routingKey}.${queue}`);
  });
  const kept: GetMessage[] = [];
  return {
    republish: (workflowId, milestone) =>
      withChannel(vhost.url, async (connection, channel) => {
        for (let msg = await channel.get(TAP_QUEUE, { noAck: true }); msg !== false; msg = await channel.get(TAP_QUEUE, { noAck: true })) kept.push(msg);
        const request = [...kept].reverse().find((m) => {
          const payload = (JSON.parse(m.content.toString('utf8')) as { payload?: { id?: string; current_step?: string } }).payload;
          return payload?.id === workflowId && payload.current_step === milestone;
        });
        if (request === undefined) return false;
        const { contentType, contentEncoding, messageId, type, timestamp, correlationId, headers } = request.properties;
        const properties = Object.fromEntries(Object.entries({ contentType, contentEncoding, messageId, type, timestamp, correlationId, headers }).filter(([, v]) => v !== undefined));
        const confirm = await connection.createConfirmChannel();
        confirm.publish(request.fields.exchange, request.fields.routingKey, request.content, { ...properties, persistent: true });
        await confirm.waitForConfirms();
        return true;
      }),
    close: () => withChannel(vhost.url, async (_, channel) => void (await channel.deleteQueue(TAP_QUEUE))).catch(() => undefined),
  };
}
