import { join } from 'node:path';
import { definedFields } from '../../runtime/core/objects.js';

/**
 * Which database `migrate` and `bootstrap` work on, and how `bootstrap` is configured: the Manager's own variables
 * (README "Configuration"), with the all-in-one's defaults when none are set, so the CLI prepares the database that
 * `npm start` opens. Pure: the environment and the flags in, settings out.
 */

type Env = Readonly<Record<string, string | undefined>>;

const given = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** The database as the Manager would open it: MANAGER_DATABASE_URL, MANAGER_DATA_DIR, or the all-in-one's directory. */
export type DatabaseChoice =
  | { readonly kind: 'postgresql'; readonly url: string }
  | { readonly kind: 'pglite'; readonly dataDir: string };

export function databaseChoice(env: Env): DatabaseChoice | { readonly problem: string } {
  const url = given(env, 'MANAGER_DATABASE_URL');
  const dir = given(env, 'MANAGER_DATA_DIR');
  if (url !== undefined && dir !== undefined) return { problem: 'MANAGER_DATA_DIR: set either MANAGER_DATABASE_URL or MANAGER_DATA_DIR, not both' };
  if (url !== undefined) return /^postgres(ql)?:\/\/\S+$/.test(url) ? { kind: 'postgresql', url } : { problem: 'MANAGER_DATABASE_URL: expected a postgres:// or postgresql:// URL' };
  return { kind: 'pglite', dataDir: dir ?? join(given(env, 'OA_DATA_DIR') ?? '.data', 'manager', 'db') };
}

/** Where a choice points, for messages: a PostgreSQL URL without its password. */
export function describeDatabase(choice: DatabaseChoice): string {
  if (choice.kind === 'pglite') return `embedded PGlite at ${choice.dataDir}`;
  const url = new URL(choice.url);
  url.password = url.password === '' ? '' : '***';
  return `PostgreSQL ${url.toString()}`;
}

/**
 * Whether the Manager's secrets come from the all-in-one's data directory (generated there when missing) or from
 * the operator's variables: a key pair given in the environment means an operator configured the Manager.
 */
export const embeddedSecrets = (env: Env): boolean => given(env, 'MANAGER_MESSAGING_PRIVATE_KEY') === undefined;

export interface BootstrapFlags {
  readonly amqpUrl?: string | undefined;
  readonly dockerUrl?: string | undefined;
  readonly exchangeName?: string | undefined;
  readonly etcdToken?: string | undefined;
  readonly hostName?: string | undefined;
}

/** Bootstrap options: the flags, else AMQP_URL and DOCKER_HOST as the all-in-one reads them, else bootstrap's defaults. */
export function bootstrapOptions(env: Env, flags: BootstrapFlags): BootstrapFlags {
  const amqpUrl = flags.amqpUrl ?? given(env, 'AMQP_URL');
  const dockerUrl = flags.dockerUrl ?? given(env, 'DOCKER_HOST');
  const pick = { ...flags, amqpUrl, dockerUrl };
  return definedFields(pick);
}
