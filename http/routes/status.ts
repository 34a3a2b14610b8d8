import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { verifySecret } from '../auth.js';
import type { BaseDeps } from '../app.js';
import { ForbiddenError, TooManyAttemptsError, UnauthorizedError } from '../errors.js';
import { defineRoute, type AnyRoute, type Call } from '../route.js';
import { ApiClientSchema, AuditEventSchema, RevokedTokenSchema, type ApiClient } from '../../entities/auth.js';

/** `GET /status` stays public and answers `""` (reference §3.1), so load balancers can probe it. */
const status = defineRoute<BaseDeps>({
  method: 'get',
  path: '/status',
  summary: 'Liveness',
  tag: 'status',
  access: 'public',
  item: 'Status',
  response: z.literal(''),
  handle: async () => ({ status: 200, body: '' }),
});

const ClientCredentials = { client_id: z.string().min(1).max(255), client_secret: z.string().min(1).max(1024) };
const TokenRequest = z.object({ grant_type: z.literal('client_credentials', { error: 'only client_credentials is supported' }), ...ClientCredentials });
const RevokeRequest = z.object({ token: z.string().min(1).max(4_096), token_type_hint: z.string().max(64).optional(), ...ClientCredentials });

/**
 * The client whose credentials these are, or 401; 429 while its id or the caller's address is locked out. The secret
 * is checked in the same time whether or not the client exists (or is disabled), and each failure is audited (the
 * route runs outside a transaction, which the failure would roll back).
 */
async function authenticateClient(credentials: { client_id: string; client_secret: string }, call: Call<BaseDeps>, action: string): Promise<ApiClient> {
  const { attempts } = call.deps.tokens;
  const blocked = await attempts.blockedFor(credentials.client_id, call.address);
  if (blocked !== undefined) throw new TooManyAttemptsError(blocked);
  const client = await call.em.findOne(ApiClientSchema, { client_id: credentials.client_id, disabled_at: null });
  if (client && (await verifySecret(credentials.client_secret, client.secret_hash))) {
    await attempts.succeeded(client.client_id);
    return client;
  }
  if (!client) await verifySecret(credentials.client_secret, undefined);
  await attempts.failed(credentials.client_id, call.address);
  await auditFailure(call.em, action, credentials.client_id, call.address);
  throw new UnauthorizedError('bad client credentials');
}

function auditFailure(em: EntityManager, action: string, clientId: string, address: string) {
  return em.insert(AuditEventSchema, {
    actor: clientId,
    actor_role: 'none',
    action,
    target_type: 'Token',
    target_id: clientId,
    diff: JSON.stringify({ outcome: 'bad client credentials', address }),
    inserted_at: new Date(),
  });
}

/** OAuth2 client-credentials grant (RFC 6749 §4.4): a platform JWT for an API client (design §2). */
const token = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, z.infer<typeof TokenRequest>>({
  method: 'post',
  path: '/oauth/token',
  summary: 'Issue an access token',
  tag: 'auth',
  access: 'public',
  item: 'Token',
  transaction: false,
  body: TokenRequest,
  response: z.object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.number() }),
  async handle({ body }, call) {
    const client = await authenticateClient(body, call, 'POST /oauth/token');
    const issued = await call.deps.tokens.issue({ subject: client.client_id, role: client.role, kind: 'client' });
    return { status: 200, body: issued };
  },
});

/**
 * Token revocation (RFC 7009): a client revokes one of its own tokens; every Manager refuses it within 5 s. A token
 * that is not a valid platform token is answered 200 as the RFC asks (§2.2); another client's is a 403.
 */
const revoke = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, z.infer<typeof RevokeRequest>>({
  method: 'post',
  path: '/oauth/revoke',
  summary: 'Revoke an access token (RFC 7009)',
  tag: 'auth',
  access: 'public',
  item: 'Token',
  transaction: false,
  body: RevokeRequest,
  async handle({ body }, call) {
    const client = await authenticateClient(body, call, 'POST /oauth/revoke');
    const claims = await call.deps.tokens.inspect(body.token);
    if (claims === undefined) return { status: 200, body: '' };
    if (claims.principal.kind !== 'client' || claims.principal.subject !== client.client_id) throw new ForbiddenError('the token was not issued to this client');
    await call.em.upsert(RevokedTokenSchema, { jti: claims.jti, subject: client.client_id, expires_at: new Date(claims.expiresAtMs), inserted_at: new Date() });
    call.deps.tokens.forget(client.client_id);
    return { status: 200, body: '' };
  },
});

export const statusRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [status, token, revoke];
