import { hostname } from 'node:os';
import { consumeInto } from './messaging/actor-consumer.js';
import { AmqpTransport } from './messaging/amqp-transport.js';
import { startHeartbeat } from './messaging/heartbeat.js';
import { MemoryBroker } from './messaging/memory-transport.js';
import { loadMetadataFile, singleBrokerMetadata } from './messaging/metadata.js';
import type { Transport } from './messaging/transport.js';
import { startActorSystem, type ActorSystem } from './actors/system.js';
import { ConfigError, type MessagingEnv, type RuntimeEnv } from './config.js';
import type { Logger } from './logger.js';
import { topologySpec, type Catalogue, type Topology } from './topology.js';

/** One process of the platform: its transport, its supervision tree, its queues routed to actors, its heartbeats. */
export interface PlatformProcess {
  readonly system: ActorSystem;
  readonly transport: Transport;
}

export async function openTransport(kind: Topology['transport'], env: MessagingEnv, log: Logger): Promise<Transport> {
  if (kind === 'in-memory') return new MemoryBroker().transport({ exchangeId: env.EXCHANGE_ID, log, maxInFlight: env.OA_MAX_IN_FLIGHT });
  const metadata = env.OA_MESSAGING_METADATA
    ? await loadMetadataFile(env.OA_MESSAGING_METADATA)
    : env.AMQP_URL
      ? singleBrokerMetadata({ amqpUrl: env.AMQP_URL, exchangeName: env.OA_EXCHANGE_NAME })
      : undefined;
  if (metadata === undefined) {
    throw new ConfigError(['AMQP_URL or OA_MESSAGING_METADATA: the amqp transport needs one of them (neither is set)']);
  }
  return new AmqpTransport({
    metadata,
    exchangeId: env.EXCHANGE_ID,
    brokerId: env.BROKER_ID,
    log: log.child({ transport: 'amqp' }),
    maxInFlight: env.OA_MAX_IN_FLIGHT,
    retryCount: env.OA_AMQP_RETRY_COUNT,
    autoDeclare: env.OA_AMQP_AUTO_DECLARE,
  });
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
    system = await startActorSystem({ spec, log, logLevel: env.OA_LOG_LEVEL, askTimeoutMs: env.OA_ASK_TIMEOUT_MS, onFailure: opts.onFailure });
  } catch (err) {
    await transport.close();
    throw err;
  }
  system.onShutdown(() => transport.close());
  for (const component of topology.components) {
    const handle = system.root.supervisor(component.name).untypedHandle(component.name);
    for (const route of catalogue[component.name]?.consumes ?? []) await consumeInto({ transport, handle, route, log });
    const heartbeat = startHeartbeat({ transport, exchangeId: env.EXCHANGE_ID, intervalMs: env.OA_HEARTBEAT_INTERVAL_MS, hostname: hostname(), type: component.name, log });
    system.onShutdown(() => heartbeat.stop());
  }
  return { system, transport };
}
