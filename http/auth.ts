import { randomBytes, randomUUID, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { jwtVerify, SignJWT } from 'jose';
import { loginGuard, type LoginGuard, type LoginLimits } from './login-guard.js';
import { ROLES, type Role } from '../entities/auth.js';

/** Who is calling, as the routes see it. */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  readonly kind: 'client' | 'user';
}

export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'bearer';
  readonly expires_in: number;
}

/** A platform token whose signature and expiry hold, as `POST /oauth/revoke` needs it. */
export interface TokenClaims {
  readonly jti: string;
  readonly principal: Principal;
  readonly expiresAtMs: number;
}

/**
 * What the database says of a token's subject now: its role, and the ids of its revoked tokens; undefined when the
 * subject is gone or disabled.
 */
export type Standing = (principal: Principal) => Promise<{ readonly role: Role; readonly revoked: ReadonlySet<string> } | undefined>;

/** Issues and checks the platform's own tokens: JWT, HS256, signed with MANAGER_TOKEN_SECRET (design §2). */
export interface TokenIssuer {
  issue(principal: Principal): Promise<IssuedToken>;
  /**
   * The principal of a valid, unexpired, unrevoked platform token, with the role its subject has now; undefined for
   * anything else.
   */
  verify(token: string): Promise<Principal | undefined>;
  /** A token's claims when its signature and expiry hold, revoked or not. */
  inspect(token: string): Promise<TokenClaims | undefined>;
  /** Drops what is remembered of `subject`'s standing: its next request reads it again (after a change made here). */
  forget(subject: string): void;
  /** The token endpoint's lockout (login-guard.ts). */
  readonly attempts: LoginGuard;
}

const ISSUER = 'openaperture-manager';

/** Verified tokens remembered at once (the busiest clients: workers, the CLI, the UI); the oldest goes first. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * How long a subject's standing is remembered: deleting, disabling or demoting a client, or revoking one of its
 * tokens, takes effect on every Manager within this (issue 20).
 */
export const REVOCATION_WINDOW_MS = 5_000;

export interface TokenIssuerOptions {
  readonly secret: string;
  readonly ttlSeconds: number;
  readonly cacheSize?: number;
  /** Without it a signed, unexpired token stands until it expires (tests of other parts). */
  readonly standing?: Standing;
  readonly loginLimits?: LoginLimits;
}

export function tokenIssuer(opts: TokenIssuerOptions): TokenIssuer {
  const key = new TextEncoder().encode(opts.secret);
  const cacheSize = opts.cacheSize ?? VERIFIED_CACHE_SIZE;
  // A signature check costs ~40 µs of CPU on every request; its answer for a token only changes when the token
  // expires, so a verified token is remembered until then. Refused tokens are not: garbage cannot evict good ones.
  const verified = new Map<string, TokenClaims>();
  const remember = (token: string, claims: TokenClaims) => {
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
  };
  const standings = new Map<string, { readonly answer: ReturnType<Standing>; readonly readAtMs: number }>();
  const standingOf = (principal: Principal, standing: Standing): ReturnType<Standing> => {
    const known = standings.get(principal.subject);
    if (known !== undefined && Date.now() - known.readAtMs < REVOCATION_WINDOW_MS) return known.answer;
    if (standings.size >= cacheSize) standings.delete(standings.keys().next().value!);
    const answer = standing(principal);
    standings.set(principal.subject, { answer, readAtMs: Date.now() });
    // A failed read (the database away) is not remembered: the next request asks again.
    answer.catch(() => standings.get(principal.subject)?.answer === answer && standings.delete(principal.subject));
    return answer;
  };
  const inspect = async (token: string): Promise<TokenClaims | undefined> => {
    const known = verified.get(token);
    if (known !== undefined) {
      if (Date.now() < known.expiresAtMs) return known;
      verified.delete(token);
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
      const role = ROLES.find((r) => r === payload.role);
      const kind = payload.kind === 'user' ? 'user' : 'client';
      if (role === undefined || typeof payload.sub !== 'string' || typeof payload.exp !== 'number' || typeof payload.jti !== 'string') return undefined;
      const claims: TokenClaims = { jti: payload.jti, principal: { subject: payload.sub, role, kind }, expiresAtMs: payload.exp * 1_000 };
      remember(token, claims);
      return claims;
    } catch {
      // Malformed, forged or expired: not one of ours, which is the answer, not an error.
      return undefined;
    }
  };
  return {
    async issue(principal) {
      const access_token = await new SignJWT({ role: principal.role, kind: principal.kind })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(principal.subject)
        .setIssuer(ISSUER)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(`${opts.ttlSeconds}s`)
        .sign(key);
      return { access_token, token_type: 'bearer', expires_in: opts.ttlSeconds };
    },
    async verify(token) {
      const claims = await inspect(token);
      if (claims === undefined || opts.standing === undefined) return claims?.principal;
      const now = await standingOf(claims.principal, opts.standing);
      if (now === undefined || now.revoked.has(claims.jti)) return undefined;
      return now.role === claims.principal.role ? claims.principal : { ...claims.principal, role: now.role };
    },
    inspect,
    forget: (subject) => standings.delete(subject),
    attempts: loginGuard(opts.loginLimits),
  };
}

/** The token of an Authorization header: `Bearer <t>` or `Bearer access_token=<t>`, "bearer" in any case (reference §3.1). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer\s+(?:access_token=)?(\S+)$/i.exec(header?.trim() ?? '');
  return match?.[1];
}

export const roleAllows = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);

const SCRYPT = { N: 16_384, r: 8, p: 1, keylen: 32 };

/** A client secret as stored: scrypt with a random salt, `scrypt$<salt>$<hash>` (base64url). */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/**
 * Checked against when no client has the id asked for, so that an unknown client costs the same scrypt as a known
 * one (the hash of a random secret nobody kept).
 */
const NO_CLIENT_HASH = 'scrypt$x0M6LYJ4vIU-XiH4iOrK4A$x4k25t07Vd7SPPrmtZaT3LRD3PzrLDq4vXcfXub1rzM';

/**
 * Whether `secret` is the one `stored` hashes (undefined: no such client, always false, in the same time). The
 * scrypt runs on libuv's thread pool, off the event loop: a brute force does not slow every other request.
 */
export async function verifySecret(secret: string, stored: string | undefined): Promise<boolean> {
  const [scheme, salt, hash] = (stored ?? NO_CLIENT_HASH).split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return stored !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A new client secret: 32 random bytes, base64url. */
export const newClientSecret = (): string => randomBytes(32).toString('base64url');
