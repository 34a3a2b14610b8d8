import { hostname } from 'node:os';
import { startHeartbeat } from './messaging/heartbeat.js';
import { describeConcurrency, startIntake, type AnyIntake } from './messaging/intake.js';
import { parseMessagingMetadata } from './messaging/metadata.js';
import { meteredTransport } from './messaging/metered.js';
import { openMessaging, type MetadataOrigin } from './messaging/open.js';
import type { Transport } from './messaging/transport.js';
import { startActorSystem, type ActorSystem } from './actors/system.js';
import { MessagingEnv, type RuntimeEnv } from './config.js';
import type { Logger } from './logger.js';
import { startMetricsListener } from './metrics/listener.js';
import { ProcessMetrics } from './metrics/process-metrics.js';
import { intakesOf, topologySpec, type Catalogue, type Topology } from './topology.js';

/** One process of the platform: its transport, its supervision tree, its queues routed to actors, its heartbeats. */
export interface PlatformProcess {
  readonly system: ActorSystem;
  readonly transport: Transport;
  /** The process's one registry, served at OA_METRICS_ADDRESS and by the Manager's `/metrics`. */
  readonly metrics: ProcessMetrics;
  /** Where this process serves its metrics; absent when OA_METRICS_ADDRESS is `off` or its port was taken. */
  readonly metricsUrl?: string;
}

/** The messaging part of the environment, as plain data a forked actor can receive. */
function messagingEnvOf(env: MessagingEnv): MessagingEnv {
  const keys = Object.keys(MessagingEnv.shape) as Array<keyof MessagingEnv>;
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])) as MessagingEnv;
}

/**
 * The messaging metadata of a process that runs the component owning the messaging tables (the Manager): read by
 * the component's `bootstrap` before the tree starts, then asked of the running actor (issue 19 item 1).
 */
function ownerOrigin(topology: Topology, catalogue: Catalogue, log: Logger, tree: () => ActorSystem | undefined): MetadataOrigin | undefined {
  const owner = topology.components.find((c) => catalogue[c.name]?.messagingMetadata !== undefined);
  const spec = owner === undefined ? undefined : catalogue[owner.name]?.messagingMetadata;
  if (owner === undefined || spec === undefined) return undefined;
  let bootstrapped = false;
  return {
    describe: spec.describe,
    variable: spec.variable,
    provider: {
      async load() {
        const system = tree();
        if (system !== undefined) return parseMessagingMetadata(await system.root.supervisor(owner.name).untypedHandle(owner.name).ask(spec.topic, undefined), spec.describe);
        // Once only: a second open of an embedded database would find it locked by the component starting.
        if (bootstrapped) throw Object.assign(new Error(`${owner.name} is still starting`), { retryable: true });
        bootstrapped = true;
        return spec.bootstrap(owner.args ?? {}, log);
      },
    },
  };
}

/**
 * Starts a topology: the transport, the tree, then intake (each component's queues into its actor) and heartbeats.
 * Shutdown runs the other way: heartbeats and consumers stop, in-flight deliveries finish, then the tree stops.
 * `metadataOrigin` is where an AMQP process reads its messaging metadata when nothing overrides it and it does not
 * run the Manager itself (the entry passes the Manager's API).
 */
export async function startPlatformProcess(opts: {
  readonly topology: Topology;
  readonly catalogue: Catalogue;
  readonly env: RuntimeEnv & MessagingEnv;
  readonly log: Logger;
  readonly onFailure: (error: Error) => void;
  readonly metadataOrigin?: () => MetadataOrigin;
}): Promise<PlatformProcess> {
  const { topology, catalogue, env, log } = opts;
  const watchdog = { intervalMs: env.OA_WATCHDOG_INTERVAL_MS, timeoutMs: env.OA_WATCHDOG_TIMEOUT_MS };
  const spec = topologySpec(topology, catalogue, watchdog);
  let system: ActorSystem | undefined;
  const owner = ownerOrigin(topology, catalogue, log, () => system);
  const origin = owner === undefined ? opts.metadataOrigin : () => owner;
  const metrics = new ProcessMetrics();
  const opened = await openMessaging(topology.transport, env, log, origin);
  const transport = meteredTransport(opened.transport, metrics);
  try {
    system = await startActorSystem({
      spec,
      log,
      metrics,
      logLevel: env.OA_LOG_LEVEL,
      askTimeoutMs: env.OA_ASK_TIMEOUT_MS,
      onFailure: opts.onFailure,
      messaging: { transport, settings: { kind: topology.transport, env: messagingEnvOf(opened.childEnv) } },
    });
  } catch (err) {
    await transport.close();
    throw err;
  }
  system.onShutdown(() => transport.close());
  const rows = intakeTable(topology, catalogue);
  log.info({ intake: rows }, `intake:\n${formatIntakeTable(rows)}`);
  for (const component of topology.components) {
    const handle = system.root.supervisor(component.name).untypedHandle(component.name);
    await routeIntake({ system, transport, handle, intakes: intakesOf(catalogue, component), log });
    // The Overseer keeps one module row per hostname (reference §8.1); components sharing a process need one each.
    const moduleName = topology.components.length > 1 ? `${hostname()}-${component.name}` : hostname();
    const heartbeat = startHeartbeat({ transport, exchangeId: env.EXCHANGE_ID, intervalMs: env.OA_HEARTBEAT_INTERVAL_MS, hostname: moduleName, type: component.name, log });
    system.onShutdown(() => heartbeat.stop());
  }
  const listener = env.OA_METRICS_ADDRESS === 'off' ? undefined : await startMetricsListener(env.OA_METRICS_ADDRESS, metrics, log);
  if (listener !== undefined) system.onShutdown(() => listener.close());
  return { system, transport, metrics, ...(listener === undefined ? {} : { metricsUrl: listener.url }) };
}

/** Starts each intake into `handle`; the tree's shutdown cancels them first (they are its intake). */
export async function routeIntake(opts: {
  readonly system: ActorSystem;
  readonly transport: Transport;
  readonly handle: Parameters<typeof startIntake>[0]['handle'];
  readonly intakes: readonly AnyIntake[];
  readonly log: Logger;
}): Promise<void> {
  for (const intake of opts.intakes) {
    const subscription = await startIntake({ transport: opts.transport, handle: opts.handle, intake, log: opts.log });
    opts.system.onShutdown(() => subscription.cancel());
  }
}

/** One row per consumed queue of this process: which component's topic takes it, and how many at once. */
export interface IntakeRow {
  readonly queue: string;
  readonly component: string;
  readonly topic: string;
  readonly concurrency: string;
  readonly timeoutMs: number;
}

export function intakeTable(topology: Topology, catalogue: Catalogue): IntakeRow[] {
  return topology.components.flatMap((c) =>
    intakesOf(catalogue, c).map((i) => ({
      queue: i.broadcast === true ? `${i.queue} (broadcast)` : i.queue,
      component: c.name,
      topic: i.topic,
      concurrency: describeConcurrency(i.concurrency),
      timeoutMs: i.timeoutMs,
    })),
  );
}

/** `queue -> component.topic, concurrency, timeout`, aligned: the table printed at start. */
export function formatIntakeTable(rows: readonly IntakeRow[]): string {
  if (rows.length === 0) return '  (no queues)';
  const width = Math.max(...rows.map((r) => r.queue.length));
  return rows.map((r) => `  ${r.queue.padEnd(width)} -> ${r.component}.${r.topic}, ${r.concurrency}, timeout ${r.timeoutMs / 1_000} s`).join('\n');
}
