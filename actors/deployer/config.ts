import { z } from 'zod';
import { managerAccessFromEnv, parseEnv, type ManagerAccess } from '../../runtime/config.js';
import type { RegistryAuth } from '../../runtime/docker/containers.js';

/**
 * The Deployer's configuration (reference §1.8), read once at the process entry and handed to the actor as plain
 * data (style R19). The same component runs as `deployer` (queue `deployer`) and as Deployer OA (queue `deploy_oa`).
 */

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
  readonly email?: string;
}

export interface DeployerArgs {
  /** `deployer` or `deploy_oa`. */
  readonly queue: string;
  readonly manager: ManagerAccess;
  /** Credentials per registry host (`127.0.0.1:5001`), for pulling images that are not public. */
  readonly registries: Readonly<Record<string, RegistryCredentials>>;
  /** Timeout of one Docker API call. */
  readonly dockerTimeoutMs: number;
  /** A unit without a health check is healthy once running this long. */
  readonly defaultRunningSeconds: number;
  /** How many log lines of a failed container the milestone reports. */
  readonly logLines: number;
}

const blankIsUnset = (v: unknown): unknown => (v === '' ? undefined : v);
const wholeNumber = (min: number, fallback: number) =>
  z.preprocess(blankIsUnset, z.coerce.number<string>({ error: 'expected a number' }).int('expected a whole number').min(min, `expected at least ${min}`).default(fallback));

const Registries = z.preprocess(
  (v) => {
    if (v === undefined || v === '') return {};
    try {
      return JSON.parse(String(v));
    } catch {
      return v;
    }
  },
  z.record(z.string().min(1), z.strictObject({ username: z.string().min(1), password: z.string(), email: z.string().optional() }), {
    error: 'expected JSON {"<registry host>": {"username": "...", "password": "..."}}',
  }),
);

export const DeployerEnv = z.object({
  DEPLOYER_REGISTRY_AUTH: Registries,
  DEPLOYER_DOCKER_TIMEOUT_MS: wholeNumber(100, 30_000),
  DEPLOYER_DEFAULT_RUNNING_SECONDS: wholeNumber(0, 5),
  DEPLOYER_LOG_LINES: wholeNumber(1, 50),
});

export function deployerArgsFromEnv(env: Readonly<Record<string, string | undefined>>, queue: string): DeployerArgs {
  const parsed = parseEnv(DeployerEnv, env);
  const registries = Object.fromEntries(
    Object.entries(parsed.DEPLOYER_REGISTRY_AUTH).map(([host, c]) => [host, { username: c.username, password: c.password, ...(c.email ? { email: c.email } : {}) }]),
  );
  return {
    queue,
    manager: managerAccessFromEnv(env),
    registries,
    dockerTimeoutMs: parsed.DEPLOYER_DOCKER_TIMEOUT_MS,
    defaultRunningSeconds: parsed.DEPLOYER_DEFAULT_RUNNING_SECONDS,
    logLines: parsed.DEPLOYER_LOG_LINES,
  };
}

/** The registry host of an image reference: its first path part when that looks like a host (has `.` or `:`, or is localhost). */
export function registryOf(image: string): string | undefined {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
}

export function registryAuthFor(registries: DeployerArgs['registries'], image: string): RegistryAuth | undefined {
  const registry = registryOf(image);
  const credentials = registry === undefined ? undefined : registries[registry];
  return credentials && registry ? { ...credentials, serveraddress: registry } : undefined;
}
