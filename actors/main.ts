import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { components } from './system.js';
import { startPlatformProcess } from '../runtime/boot.js';
import { MessagingEnv, parseEnv, RuntimeEnv } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { shutdownOnSignals } from '../runtime/process.js';
import { loadTopology, type Topology } from '../runtime/topology.js';

/** Process entry: `--topology NAME|FILE` starts that topology and runs until SIGINT/SIGTERM. */
const TOPOLOGY_DIR = fileURLToPath(new URL('../deploy/topologies/', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { topology: { type: 'string', default: 'all-in-one' } } });
  const env = parseEnv(RuntimeEnv.extend(MessagingEnv.shape), process.env);
  const log = createLogger({ level: env.OA_LOG_LEVEL });
  const loaded = await loadTopology(values.topology, TOPOLOGY_DIR);
  const topology = { ...loaded, components: await Promise.all(loaded.components.map(configured)) };
  const { system } = await startPlatformProcess({
    topology,
    catalogue: components,
    env,
    log,
    onFailure: (err) => {
      log.fatal({ err }, 'the root supervisor gave up; stopping');
      void system.shutdown(env.OA_SHUTDOWN_DEADLINE_MS).finally(() => process.exit(1));
    },
  });
  shutdownOnSignals(system, { log, deadlineMs: env.OA_SHUTDOWN_DEADLINE_MS });
  log.info({ topology: topology.name, transport: topology.transport, tree: system.root.children() }, 'started');
}

/** A component's arguments after its `configure` hook read the environment (the only place that reads it). */
async function configured(component: Topology['components'][number]): Promise<Topology['components'][number]> {
  const configure = components[component.name]?.configure;
  if (configure === undefined) return component;
  return { ...component, args: (await configure(process.env, component.args ?? {})) as Record<string, unknown> };
}

main().catch((err: unknown) => {
  process.stderr.write(`openaperture: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
