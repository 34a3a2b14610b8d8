import { hostname } from 'node:os';
import { consumeInto } from './messaging/actor-consumer.js';
import { startHeartbeat } from './messaging/heartbeat.js';
import { openTransport } from './messaging/open.js';
import type { Transport } from './messaging/transport.js';
import { startActorSystem, type ActorSystem } from './actors/system.js';
import { MessagingEnv, type RuntimeEnv } from './config.js';
import type { Logger } from './logger.js';
import { topologySpec, type Catalogue, type Topology } from './topology.js';

/** One process of the platform: its transport, its supervision tree, its queues routed to actors, its heartbeats. */
export interface PlatformProcess {
  readonly system: ActorSystem;
  readonly transport: Transport;
}

/** The messaging part of the environment, as plain data a forked actor can receive. */
function messagingEnvOf(env: MessagingEnv): MessagingEnv {
  const keys = Object.keys(MessagingEnv.shape) as Array<keyof MessagingEnv>;
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])) as MessagingEnv;
}

/**
 * Starts a topology: the transport, the tree, then intake (each component's queues into its actor) and heartbeats.
 * Shutdown runs the other way: heartbeats and consumers stop, in-flight deliveries finish, then the tree stops.
 */
export async function startPlatformProcess(opts: {
  readonly topology: Topology;
  readonly catalogue: Catalogue;
  readonly env: RuntimeEnv & MessagingEnv;
  readonly log: Logger;
  readonly onFailure: (error: Error) => void;
}): Promise<PlatformProcess> {
  const { topology, catalogue, env, log } = opts;
  const watchdog = { intervalMs: env.OA_WATCHDOG_INTERVAL_MS, timeoutMs: env.OA_WATCHDOG_TIMEOUT_MS };
  const spec = topologySpec(topology, catalogue, watchdog);
  const transport = await openTransport(topology.transport, env, log);
  let system: ActorSystem;
  try {
    system = await startActorSystem({
      spec,
      log,
      logLevel: env.OA_LOG_LEVEL,
      askTimeoutMs: env.OA_ASK_TIMEOUT_MS,
      onFailure: opts.onFailure,
      messaging: { transport, settings: { kind: topology.transport, env: messagingEnvOf(env) } },
    });
  } catch (err) {
    await transport.close();
    throw err;
  }
  system.onShutdown(() => transport.close());
  for (const component of topology.components) {
    const handle = system.root.supervisor(component.name).untypedHandle(component.name);
    for (const route of catalogue[component.name]?.consumes ?? []) await consumeInto({ transport, handle, route, log });
    // The Overseer keeps one module row per hostname (reference §8.1); components sharing a process need one each.
    const moduleName = topology.components.length > 1 ? `${hostname()}-${component.name}` : hostname();
    const heartbeat = startHeartbeat({ transport, exchangeId: env.EXCHANGE_ID, intervalMs: env.OA_HEARTBEAT_INTERVAL_MS, hostname: moduleName, type: component.name, log });
    system.onShutdown(() => heartbeat.stop());
  }
  return { system, transport };
}
