/** The FleetManager's configuration (style R19): read from the environment once, at the process entry. */
import { z } from 'zod';
import { managerAccessFromEnv, parseEnv, type ManagerAccess } from '../../runtime/config.js';

export const FleetManagerEnv = z.object({
  /**
   * How long one host may take over its part of an action, every Docker call included. Kept well under the caller's
   * wait (messages.ts FLEET_ACTION_TIMEOUT_MS) so a dead host is an answer naming it, not a caller's timeout.
   */
  OA_FLEET_HOST_TIMEOUT_S: z.coerce.number<string>({ error: 'expected a number of seconds' }).positive('expected a number above 0').default(20),
  /** Lines of stdout and of stderr `unit_logs` returns (the original's `fleetctl journal` showed 10). */
  OA_FLEET_LOG_LINES: z.coerce.number<string>({ error: 'expected a number' }).int('expected a whole number').positive('expected 1 or more').default(200),
  /** The image `node_info` runs `df -P` in on each host; it must be present there (no pull is attempted). */
  OA_DISK_PROBE_IMAGE: z.string().min(1, 'must not be empty').default('openaperture/busybox:latest'),
});

/** Plain data, so a forked FleetManager receives it as it is. */
export interface FleetManagerArgs {
  readonly manager: ManagerAccess;
  readonly hostTimeoutMs: number;
  readonly logLines: number;
  readonly diskProbeImage: string;
}

export function fleetManagerArgsFromEnv(env: Readonly<Record<string, string | undefined>>): FleetManagerArgs {
  const e = parseEnv(FleetManagerEnv, env);
  return {
    manager: managerAccessFromEnv(env),
    hostTimeoutMs: Math.max(1, Math.round(e.OA_FLEET_HOST_TIMEOUT_S * 1_000)),
    logLines: e.OA_FLEET_LOG_LINES,
    diskProbeImage: e.OA_DISK_PROBE_IMAGE,
  };
}
