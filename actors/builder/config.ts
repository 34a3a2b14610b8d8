/** The Builder's configuration (style R19): read from the environment once, at the process entry, into plain data. */
import { availableParallelism, tmpdir } from 'node:os';
import { z } from 'zod';
import { managerAccessFromEnv, MessagingEnv, parseEnv, type ManagerAccess } from '../../runtime/config.js';

/** How long one milestone may run at most; the queue route waits a little longer (intake.ts). */
export const MAX_MILESTONE_SECONDS = 3 * 60 * 60;
/** The most milestones one Builder runs at once. */
const MAX_BUILDS_AT_ONCE = 64;

const seconds = (fallback: number, max = 24 * 60 * 60) =>
  z.coerce.number<string>({ error: 'expected a number of seconds' }).positive('expected a number above 0').max(max, `at most ${max} seconds`).default(fallback);
const optional = z.string().optional().transform((v) => (v === '' ? undefined : v));

export const BuilderEnv = z.object({
  /** Where each workflow gets its temporary directory (always removed at the end). */
  BUILDER_TMPDIR: z.string().min(1).optional(),
  /** How often a build checks whether its workflow was cancelled (reference §6.3: about 9 s). */
  BUILDER_CANCEL_POLL_S: seconds(3, 300),
  /** How often the list of Manager exchanges that receive build logs is refreshed (reference §10.1 item 11). */
  BUILDER_LOG_EXCHANGES_REFRESH_S: seconds(60, 3_600),
  BUILDER_MILESTONE_TIMEOUT_S: seconds(2 * 60 * 60, MAX_MILESTONE_SECONDS),
  /** Milestones run side by side, each in its own workspace (default: the build host's CPUs, at most 8). */
  BUILDER_CONCURRENCY: z.coerce
    .number<string>({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(1, 'at least 1')
    .max(MAX_BUILDS_AT_ONCE, `at most ${MAX_BUILDS_AT_ONCE}`)
    .optional(),
  /** The Docker host used when a request names no docker-build cluster (unix://, tcp:// or ssh://). */
  DOCKER_HOST: optional,
  /** Default registry credentials (reference §6.3 `docker login`); a deployment repo's docker.json overrides them. */
  DOCKER_REGISTRY_URL: optional,
  DOCKER_REGISTRY_USERNAME: optional,
  DOCKER_REGISTRY_PASSWORD: optional,
  DOCKER_REGISTRY_EMAIL: optional,
  /** For bare `org/repo` repository names, which mean GitHub (reference §6.1). */
  GITHUB_OAUTH_TOKEN: optional,
  /** A private key file for ssh repository URLs. */
  BUILDER_GIT_SSH_KEY: optional,
});

export interface RegistryCredentials {
  readonly url?: string | undefined;
  readonly username: string;
  readonly password: string;
  readonly email?: string | undefined;
}

/** The Builder's arguments: plain JSON, so a forked Builder receives them as they are. */
export interface BuilderArgs {
  readonly exchangeId: number;
  readonly manager: ManagerAccess;
  readonly tmpDir: string;
  readonly cancelPollMs: number;
  readonly logExchangesRefreshMs: number;
  readonly milestoneTimeoutMs: number;
  /** How many milestones run at once (the intake's `parallel`). */
  readonly buildsAtOnce: number;
  readonly defaultDockerHost?: string | undefined;
  readonly registry?: RegistryCredentials | undefined;
  readonly githubToken?: string | undefined;
  readonly gitSshKeyPath?: string | undefined;
}

const ms = (s: number): number => Math.max(1, Math.round(s * 1_000));

/** Parses the environment; every problem names its variable. */
export function builderArgsFromEnv(env: Readonly<Record<string, string | undefined>>): BuilderArgs {
  const { EXCHANGE_ID } = parseEnv(MessagingEnv, env);
  const e = parseEnv(BuilderEnv, env);
  const registry =
    e.DOCKER_REGISTRY_USERNAME !== undefined && e.DOCKER_REGISTRY_PASSWORD !== undefined
      ? { url: e.DOCKER_REGISTRY_URL, username: e.DOCKER_REGISTRY_USERNAME, password: e.DOCKER_REGISTRY_PASSWORD, email: e.DOCKER_REGISTRY_EMAIL }
      : undefined;
  return {
    exchangeId: EXCHANGE_ID,
    manager: managerAccessFromEnv(env),
    tmpDir: e.BUILDER_TMPDIR ?? tmpdir(),
    cancelPollMs: ms(e.BUILDER_CANCEL_POLL_S),
    logExchangesRefreshMs: ms(e.BUILDER_LOG_EXCHANGES_REFRESH_S),
    milestoneTimeoutMs: ms(e.BUILDER_MILESTONE_TIMEOUT_S),
    buildsAtOnce: e.BUILDER_CONCURRENCY ?? Math.min(8, availableParallelism()),
    defaultDockerHost: e.DOCKER_HOST,
    registry,
    githubToken: e.GITHUB_OAUTH_TOKEN,
    gitSshKeyPath: e.BUILDER_GIT_SSH_KEY,
  };
}
