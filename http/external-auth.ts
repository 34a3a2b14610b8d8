import { createHash } from 'node:crypto';
import type { EntityManager, EntitySchema, FilterQuery, RequiredEntityData } from '@mikro-orm/core';
import { SqlEntityManager } from '@mikro-orm/postgresql';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BaseDeps } from './app.js';
import type { Principal } from './auth.js';
import type { ExternalAuthConfig, OidcConfig } from './manager-config.js';
import { AuthSourceSchema, AuthSourceUserSchema, ROLES, UserSchema, type AuthSource, type User } from '../entities/auth.js';
import type { Logger } from '../runtime/logger.js';

/**
 * Tokens the platform did not issue (design §2 "auth"): a tokeninfo URL as the original (reference §3.1), or an OIDC
 * provider's JWKS. Either way the caller becomes a user, provisioned on first sight as reference §3.1 does.
 */

export type ExternalAuth = NonNullable<BaseDeps['externalAuth']>;

export interface ExternalAuthOptions {
  readonly log: Logger;
  /** Epoch ms; injectable so tests can age the cache and tokens. */
  readonly now?: () => number;
  /** How long the tokeninfo endpoint or the JWKS may take before the token is refused. */
  readonly timeoutMs?: number;
}

/** Token info or JWT claims, read through an auth source's slash-separated paths (reference §2.6). */
export type Claims = Readonly<Record<string, unknown>>;

/** Where an auth source finds a user's e-mail and names; the defaults a new `auth_sources` row gets. */
export type SourceFields = Pick<AuthSource, 'name' | 'email_field_name' | 'first_name_field_name' | 'last_name_field_name'>;

/** Reference §3.1: the defaults of an auto-generated tokeninfo auth source. */
export const TOKEN_INFO_FIELDS: SourceFields = {
  name: 'auto-generated',
  email_field_name: 'resource_owner/email',
  first_name_field_name: 'resource_owner/custom_attributes/first_name',
  last_name_field_name: 'resource_owner/custom_attributes/last_name',
};

/** The standard OIDC claims (OpenID Connect Core §5.1), for an auth source keyed by the JWKS URL. */
export const OIDC_FIELDS: SourceFields = { name: 'auto-generated', email_field_name: 'email', first_name_field_name: 'given_name', last_name_field_name: 'family_name' };

