import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { hashSecret, newClientSecret, type Principal } from '../auth.js';
import { ConflictError, ForbiddenError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { ApiClientSchema, ROLES, type ApiClient } from '../../entities/auth.js';

/**
 * API clients of the client-credentials grant (design §2), for admins only. A secret is shown once, when created or
 * rotated, and stored hashed; no response ever carries a stored one.
 */

const ClientId = z
  .string()
  .trim()
  .min(3, 'must be at least 3 characters')
  .max(255, 'must be at most 255 characters')
  .regex(/^[A-Za-z0-9._~-]+$/, 'only letters, digits and . _ ~ - are allowed');

const CreateClient = z.strictObject({ name: Name(), role: z.enum(ROLES), client_id: ClientId.optional() });
/** `disabled: true` stops new tokens at once, and the tokens already issued within 5 s (REVOCATION_WINDOW_MS); a new role too. */
const UpdateClient = z.strictObject({ name: Name().optional(), role: z.enum(ROLES).optional(), disabled: z.boolean().optional() });
type CreateClient = z.infer<typeof CreateClient>;
type UpdateClient = z.infer<typeof UpdateClient>;
type IdParams = z.infer<typeof IdParams>;

const ClientJson = z.object({
  id: z.number(),
  client_id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  disabled_at: z.iso.datetime().nullable(),
  inserted_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
const Credentials = z.object({ client_id: z.string(), client_secret: z.string() });

const clientJson = (c: ApiClient) => ({
  id: c.id,
  client_id: c.client_id,
  name: c.name,
  role: c.role,
  disabled_at: c.disabled_at,
  inserted_at: c.inserted_at,
  updated_at: c.updated_at,
});

const clientOr404 = (em: EntityManager, id: number): Promise<ApiClient> => findOr404(em, ApiClientSchema, { id }, 'ApiClient');

/** An admin client may not disable, demote or delete itself: that could lock every admin out. */
function refuseSelf(client: ApiClient, principal: Principal, what: string): void {
  if (principal.kind === 'client' && principal.subject === client.client_id) throw new ForbiddenError(`an API client may not ${what} itself`);
}

const list = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/api_clients',
  summary: 'List API clients (never their secrets)',
  tag: 'auth',
  access: 'admin',
  item: 'ApiClient',
  query: PageQuery,
  response: z.array(ClientJson),
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, ApiClientSchema, {}, query);
    return { status: 200, body: rows.map(clientJson), total };
  },
});

const show = defineRoute<BaseDeps, IdParams>({
  method: 'get',
  path: '/api_clients/:id',
  summary: 'Show an API client',
  tag: 'auth',
  access: 'admin',
  item: 'ApiClient',
  params: IdParams,
  response: ClientJson,
  handle: async ({ params }, { em }) => ({ status: 200, body: clientJson(await clientOr404(em, params.id)) }),
});

const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, CreateClient>({
  method: 'post',
  path: '/api_clients',
  summary: 'Create an API client; the response holds its secret, shown this once',
  tag: 'auth',
  access: 'admin',
  item: 'ApiClient',
  body: CreateClient,
  response: Credentials,
  async handle({ body }, { em }) {
    const clientId = body.client_id ?? `oa-${randomBytes(9).toString('base64url')}`;
    if (await em.findOne(ApiClientSchema, { client_id: clientId })) throw new ConflictError('ApiClient', `client_id ${clientId}`);
    const secret = newClientSecret();
    const client = em.create(ApiClientSchema, { client_id: clientId, name: body.name, role: body.role, secret_hash: hashSecret(secret), disabled_at: null });
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError('ApiClient', `client_id ${clientId}`);
      throw err;
    }
    return { status: 201, location: `/api_clients/${client.id}`, body: { client_id: clientId, client_secret: secret } };
  },
});

const update = defineRoute<BaseDeps, IdParams, Record<string, never>, UpdateClient>({
  method: 'put',
  path: '/api_clients/:id',
  summary: 'Rename, change the role of, disable or re-enable an API client',
  tag: 'auth',
  access: 'admin',
  item: 'ApiClient',
  params: IdParams,
  body: UpdateClient,
  async handle({ params, body }, { em, principal, deps }) {
    const client = await clientOr404(em, params.id);
    if (body.disabled === true) refuseSelf(client, principal, 'disable');
    if (body.role !== undefined && body.role !== 'admin') refuseSelf(client, principal, 'demote');
    if (body.name !== undefined) client.name = body.name;
    if (body.role !== undefined) client.role = body.role;
    if (body.disabled !== undefined) client.disabled_at = body.disabled ? (client.disabled_at ?? new Date()) : null;
    await em.flush();
    deps.tokens.forget(client.client_id);
    return { status: 204, location: `/api_clients/${client.id}` };
  },
});

const rotate = defineRoute<BaseDeps, IdParams>({
  method: 'post',
  path: '/api_clients/:id/secret',
  summary: 'Replace the secret of an API client; the response holds the new one, shown this once',
  tag: 'auth',
  access: 'admin',
  item: 'ApiClient',
  params: IdParams,
  response: Credentials,
  async handle({ params }, { em }) {
    const client = await clientOr404(em, params.id);
    const secret = newClientSecret();
    client.secret_hash = hashSecret(secret);
    await em.flush();
    return { status: 200, body: { client_id: client.client_id, client_secret: secret } };
  },
});

const remove = defineRoute<BaseDeps, IdParams>({
  method: 'delete',
  path: '/api_clients/:id',
  summary: 'Delete an API client',
  tag: 'auth',
  access: 'admin',
  item: 'ApiClient',
  params: IdParams,
  async handle({ params }, { em, principal, deps }) {
    const client = await clientOr404(em, params.id);
    refuseSelf(client, principal, 'delete');
    await em.nativeDelete(ApiClientSchema, { id: client.id });
    deps.tokens.forget(client.client_id);
    return { status: 204 };
  },
});

export const apiClientRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, show, create, update, rotate, remove];
