import { z } from 'zod';
import { LOG_LEVELS } from './logger.js';

/** Configuration is read from the environment once, at start, and passed down (style R19). */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly retryable = false;
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const positiveInt = (fallback: number) => z.coerce.number<string>({ error: 'expected a number' }).int('expected a whole number').positive('expected a number above 0').default(fallback);

/** The variables every process reads. Components extend this with their own (reference §1, seed 000 names). */
export const RuntimeEnv = z.object({
  OA_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Default timeout of an ask between actors. */
  OA_ASK_TIMEOUT_MS: positiveInt(30_000),
  /** How long SIGINT/SIGTERM waits for in-flight messages before stopping the tree anyway. */
  OA_SHUTDOWN_DEADLINE_MS: positiveInt(10_000),
  /** Forked components are pinged this often; one silent for OA_WATCHDOG_TIMEOUT_MS is killed and restarted. */
  OA_WATCHDOG_INTERVAL_MS: positiveInt(1_000),
  OA_WATCHDOG_TIMEOUT_MS: positiveInt(3_000),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

/** Parses `env` with `schema`; every problem names its variable and what was wrong with the value. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Readonly<Record<string, string | undefined>>): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const value = env[name];
      return `${name}: ${issue.message}${value === undefined ? ' (not set)' : ` (got ${JSON.stringify(value)})`}`;
    }),
  );
}
