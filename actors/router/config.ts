/** The Router's configuration (style R19): read from the environment once, at the process entry, into plain data. */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { proxySettings, ProxySettingsError, type ProxySettings } from '../../runtime/haproxy/core/settings.js';
import { ConfigError, managerAccessFromEnv, parseEnv, type ManagerAccess } from '../../runtime/config.js';

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export const RouterEnv = z.object({
  /** The haproxy executable (2.6 or later): a path, or a name looked up on PATH and in the sbin directories. */
  ROUTER_HAPROXY_BINARY: z.string().min(1, 'must not be empty').default('haproxy'),
  /** Where the proxy's config, sockets and pidfile live; `<OA_DATA_DIR or .data>/router` by default. */
  ROUTER_DIR: z.string().min(1, 'must not be empty').optional(),
  OA_DATA_DIR: z.string().min(1).optional(),
  /** The address every listening port binds: 127.0.0.1 unless clients come from other machines. */
  ROUTER_BIND_ADDRESS: z.string().regex(IPV4, 'expected an IPv4 address (e.g. 0.0.0.0 or 127.0.0.1)').default('127.0.0.1'),
  /** How often the Manager's routes are read again and applied. */
  ROUTER_RESYNC_MS: z.coerce.number<string>({ error: 'expected a number of milliseconds' }).int('expected a whole number').min(100, 'at least 100').default(2_000),
  PATH: z.string().optional(),
});

/** The Router's arguments: plain JSON, so a forked Router receives them as they are. */
export interface RouterArgs {
  readonly manager: ManagerAccess;
  /** The haproxy executable found, or why none was: the Router then stays idle and says so. */
  readonly haproxy: { readonly binary: string } | { readonly missing: string };
  readonly dir: string;
  readonly settings: ProxySettings;
  readonly resyncMs: number;
}

// Debian installs haproxy in /usr/sbin, which a user's PATH often lacks.
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `name` as an absolute path: itself when it holds a `/`, else the first executable of that name on PATH or in sbin. */
export function resolveExecutable(name: string, path: string | undefined): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? resolve(name) : undefined;
  const dirs = [...(path ?? '').split(delimiter).filter((d) => isAbsolute(d)), ...SBIN];
  return dirs.map((d) => join(d, name)).find(isExecutable);
}

/** Parses the environment; every problem names its variable. A haproxy not found is not one (see RouterArgs). */
export function routerArgsFromEnv(env: Readonly<Record<string, string | undefined>>): RouterArgs {
  const e = parseEnv(RouterEnv, env);
  const dir = resolve(e.ROUTER_DIR ?? join(e.OA_DATA_DIR ?? '.data', 'router'));
  let settings: ProxySettings;
  try {
    settings = proxySettings({ statsSocket: join(dir, 'admin.sock'), certDir: join(dir, 'certs'), bindAddress: e.ROUTER_BIND_ADDRESS });
  } catch (err) {
    if (err instanceof ProxySettingsError) throw new ConfigError([`ROUTER_DIR: ${err.message} (got ${JSON.stringify(dir)})`]);
    throw err;
  }
  const binary = resolveExecutable(e.ROUTER_HAPROXY_BINARY, e.PATH);
  const haproxy =
    binary === undefined
      ? { missing: `ROUTER_HAPROXY_BINARY: no executable ${e.ROUTER_HAPROXY_BINARY} (on PATH or in ${SBIN.join(', ')}); install haproxy 2.6 or later (Debian: apt-get install haproxy) or set ROUTER_HAPROXY_BINARY to its path` }
      : { binary };
  return { manager: managerAccessFromEnv(env), haproxy, dir, settings, resyncMs: e.ROUTER_RESYNC_MS };
}
