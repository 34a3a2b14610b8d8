import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { AuthSourceUserSchema, ROLES, UserSchema, type User } from '../../entities/auth.js';
import { definedFields } from '../../runtime/core/objects.js';

/** Users (reference §3.9), with a role each that admins set (design §2). */

/**
 * Reference §2.6's rule: at least 6 characters, `local@domain.tld`. Deliberate difference: the original allowed
 * 2..4 letters of top-level domain; today's reach 63 (`.company`, `.engineering`).
 */
const Email = z
  .string()
  .trim()
  .min(6, 'must be at least 6 characters')
  .max(255, 'must be at most 255 characters')
  .regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$/, 'must be an e-mail address');

const CreateUser = z.strictObject({ first_name: Name(), last_name: Name(), email: Email, role: z.enum(ROLES).default('viewer') });
const UpdateUser = z.strictObject({
  first_name: Name().optional(),
  last_name: Name().optional(),
  email: Email.optional(),
  role: z.enum(ROLES).optional(),
  /** `true` refuses every token of the user from the next request on; `false` lets them in again. */
  disabled: z.boolean().optional(),
});
type CreateUser = z.infer<typeof CreateUser>;
type UpdateUser = z.infer<typeof UpdateUser>;
type IdParams = z.infer<typeof IdParams>;

const userJson = (u: User) => ({
  id: u.id,
  first_name: u.first_name,
  last_name: u.last_name,
  email: u.email,
  role: u.role,
  disabled_at: u.disabled_at,
  inserted_at: u.inserted_at,
  updated_at: u.updated_at,
});

const UserJson = z.object({
  id: z.number(),
  first_name: z.string(),
  last_name: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  disabled_at: z.iso.datetime().nullable(),
  inserted_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

const userOr404 = (em: EntityManager, id: number): Promise<User> => findOr404(em, UserSchema, { id }, 'User');

async function checkEmailFree(em: EntityManager, email: string, self?: number): Promise<void> {
  const clash = await em.findOne(UserSchema, { email, ...(self === undefined ? {} : { id: { $ne: self } }) });
  if (clash) throw new ConflictError('User', `email ${email}`);
}

/** Flushes; a unique violation that slipped past the check (a concurrent insert) is still a 409. */
async function flushUser(em: EntityManager, email: string): Promise<void> {
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new ConflictError('User', `email ${email}`);
    throw err;
  }
}

const list = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/users',
  summary: 'List users',
  tag: 'users',
  access: 'viewer',
  item: 'User',
  query: PageQuery,
  response: z.array(UserJson),
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, UserSchema, {}, query);
    return { status: 200, body: rows.map(userJson), total };
  },
});

/** The caller, when it is a person (external token); an API client is no user, so 404 as for any unknown user. */
const me = defineRoute<BaseDeps>({
  method: 'get',
  path: '/users/me',
  summary: 'Show the calling user',
  tag: 'users',
  access: 'viewer',
  item: 'User',
  response: UserJson,
  async handle(_input, { em, principal }) {
    const user = principal.kind === 'user' ? await em.findOne(UserSchema, { email: principal.subject }) : null;
    if (!user) throw new NotFoundError('User');
    return { status: 200, body: userJson(user) };
  },
});

const show = defineRoute<BaseDeps, IdParams>({
  method: 'get',
  path: '/users/:id',
  summary: 'Show a user',
  tag: 'users',
  access: 'viewer',
  item: 'User',
  params: IdParams,
  response: UserJson,
  handle: async ({ params }, { em }) => ({ status: 200, body: userJson(await userOr404(em, params.id)) }),
});

const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, CreateUser>({
  method: 'post',
  path: '/users',
  summary: 'Create a user',
  tag: 'users',
  access: 'admin',
  item: 'User',
  body: CreateUser,
  async handle({ body }, { em }) {
    await checkEmailFree(em, body.email);
    const user = em.create(UserSchema, { ...body, disabled_at: null });
    await flushUser(em, body.email);
    // Reference §3.9: the body says which user was created.
    return { status: 201, location: `/users/${user.id}`, body: `Created user ${user.id}` };
  },
});

const update = defineRoute<BaseDeps, IdParams, Record<string, never>, UpdateUser>({
  method: 'put',
  path: '/users/:id',
  summary: 'Update a user (names, e-mail, role, disabled)',
  tag: 'users',
  access: 'admin',
  item: 'User',
  params: IdParams,
  body: UpdateUser,
  async handle({ params, body }, { em }) {
    const user = await userOr404(em, params.id);
    if (body.email !== undefined) await checkEmailFree(em, body.email, user.id);
    const { disabled, ...fields } = body;
    em.assign(user, definedFields(fields));
    if (disabled !== undefined) user.disabled_at = disabled ? (user.disabled_at ?? new Date()) : null;
    await flushUser(em, user.email);
    return { status: 204, location: `/users/${user.id}` };
  },
});

const remove = defineRoute<BaseDeps, IdParams>({
  method: 'delete',
  path: '/users/:id',
  summary: 'Delete a user',
  tag: 'users',
  access: 'admin',
  item: 'User',
  params: IdParams,
  async handle({ params }, { em }) {
    const user = await userOr404(em, params.id);
    await em.nativeDelete(AuthSourceUserSchema, { user_id: user.id });
    await em.nativeDelete(UserSchema, { id: user.id });
    return { status: 204 };
  },
});

/** `/users/me` comes before `/users/:id`, which would read `me` as a bad id. */
export const userRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, me, show, create, update, remove];
