import { z } from 'zod';
import type { DatabaseConfig } from './database.js';
import { ConfigError, parseEnv } from '../runtime/config.js';

/** The Manager's own variables (style R19): parsed once at start, problems naming the variable. */

/** OIDC access tokens: JWTs signed by keys at `jwksUrl`, with this issuer and audience. */
export interface OidcConfig {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
}

/** Validators of tokens the platform did not issue; neither set means only platform tokens are accepted. */
export interface ExternalAuthConfig {
  /** MANAGER_OAUTH_VALIDATE_URL, the tokeninfo endpoint of reference §3.1. */
  readonly tokenInfoUrl?: string;
  readonly oidc?: OidcConfig;
}

export interface ManagerConfig {
  /** Signs the platform's own JWTs (http/auth.ts tokenIssuer). */
  readonly tokens: { readonly secret: string; readonly ttlSeconds: number };
  readonly database: DatabaseConfig;
  readonly http: { readonly host: string; readonly port: number };
  readonly externalAuth: ExternalAuthConfig;
}

/** Variables whose values never appear in a problem: key material, or a URL that may hold a password. */
const SECRET_VARIABLES = new Set(['MANAGER_TOKEN_SECRET', 'MANAGER_DATABASE_URL']);

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

const ManagerEnv = z.object({
  MANAGER_TOKEN_SECRET: z.string({ error: 'expected at least 32 characters' }).min(32, 'expected at least 32 characters'),
  MANAGER_TOKEN_TTL_SECONDS: z.coerce
    .number<string>({ error: 'expected a number' })
    .int('expected a whole number')
    .positive('expected a number above 0')
    .default(3_600),
  MANAGER_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL').optional(),
  /** PGlite's data directory; `memory://` keeps it in memory (tests, throwaway demos). */
  MANAGER_DATA_DIR: z.string().optional(),
  // 4000 is the original Manager's Phoenix port; 0 asks the OS for a free one.
  MANAGER_HTTP_PORT: z.coerce.number<string>({ error: 'expected a number' }).int('expected a whole number').min(0).max(65_535, 'expected a port, 0..65535').default(4_000),
  MANAGER_HTTP_HOST: z.string().default('127.0.0.1'),
  MANAGER_OAUTH_VALIDATE_URL: httpUrl.optional(),
  MANAGER_OIDC_JWKS_URL: httpUrl.optional(),
  MANAGER_OIDC_ISSUER: z.string().optional(),
  MANAGER_OIDC_AUDIENCE: z.string().optional(),
});

/** Where the Manager listens, alone: what components of the same process need to reach it. */
export function managerListenAddress(env: Readonly<Record<string, string | undefined>>): ManagerConfig['http'] {
  const parsed = parseEnv(ManagerEnv.pick({ MANAGER_HTTP_PORT: true, MANAGER_HTTP_HOST: true }), env);
  return { host: parsed.MANAGER_HTTP_HOST, port: parsed.MANAGER_HTTP_PORT };
}

/** What one variable cannot say alone; checked on the raw variables, so these come with the other problems. */
function combinationProblems(given: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const has = (v: string) => given[v] !== undefined;
  if (!has('MANAGER_DATABASE_URL') && !has('MANAGER_DATA_DIR')) problems.push('MANAGER_DATABASE_URL: set it (PostgreSQL) or MANAGER_DATA_DIR (embedded PGlite)');
  if (has('MANAGER_DATABASE_URL') && has('MANAGER_DATA_DIR')) problems.push('MANAGER_DATA_DIR: set either MANAGER_DATABASE_URL or MANAGER_DATA_DIR, not both');
  const oidc = ['MANAGER_OIDC_JWKS_URL', 'MANAGER_OIDC_ISSUER', 'MANAGER_OIDC_AUDIENCE'];
  // Half an OIDC configuration would accept tokens of any issuer or audience: all three, or none.
  if (oidc.some(has)) {
    for (const v of oidc) if (!has(v)) problems.push(`${v}: required with ${oidc.filter((o) => o !== v).join(' and ')} (not set)`);
  }
  return problems;
}

/** Reads the Manager's configuration from `env`; a `ConfigError` lists every problem, naming its variable. */
export function loadManagerConfig(env: Readonly<Record<string, string | undefined>>): ManagerConfig {
  // An empty variable (`MANAGER_DATA_DIR=` in an env file) counts as not set.
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('MANAGER_') && v !== undefined && v.trim() !== '') given[k] = v;
  const parsed = ManagerEnv.safeParse(given);
  const problems = [
    ...(parsed.error?.issues ?? []).map((issue) => {
      const name = issue.path.join('.');
      const value = given[name];
      const shown = value === undefined ? ' (not set)' : SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(value)})`;
      return `${name}: ${issue.message}${shown}`;
    }),
    ...combinationProblems(given),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const database: DatabaseConfig =
    e.MANAGER_DATABASE_URL !== undefined ? { kind: 'postgresql', url: e.MANAGER_DATABASE_URL } : { kind: 'pglite', ...(e.MANAGER_DATA_DIR === undefined ? {} : { dataDir: e.MANAGER_DATA_DIR }) };
  const { MANAGER_OIDC_JWKS_URL: jwksUrl, MANAGER_OIDC_ISSUER: issuer, MANAGER_OIDC_AUDIENCE: audience } = e;
  return {
    tokens: { secret: e.MANAGER_TOKEN_SECRET, ttlSeconds: e.MANAGER_TOKEN_TTL_SECONDS },
    database,
    http: { host: e.MANAGER_HTTP_HOST, port: e.MANAGER_HTTP_PORT },
    externalAuth: {
      ...(e.MANAGER_OAUTH_VALIDATE_URL === undefined ? {} : { tokenInfoUrl: e.MANAGER_OAUTH_VALIDATE_URL }),
      ...(jwksUrl !== undefined && issuer !== undefined && audience !== undefined ? { oidc: { jwksUrl, issuer, audience } } : {}),
    },
  };
}