/** Reference §3.1: cached until 30 s before expiry. */
const CACHE_MARGIN_MS = 30_000;
/** Bounds memory whatever tokens arrive; the oldest entry goes first. */
const CACHE_MAX_ENTRIES = 10_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** jose's codes for a JWKS that could not be fetched or read (as opposed to a token that is wrong). */
const JWKS_UNAVAILABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/** The value at a slash-separated path (`resource_owner/email`), or undefined. */
export function claimAt(claims: Claims, path: string): unknown {
  let value: unknown = claims;
  for (const key of path.split('/')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const asSeconds = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : undefined;

/**
 * Seconds a token info says its token has left; undefined if it is not valid. Deliberate fix (reference §10.1 item 15):
 * the original demanded `expires_in_seconds` and crashed without it; `expires_in` (RFC 6749 §5.1, Google's tokeninfo,
 * which sends it as a string of digits) counts too. RFC 7662's `active: false` refuses the token whatever it says.
 */
export function tokenInfoLifetimeSeconds(info: Claims): number | undefined {
  if (info.active === false) return undefined;
  const lifetime = [asSeconds(info.expires_in_seconds), asSeconds(info.expires_in)].find((s) => s !== undefined && s > 0);
  return lifetime;
}

const nameAt = (claims: Claims, path: string): string | undefined => {
  const v = claimAt(claims, path);
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 255) : undefined;
};

/** A row found by its unique key, or inserted; concurrent inserts of the same key leave one row (reference §3.1). */
async function findOrInsert<T extends object>(em: SqlEntityManager, entity: EntitySchema<T>, key: FilterQuery<T>, row: RequiredEntityData<T>): Promise<T> {
  const found = await em.findOne(entity, key);
  if (found) return found;
  // `on conflict do nothing`, then read: a concurrent first request may have inserted the row since the find.
  await em.createQueryBuilder(entity).insert(row).onConflict().ignore().execute();
  return em.findOneOrFail(entity, key);
}

/**
 * Reference §3.1 provisioning: the auth source of `sourceUrl` (created with `fields` if missing), the user of the
 * e-mail found through it (created as a viewer, named `OpenAperture User` when the names are missing), and the relation.
 * Undefined when the claims carry no usable e-mail. Runs outside any transaction: each insert stands on its own.
 */
export async function provisionUser(em: EntityManager, sourceUrl: string, fields: SourceFields, claims: Claims): Promise<User | undefined> {
  if (!(em instanceof SqlEntityManager)) throw new TypeError('user provisioning needs a SQL entity manager');
  const now = new Date();
  const stamps = { inserted_at: now, updated_at: now };
  const source = await findOrInsert(em, AuthSourceSchema, { token_info_url: sourceUrl }, { token_info_url: sourceUrl, ...fields, ...stamps });
  const email = claimAt(claims, source.email_field_name);
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 255) return undefined;
  const user = await findOrInsert(em, UserSchema, { email }, {
    email,
    first_name: nameAt(claims, source.first_name_field_name) ?? 'OpenAperture',
    last_name: nameAt(claims, source.last_name_field_name) ?? 'User',
    role: 'viewer',
    disabled_at: null,
    ...stamps,
  });
  await em.createQueryBuilder(AuthSourceUserSchema).insert({ auth_source_id: source.id, user_id: user.id, ...stamps }).onConflict().ignore().execute();
  return user;
}

/** The user as a caller; none for a disabled user, whose every token is refused whatever its issuer says. */
const principalOf = (user: User): Principal | undefined =>
  user.disabled_at === null ? { subject: user.email, role: ROLES.find((r) => r === user.role) ?? 'viewer', kind: 'user' } : undefined;

/** A token checked with its issuer: its claims and when it expires (epoch ms). */
interface Verified {
  readonly claims: Claims;
  readonly expiresAt: number;
}

/** One kind of external token: how to check it with its issuer, and the auth source it provisions users under. */
interface Validator {
  readonly sourceUrl: string;
  readonly fields: SourceFields;
  verify(token: string): Promise<Verified | undefined>;
}

/** Reference §3.1: `GET <url>?access_token=<t>`; valid iff 200 and a positive lifetime. An unreachable IdP refuses the token. */
function tokenInfoValidator(url: string, opts: Required<ExternalAuthOptions>): Validator {
  return {
    sourceUrl: url,
    fields: TOKEN_INFO_FIELDS,
    async verify(token) {
      const target = new URL(url);
      target.searchParams.set('access_token', token);
      let info: unknown;
      try {
        const res = await fetch(target, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(opts.timeoutMs) });
        if (res.status !== 200) {
          await res.body?.cancel();
          return undefined;
        }
        info = await res.json();
      } catch (err) {
        // Down, slow or not JSON: the caller gets 401, not 500. The URL is logged without the token.
        opts.log.warn({ url, reason: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err) }, 'token info not available; token refused');
        return undefined;
      }
      if (typeof info !== 'object' || info === null || Array.isArray(info)) return undefined;
      const lifetime = tokenInfoLifetimeSeconds(info as Claims);
      return lifetime === undefined ? undefined : { claims: info as Claims, expiresAt: opts.now() + lifetime * 1_000 };
    },
  };
}

