import type { FleetManagerArgs } from '../../../actors/fleet-manager/config.js';
import fleetManager from '../../../actors/fleet-manager/fleet-manager.actor.js';
import { FLEET_MANAGER_INTAKE } from '../../../actors/fleet-manager/intake.js';
import { routeIntake } from '../../../runtime/boot.js';
import { startActorSystem, type ActorSystem } from '../../../runtime/actors/system.js';
import { DEFAULT_BACKOFF } from '../../../runtime/actors/supervisor-spec.js';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import { createLogger } from '../../../runtime/logger.js';
import type { Transport } from '../../../runtime/messaging/transport.js';

/** The real FleetManager actor under a supervisor, consuming `fleet_manager` through `transport` (its exchange's). */
export async function startFleetManager(transport: Transport, args: FleetManagerArgs): Promise<{ system: ActorSystem; failures: Error[] }> {
  const log = createLogger({ level: process.env.OA_TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' });
  const failures: Error[] = [];
  const system = await startActorSystem({
    spec: {
      strategy: 'one_for_one',
      intensity: { maxRestarts: 3, withinMs: 10_000 },
      backoff: { ...DEFAULT_BACKOFF, initialMs: 20 },
      children: [{ name: 'fleet_manager', actor: fleetManager, args }],
    },
    log,
    logLevel: 'silent',
    askTimeoutMs: 10_000,
    onFailure: (err) => failures.push(err),
    messaging: { transport, settings: { kind: 'in-memory', env: parseEnv(MessagingEnv, {}) } },
  });
  await routeIntake({ system, transport, handle: system.root.untypedHandle('fleet_manager'), intakes: FLEET_MANAGER_INTAKE, log });
  return { system, failures };
}

/** Arguments with a short host deadline, so a silent host answers within a test. */
export const testArgs = (manager: FleetManagerArgs['manager'], diskProbeImage: string): FleetManagerArgs => ({
  manager,
  hostTimeoutMs: 3_000,
  logLines: 50,
  diskProbeImage,
});
