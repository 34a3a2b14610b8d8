import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { components } from './system.js';
import { startPlatformProcess } from '../runtime/boot.js';
import { managerMetadataOrigin } from '../http/client/metadata-provider.js';
import { ConfigError, managerAccessFromEnv, MessagingEnv, parseEnv, RuntimeEnv } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { packagePath } from '../runtime/package-path.js';
import { holdSignals, shutdownOnSignals } from '../runtime/process.js';
import { loadTopology, type Topology } from '../runtime/topology.js';

/**
 * Process entry: `--topology NAME|FILE` starts that topology and runs until SIGINT/SIGTERM. `npm start` runs this file;
 * `openaperture start` calls startTopology, so both start the same way.
 */
/** Starts topology `name` (a file of deploy/topologies/ or a path) in this process, until SIGINT/SIGTERM. */
export async function startTopology(name: string): Promise<void> {
  // Ctrl-C while the platform starts: held, and handled as a clean shutdown once there is a tree to stop.
  const signals = holdSignals();
  const env = parseEnv(RuntimeEnv.extend(MessagingEnv.shape), process.env);
  const log = createLogger({ level: env.OA_LOG_LEVEL });
  const loaded = await loadTopology(name, packagePath('deploy', 'topologies'));
  // One after another: a component's configuration may read what an earlier one generated (the embedded client).
  const configuredComponents: Topology['components'] = [];
  for (const component of loaded.components) configuredComponents.push(await configured(component));
  const topology = { ...loaded, components: configuredComponents };
  const { system } = await startPlatformProcess({
    topology,
    catalogue: components,
    env,
    log,
    metadataOrigin: () => managerMetadataOrigin(messagingManagerAccess(process.env), log.child({ messaging: 'metadata' })),
    onFailure: (err) => {
      log.fatal({ err }, 'the root supervisor gave up; stopping');
      void system.shutdown(env.OA_SHUTDOWN_DEADLINE_MS).finally(() => process.exit(1));
    },
  });
  signals.handOver(() => shutdownOnSignals(system, { log, deadlineMs: env.OA_SHUTDOWN_DEADLINE_MS }));
  log.info({ topology: topology.name, transport: topology.transport, tree: system.root.children() }, 'started');
}

/** How the transport reaches the Manager for its metadata; a missing variable says what else would do. */
function messagingManagerAccess(env: NodeJS.ProcessEnv): ReturnType<typeof managerAccessFromEnv> {
  try {
    return managerAccessFromEnv(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const hint = 'the amqp transport reads its messaging metadata from the Manager (MANAGER_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET), unless OA_MESSAGING_METADATA (a file) or AMQP_URL (one broker) is set';
    throw new ConfigError([...err.problems, hint]);
  }
}

/** A component's arguments after its `configure` hook read the environment (the only place that reads it). */
async function configured(component: Topology['components'][number]): Promise<Topology['components'][number]> {
  const configure = components[component.name]?.configure;
  if (configure === undefined) return component;
  return { ...component, args: (await configure(process.env, component.args ?? {})) as Record<string, unknown> };
}

/** True when node was started on this file, not when the CLI imports it (argv[1] may be no file: `node -e`). */
function isEntry(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  const { values } = parseArgs({ options: { topology: { type: 'string', default: 'all-in-one' } } });
  startTopology(values.topology).catch((err: unknown) => {
    process.stderr.write(`openaperture: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