/** OIDC: a JWT signed by a key of the provider's JWKS (fetched and cached by jose), with our issuer and audience. */
function oidcValidator(oidc: OidcConfig, opts: Required<ExternalAuthOptions>): Validator {
  const keys = createRemoteJWKSet(new URL(oidc.jwksUrl), { timeoutDuration: opts.timeoutMs });
  return {
    sourceUrl: oidc.jwksUrl,
    fields: OIDC_FIELDS,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: oidc.issuer,
          audience: oidc.audience,
          requiredClaims: ['exp'],
          currentDate: new Date(opts.now()),
        });
        // Users are matched by e-mail: one the provider says it has not verified could name somebody else.
        if (payload.email_verified === false) return undefined;
        return { claims: payload, expiresAt: (payload.exp ?? 0) * 1_000 };
      } catch (err) {
        // Not a JWT, a bad signature, expired, another issuer, or the JWKS unreachable: all a refusal. Only the
        // last is the operator's problem, so only it is a warning.
        const code = err instanceof Error && 'code' in err ? String(err.code) : undefined;
        if (code === undefined || JWKS_UNAVAILABLE.has(code)) opts.log.warn({ url: oidc.jwksUrl, code, reason: err instanceof Error ? err.message : String(err) }, 'JWKS not available; token refused');
        else opts.log.debug({ code }, 'OIDC token refused');
        return undefined;
      }
    },
  };
}

/**
 * A validator behind a per-token cache (keyed by the token's SHA-256, so tokens are not kept in memory): a fresh
 * entry costs one user lookup; a miss asks the issuer (once for concurrent requests with the same token) and provisions.
 */
function cachedValidator(v: Validator, opts: Required<ExternalAuthOptions>): (token: string, em: EntityManager) => Promise<Principal | undefined> {
  const cache = new Map<string, { readonly email: string; readonly freshUntil: number }>();
  const inFlight = new Map<string, Promise<Verified | undefined>>();
  const remember = (key: string, email: string, freshUntil: number): void => {
    if (cache.size >= CACHE_MAX_ENTRIES) {
      const now = opts.now();
      for (const [k, e] of cache) if (e.freshUntil <= now) cache.delete(k);
      const oldest = cache.keys().next();
      if (cache.size >= CACHE_MAX_ENTRIES && oldest.done !== true) cache.delete(oldest.value);
    }
    cache.set(key, { email, freshUntil });
  };
  const verifyOnce = (key: string, token: string): Promise<Verified | undefined> => {
    const pending = inFlight.get(key) ?? v.verify(token).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
    return pending;
  };
  return async (token, em) => {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = cache.get(key);
    if (hit !== undefined && hit.freshUntil > opts.now()) {
      const user = await em.findOne(UserSchema, { email: hit.email });
      if (user) return principalOf(user);
      // Deleted since it was cached: ask again, and provision again.
    }
    cache.delete(key);
    const verified = await verifyOnce(key, token);
    if (verified === undefined) return undefined;
    const user = await provisionUser(em, v.sourceUrl, v.fields, verified.claims);
    if (user === undefined) {
      opts.log.warn({ source: v.sourceUrl }, 'valid external token without a usable e-mail; token refused');
      return undefined;
    }
    const freshUntil = verified.expiresAt - CACHE_MARGIN_MS;
    if (freshUntil > opts.now()) remember(key, user.email, freshUntil);
    return principalOf(user);
  };
}

/**
 * The `externalAuth` dependency of createApp for this configuration: OIDC first (a local signature check), then the
 * tokeninfo URL; undefined when neither is configured.
 */
export function externalAuthFrom(config: ExternalAuthConfig, options: ExternalAuthOptions): ExternalAuth | undefined {
  const opts: Required<ExternalAuthOptions> = { now: Date.now, timeoutMs: DEFAULT_TIMEOUT_MS, ...options };
  const validators = [
    ...(config.oidc ? [oidcValidator(config.oidc, opts)] : []),
    ...(config.tokenInfoUrl ? [tokenInfoValidator(config.tokenInfoUrl, opts)] : []),
  ].map((v) => cachedValidator(v, opts));
  if (validators.length === 0) return undefined;
  return async (token, { em }) => {
    for (const validate of validators) {
      const principal = await validate(token, em);
      if (principal) return principal;
    }
    return undefined;
  };
}
