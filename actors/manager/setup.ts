import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { ManagerArgs } from './messages.js';
import { loadManagerConfig, managerListenAddress } from '../../http/manager-config.js';
import { openDatabase } from '../../http/database.js';
import { loadMessagingMetadata } from '../../http/messaging-metadata.js';
import { generateKeyPair, loadKeyPair, secretsFromEnv } from '../../http/secrets.js';
import { ConfigError, type ManagerAccess } from '../../runtime/config.js';
import type { Logger } from '../../runtime/logger.js';
import type { MessagingMetadata } from '../../runtime/messaging/core/routing.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a file the platform generated earlier, or generates it now, readable by its owner only. */
async function persisted(path: string, make: () => Promise<string>): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = await make();
  await writeFile(path, value, { mode: 0o600 });
  await chmod(path, 0o600);
  return value;
}

/**
 * The embedded default (design §9: all-in-one): what an operator would configure is made on first start and kept
 * under the data directory — a PGlite database, the token secret and the key pair that seals secrets. Variables
 * that are set still win.
 */
async function embeddedEnv(env: Env, dataDir: string): Promise<Env> {
  const dir = resolve(dataDir, 'manager');
  await mkdir(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  const keys = { pair: undefined as { publicKeyPem: string; privateKeyPem: string } | undefined };
  const pair = async () => (keys.pair ??= await generateKeyPair());
  return {
    ...env,
    ...(env.MANAGER_DATABASE_URL || env.MANAGER_DATA_DIR ? {} : { MANAGER_DATA_DIR: join(dir, 'db') }),
    MANAGER_TOKEN_SECRET: env.MANAGER_TOKEN_SECRET || (await persisted(join(dir, 'token-secret'), async () => randomBytes(48).toString('base64url'))),
    MANAGER_MESSAGING_PRIVATE_KEY: env.MANAGER_MESSAGING_PRIVATE_KEY || (await persisted(join(dir, 'keys', 'private.pem'), async () => (await pair()).privateKeyPem)),
    MANAGER_MESSAGING_PUBLIC_KEY: env.MANAGER_MESSAGING_PUBLIC_KEY || (await persisted(join(dir, 'keys', 'public.pem'), async () => (await pair()).publicKeyPem)),
  };
}

const dataDirOf = (env: Env): string => env.OA_DATA_DIR || '.data';

/** The in-process components' API client of the embedded default, made on first start and kept in the data directory. */
async function platformClient(env: Env): Promise<{ clientId: string; clientSecret: string }> {
  const dir = resolve(dataDirOf(env), 'manager');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const text = await persisted(join(dir, 'platform-client.json'), async () =>
    JSON.stringify({ clientId: 'platform-embedded', clientSecret: randomBytes(32).toString('base64url') }),
  );
  return JSON.parse(text) as { clientId: string; clientSecret: string };
}

/**
 * How a component of the embedded default reaches the Manager of its own process: the platform client's
 * credentials and the Manager's configured address. Variables that are set (MANAGER_URL, ...) are not needed.
 */
export async function embeddedManagerAccess(env: Env): Promise<ManagerAccess> {
  const http = managerListenAddress(env);
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
  if (http.port === 0) throw new ConfigError(['MANAGER_HTTP_PORT: the embedded components need a fixed port, not 0']);
  const { clientId, clientSecret } = await platformClient(env);
  return { baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${http.port}`, clientId, clientSecret };
}

/**
 * The API client the platform's components use: generated in the embedded default; otherwise the OAUTH_CLIENT_ID and
 * OAUTH_CLIENT_SECRET the operator gives the components (reference §1), when the Manager's process has them too.
 */
async function platformClientOf(env: Env, embedded: boolean): Promise<{ platformClient?: { clientId: string; clientSecret: string } }> {
  if (embedded) return { platformClient: await platformClient(env) };
  if (env.OAUTH_CLIENT_ID && env.OAUTH_CLIENT_SECRET) return { platformClient: { clientId: env.OAUTH_CLIENT_ID, clientSecret: env.OAUTH_CLIENT_SECRET } };
  return {};
}

/** The Manager's arguments from the environment (`embedded`: fill what is missing under OA_DATA_DIR). */
export async function managerArgsFromEnv(env: Env, opts: { embedded: boolean; exchangeId: number; brokerId: number }): Promise<ManagerArgs> {
  const effective = opts.embedded ? await embeddedEnv(env, dataDirOf(env)) : env;
  const config = loadManagerConfig(effective);
  secretsFromEnv(effective); // refuses a missing, unreadable or mismatched key pair now, naming the variable
  const read = async (name: 'MANAGER_MESSAGING_PUBLIC_KEY' | 'MANAGER_MESSAGING_PRIVATE_KEY'): Promise<string> => {
    const value = effective[name];
    if (!value) throw new ConfigError([`${name}: required (not set)`]);
    return value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : readFile(value, 'utf8');
  };
  return {
    config,
    keys: { publicKeyPem: await read('MANAGER_MESSAGING_PUBLIC_KEY'), privateKeyPem: await read('MANAGER_MESSAGING_PRIVATE_KEY'), keyName: effective.MANAGER_MESSAGING_KEYNAME || 'default' },
    exchangeId: opts.exchangeId,
    brokerId: opts.brokerId,
    ...(env.UI_URL ? { uiUrl: env.UI_URL } : {}),
    ...(await platformClientOf(env, opts.embedded)),
    ...(opts.embedded
      ? { bootstrap: { ...(env.AMQP_URL ? { amqpUrl: env.AMQP_URL } : {}), ...(env.DOCKER_HOST?.startsWith('unix://') ? { dockerUrl: env.DOCKER_HOST } : {}) } }
      : {}),
  };
}

/**
 * The messaging metadata of the Manager's process before its actor runs (the transport opens first): its database
 * opened, read and closed again, so the actor can open it (an embedded one takes one process at a time).
 */
export async function readMessagingMetadataOnce(args: ManagerArgs, log: Logger): Promise<MessagingMetadata> {
  const db = await openDatabase(args.config.database, log);
  try {
    const metadata = await loadMessagingMetadata(db.fork(), loadKeyPair(args.keys));
    if (metadata.exchanges.length === 0) {
      throw new ConfigError([
        "EXCHANGE_ID: the Manager's database has no exchange yet: run `openaperture bootstrap` (the first exchange and broker), or set OA_MESSAGING_METADATA or AMQP_URL",
      ]);
    }
    return metadata;
  } finally {
    await db.close();
  }
}
