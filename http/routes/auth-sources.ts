import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { AuthSourceSchema, AuthSourceUserSchema, type AuthSource } from '../../entities/auth.js';
import { definedFields } from '../../runtime/core/objects.js';

/**
 * Auth sources (reference §2.6): where a validator's token info keeps a user's e-mail and names. Provisioning creates
 * one per validator URL (reference §3.1); admins edit its paths here, e.g. `email` for Google's tokeninfo.
 */

/** A slash-separated path into the token-info JSON: `resource_owner/custom_attributes/first_name`. */
const FieldPath = Name().regex(/^[^/\s]+(\/[^/\s]+)*$/, 'must be a slash-separated path, like resource_owner/email');
/** Reference §2.6: at least 8 characters; the JWKS or tokeninfo URL the source belongs to. */
const TokenInfoUrl = z.string().trim().min(8, 'must be at least 8 characters').max(255, 'must be at most 255 characters');

const SourceBody = z.strictObject({
  name: Name(),
  token_info_url: TokenInfoUrl,
  email_field_name: FieldPath,
  first_name_field_name: FieldPath,
  last_name_field_name: FieldPath,
});
const SourcePatch = SourceBody.partial();
type SourceBody = z.infer<typeof SourceBody>;
type SourcePatch = z.infer<typeof SourcePatch>;
type IdParams = z.infer<typeof IdParams>;

const SourceJson = z.object({
  id: z.number(),
  name: z.string(),
  token_info_url: z.string(),
  email_field_name: z.string(),
  first_name_field_name: z.string(),
  last_name_field_name: z.string(),
  inserted_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

const sourceJson = (s: AuthSource) => ({
  id: s.id,
  name: s.name,
  token_info_url: s.token_info_url,
  email_field_name: s.email_field_name,
  first_name_field_name: s.first_name_field_name,
  last_name_field_name: s.last_name_field_name,
  inserted_at: s.inserted_at,
  updated_at: s.updated_at,
});

const sourceOr404 = (em: EntityManager, id: number): Promise<AuthSource> => findOr404(em, AuthSourceSchema, { id }, 'AuthSource');

/** The URL is unique (reference §2.6): checked before any change (a query may flush pending ones) for a clear 409. */
async function checkUrlFree(em: EntityManager, url: string, self?: number): Promise<void> {
  const clash = await em.findOne(AuthSourceSchema, { token_info_url: url, ...(self === undefined ? {} : { id: { $ne: self } }) });
  if (clash) throw new ConflictError('AuthSource', `token_info_url ${url}`);
}

/** Flushes; the unique index still answers a concurrent insert of the same URL, also with 409. */
async function flushSource(em: EntityManager, url: string): Promise<void> {
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new ConflictError('AuthSource', `token_info_url ${url}`);
    throw err;
  }
}

const list = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/auth_sources',
  summary: 'List auth sources',
  tag: 'auth',
  access: 'viewer',
  item: 'AuthSource',
  query: PageQuery,
  response: z.array(SourceJson),
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, AuthSourceSchema, {}, query);
    return { status: 200, body: rows.map(sourceJson), total };
  },
});

const show = defineRoute<BaseDeps, IdParams>({
  method: 'get',
  path: '/auth_sources/:id',
  summary: 'Show an auth source',
  tag: 'auth',
  access: 'viewer',
  item: 'AuthSource',
  params: IdParams,
  response: SourceJson,
  handle: async ({ params }, { em }) => ({ status: 200, body: sourceJson(await sourceOr404(em, params.id)) }),
});

const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, SourceBody>({
  method: 'post',
  path: '/auth_sources',
  summary: 'Create an auth source',
  tag: 'auth',
  access: 'admin',
  item: 'AuthSource',
  body: SourceBody,
  async handle({ body }, { em }) {
    await checkUrlFree(em, body.token_info_url);
    const source = em.create(AuthSourceSchema, body);
    await flushSource(em, body.token_info_url);
    return { status: 201, location: `/auth_sources/${source.id}` };
  },
});

const update = defineRoute<BaseDeps, IdParams, Record<string, never>, SourcePatch>({
  method: 'put',
  path: '/auth_sources/:id',
  summary: 'Update an auth source (the fields given)',
  tag: 'auth',
  access: 'admin',
  item: 'AuthSource',
  params: IdParams,
  body: SourcePatch,
  async handle({ params, body }, { em }) {
    const source = await sourceOr404(em, params.id);
    if (body.token_info_url !== undefined) await checkUrlFree(em, body.token_info_url, source.id);
    em.assign(source, definedFields(body));
    await flushSource(em, source.token_info_url);
    return { status: 204, location: `/auth_sources/${source.id}` };
  },
});

/** Its user relations go with it; the users stay. */
const remove = defineRoute<BaseDeps, IdParams>({
  method: 'delete',
  path: '/auth_sources/:id',
  summary: 'Delete an auth source',
  tag: 'auth',
  access: 'admin',
  item: 'AuthSource',
  params: IdParams,
  async handle({ params }, { em }) {
    const source = await sourceOr404(em, params.id);
    await em.nativeDelete(AuthSourceUserSchema, { auth_source_id: source.id });
    await em.nativeDelete(AuthSourceSchema, { id: source.id });
    return { status: 204 };
  },
});

export const authSourceRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, show, create, update, remove];
