import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
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

/** Issues and checks the platform's own tokens: JWT, HS256, signed with MANAGER_TOKEN_SECRET (design §2). */
export interface TokenIssuer {
  issue(principal: Principal): Promise<IssuedToken>;
  /** The principal of a valid, unexpired platform token; undefined for anything else. */
  verify(token: string): Promise<Principal | undefined>;
}

const ISSUER = 'openaperture-manager';

/** Verified tokens remembered at once (the busiest clients: workers, the CLI, the UI); the oldest goes first. */
const VERIFIED_CACHE_SIZE = 10_000;

export function tokenIssuer(opts: { secret: string; ttlSeconds: number; cacheSize?: number }): TokenIssuer {
  const key = new TextEncoder().encode(opts.secret);
  const cacheSize = opts.cacheSize ?? VERIFIED_CACHE_SIZE;
  // A signature check costs ~40 µs of CPU on every request; its answer for a token only changes when the token
  // expires, so a verified token is remembered until then. Refused tokens are not: garbage cannot evict good ones.
  const verified = new Map<string, { readonly principal: Principal; readonly expiresAtMs: number }>();
  const remember = (token: string, principal: Principal, expiresAtMs: number) => {
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal, expiresAtMs });
  };
  return {
    async issue(principal) {
      const access_token = await new SignJWT({ role: principal.role, kind: principal.kind })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(principal.subject)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${opts.ttlSeconds}s`)
        .sign(key);
      return { access_token, token_type: 'bearer', expires_in: opts.ttlSeconds };
    },
    async verify(token) {
      const known = verified.get(token);
      if (known !== undefined) {
        if (Date.now() < known.expiresAtMs) return known.principal;
        verified.delete(token);
        return undefined;
      }
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        const role = ROLES.find((r) => r === payload.role);
        const kind = payload.kind === 'user' ? 'user' : 'client';
        if (role === undefined || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
        const principal: Principal = { subject: payload.sub, role, kind };
        remember(token, principal, payload.exp * 1_000);
        return principal;
      } catch {
        // Malformed, forged or expired: not one of ours, which is the answer, not an error.
        return undefined;
      }
    },
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

export function verifySecret(secret: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(secret, Buffer.from(salt, 'base64url'), expected.length, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A new client secret: 32 random bytes, base64url. */
export const newClientSecret = (): string => randomBytes(32).toString('base64url');
