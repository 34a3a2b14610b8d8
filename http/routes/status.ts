import { z } from 'zod';
import { verifySecret } from '../auth.js';
import type { BaseDeps } from '../app.js';
import { UnauthorizedError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { ApiClientSchema, type Role } from '../../entities/auth.js';

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

const TokenRequest = z.object({
  grant_type: z.literal('client_credentials', { error: 'only client_credentials is supported' }),
  client_id: z.string().min(1).max(255),
  client_secret: z.string().min(1).max(1024),
});

/** OAuth2 client-credentials grant (RFC 6749 §4.4): a platform JWT for an API client (design §2). */
const token = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, z.infer<typeof TokenRequest>>({
  method: 'post',
  path: '/oauth/token',
  summary: 'Issue an access token',
  tag: 'auth',
  access: 'public',
  item: 'Token',
  body: TokenRequest,
  response: z.object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.number() }),
  async handle({ body }, { em, deps }) {
    const client = await em.findOne(ApiClientSchema, { client_id: body.client_id, disabled_at: null });
    if (!client || !verifySecret(body.client_secret, client.secret_hash)) throw new UnauthorizedError('bad client credentials');
    const issued = await deps.tokens.issue({ subject: client.client_id, role: client.role as Role, kind: 'client' });
    return { status: 200, body: issued };
  },
});

export const statusRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [status, token];
