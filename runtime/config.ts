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

/** Where a listener binds; `off`: none. */
export type ListenAddress = { readonly host: string; readonly port: number } | 'off';

/** `off`, or `host:port` (`[::1]:9464` for IPv6), the port 0..65535 (0: any free port). */
const listenAddress = z
  .string()
  .transform((text, ctx): ListenAddress => {
    if (text === 'off') return 'off';
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
    const port = Number(match?.[3]);
    if (match === null || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: 'expected host:port (e.g. 127.0.0.1:9464) or off' });
      return z.NEVER;
    }
    return { host: match[1] ?? match[2] ?? '', port };
  });

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
  /** This process's Prometheus listener (`GET /metrics`, no token: keep it on a private address); `off`: none. */
  OA_METRICS_ADDRESS: listenAddress.prefault('127.0.0.1:9464'),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

/**
 * Where this process sits in the messaging topology (seed 000 names: EXCHANGE_ID, BROKER_ID) and how it reaches the
 * brokers: by default from the Manager's messaging tables (its API, or its database in the Manager's own process),
 * cached under OA_MESSAGING_CACHE_DIR; overridden by a metadata file (OA_MESSAGING_METADATA, the tables as JSON), or,
 * for the simplest deployment, one broker URL (AMQP_URL) with one root exchange named OA_EXCHANGE_NAME.
 */
export const MessagingEnv = z.object({
  EXCHANGE_ID: positiveInt(1),
  BROKER_ID: positiveInt(1),
  AMQP_URL: z.string().min(1).optional(),
  OA_MESSAGING_METADATA: z.string().min(1).optional(),
  /** Where metadata read from the Manager is kept, so a restart works while the Manager is down; `$OA_DATA_DIR/messaging` by default. */
  OA_MESSAGING_CACHE_DIR: z.string().min(1).optional(),
  OA_DATA_DIR: z.string().min(1).optional(),
  /** How often metadata read from the Manager is read again (reference §4.1, §4.2: 5 min), besides `messaging_changed`. */
  OA_MESSAGING_REFRESH_S: positiveInt(300),
  OA_EXCHANGE_NAME: z.string().min(1).default('openaperture'),
  /** Prefetch and the cap on deliveries in a handler at once, per consumer (reference §4.5). */
  OA_MAX_IN_FLIGHT: positiveInt(10),
  /** Failed reconnects before a switch to the failover broker (reference §4.5 retry_cnt). */
  OA_AMQP_RETRY_COUNT: positiveInt(5),
  OA_HEARTBEAT_INTERVAL_MS: positiveInt(30_000),
  /** Declare exchanges, queues, `<queue>_error` and bindings (reference §4.3 auto_declare); `false` if provisioned by hand. */
  OA_AMQP_AUTO_DECLARE: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('true')
    .transform((v) => v === 'true'),
});
export type MessagingEnv = z.infer<typeof MessagingEnv>;

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

/**
 * How a worker reaches the Manager (reference §1, §1.3: MANAGER_URL, OAUTH_LOGIN_URL, OAUTH_CLIENT_ID,
 * OAUTH_CLIENT_SECRET): an API client of the platform, whose role decides what it may do.
 */
export const ManagerClientEnv = z.object({
  MANAGER_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  OAUTH_LOGIN_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  OAUTH_CLIENT_ID: z.string().min(1, 'must not be empty'),
  OAUTH_CLIENT_SECRET: z.string().min(1, 'must not be empty'),
});
export type ManagerClientEnv = z.infer<typeof ManagerClientEnv>;

/** The Manager client settings of a component's arguments: plain data, so a forked component can rebuild its client. */
export interface ManagerAccess {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokenUrl?: string;
}

export function managerAccessFromEnv(env: Readonly<Record<string, string | undefined>>): ManagerAccess {
  const parsed = parseEnv(ManagerClientEnv, env);
  return {
    baseUrl: parsed.MANAGER_URL,
    clientId: parsed.OAUTH_CLIENT_ID,
    clientSecret: parsed.OAUTH_CLIENT_SECRET,
    ...(parsed.OAUTH_LOGIN_URL ? { tokenUrl: parsed.OAUTH_LOGIN_URL } : {}),
  };
}
