/** The Overseer's configuration (style R19): read from the environment once, at the process entry, into plain data. */
import { z } from 'zod';
import { ageingPolicyProblem } from './core/ageing.js';
import { ConfigError, managerAccessFromEnv, MessagingEnv, parseEnv, type ManagerAccess } from '../../runtime/config.js';

const seconds = (fallback: number) => z.coerce.number<string>({ error: 'expected a number of seconds' }).positive('expected a number above 0').default(fallback);

/** Reference §8 figures as defaults; fractions of a second are allowed so tests can run the same code fast. */
export const OverseerEnv = z.object({
  /** Silence after which a module is marked inactive (reference §8.2: 10 min). */
  OA_MODULE_INACTIVE_AFTER_S: seconds(600),
  /** Silence, since the last heartbeat, after which it is removed (reference §8.2: about 20 min). */
  OA_MODULE_DELETE_AFTER_S: seconds(1_200),
  /** How often the modules are aged (reference §8.2: a random 60-300 s). */
  OA_MODULE_SWEEP_PERIOD_S: seconds(60),
  /** How often each cluster of the exchange is checked (reference §8.4: a random 60-1800 s). */
  OA_CLUSTER_MONITOR_PERIOD_S: seconds(600),
  /** How often a failed unit is checked again before it is reported (reference §8.4: 3 times, 10 s apart). */
  OA_FAILED_UNIT_RECHECKS: z.coerce.number<string>({ error: 'expected a number' }).int('expected a whole number').nonnegative('expected 0 or more').default(3),
  OA_FAILED_UNIT_RECHECK_S: seconds(10),
  /** How often the exchange's components are listed for the hourly strategy (reference §8.3: 300 s). */
  OA_COMPONENTS_POLL_PERIOD_S: seconds(300),
  /** How often upgrades in progress are checked (reference §8.3: 60 s). */
  OA_UPGRADE_MONITOR_PERIOD_S: seconds(60),
  /** The window the hourly strategy picks its random moment in (reference §8.3: 0-3600 s). */
  OA_HOURLY_UPGRADE_WINDOW_S: seconds(3_600),
});

/** The Overseer's arguments: plain JSON, so a forked Overseer receives them as they are. */
export interface OverseerArgs {
  readonly exchangeId: number;
  readonly manager: ManagerAccess;
  readonly modules: { readonly inactiveAfterMs: number; readonly deleteAfterMs: number; readonly sweepPeriodMs: number };
  readonly clusters: { readonly periodMs: number; readonly failedUnitRechecks: number; readonly recheckDelayMs: number };
  readonly upgrades: { readonly componentsPollMs: number; readonly monitorPeriodMs: number; readonly hourlyWindowMs: number };
}

const ms = (s: number): number => Math.max(1, Math.round(s * 1_000));

/** Parses the environment; every problem names its variable. */
export function overseerArgsFromEnv(env: Readonly<Record<string, string | undefined>>): OverseerArgs {
  const { EXCHANGE_ID } = parseEnv(MessagingEnv, env);
  const e = parseEnv(OverseerEnv, env);
  const modules = { inactiveAfterMs: ms(e.OA_MODULE_INACTIVE_AFTER_S), deleteAfterMs: ms(e.OA_MODULE_DELETE_AFTER_S), sweepPeriodMs: ms(e.OA_MODULE_SWEEP_PERIOD_S) };
  const problem = ageingPolicyProblem(modules);
  if (problem !== undefined) throw new ConfigError([`OA_MODULE_DELETE_AFTER_S: ${problem}`]);
  return {
    exchangeId: EXCHANGE_ID,
    manager: managerAccessFromEnv(env),
    modules,
    clusters: { periodMs: ms(e.OA_CLUSTER_MONITOR_PERIOD_S), failedUnitRechecks: e.OA_FAILED_UNIT_RECHECKS, recheckDelayMs: ms(e.OA_FAILED_UNIT_RECHECK_S) },
    upgrades: { componentsPollMs: ms(e.OA_COMPONENTS_POLL_PERIOD_S), monitorPeriodMs: ms(e.OA_UPGRADE_MONITOR_PERIOD_S), hourlyWindowMs: ms(e.OA_HOURLY_UPGRADE_WINDOW_S) },
  };
}
