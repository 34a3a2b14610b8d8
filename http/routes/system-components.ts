import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { decoded } from '../core/workflow-input.js';
import { OVERSEER_QUEUE, UPGRADE_REQUESTED, type UpgradeRequested } from '../../actors/overseer/messages.js';
import { MessagingExchangeSchema } from '../../entities/messaging.js';
import {
  SystemComponentRefSchema,
  SystemComponentSchema,
  type SystemComponent,
  type SystemComponentRef,
} from '../../entities/system.js';

/** System component refs (reference §3.6, keyed by `type`) and system components (reference §3.7, §8.3). */

const Repo = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const TypeParams = z.strictObject({ type: Name() });

const RefBody = z.strictObject({
  type: Name(),
  source_repo: Repo(128),
  source_repo_git_ref: Repo(256),
  auto_upgrade_enabled: z.boolean().default(true),
});
type RefBody = z.infer<typeof RefBody>;

const ComponentBody = z.strictObject({
  messaging_exchange_id: z.number().int().positive().max(2_147_483_647),
  type: Name(),
  source_repo: Repo(128),
  source_repo_git_ref: Repo(256),
  deployment_repo: Repo(128),
  deployment_repo_git_ref: Repo(256),
  // Reference §2.5: anything else behaved like `manual`; we say so at the door instead.
  upgrade_strategy: z.enum(['hourly', 'manual']),
  status: z.enum(['upgrade_in_progress', 'upgrade_completed', 'upgrade_failed', 'ineligible_for_upgrade']).nullable().optional(),
  upgrade_status: z.record(z.string(), z.unknown()).nullable().optional(),
});
type ComponentBody = z.infer<typeof ComponentBody>;

const ComponentQuery = PageQuery.extend({ type: Name().optional() });

const refJson = (r: SystemComponentRef) => ({
  id: r.id,
  type: r.type,
  source_repo: r.source_repo,
  source_repo_git_ref: r.source_repo_git_ref,
  auto_upgrade_enabled: r.auto_upgrade_enabled,
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});

const componentJson = (c: SystemComponent) => ({
  id: c.id,
  messaging_exchange_id: c.messaging_exchange_id,
  type: c.type,
  source_repo: c.source_repo,
  source_repo_git_ref: c.source_repo_git_ref,
  deployment_repo: c.deployment_repo,
  deployment_repo_git_ref: c.deployment_repo_git_ref,
  upgrade_strategy: c.upgrade_strategy,
  status: c.status,
  upgrade_status: decoded(c.upgrade_status),
  inserted_at: c.inserted_at,
  updated_at: c.updated_at,
});

const refLocation = (type: string) => `/system_component_refs/${encodeURIComponent(type)}`;

const refOr404 = (em: EntityManager, type: string): Promise<SystemComponentRef> => findOr404(em, SystemComponentRefSchema, { type }, 'SystemComponentRef');

const componentOr404 = (em: EntityManager, id: number): Promise<SystemComponent> => findOr404(em, SystemComponentSchema, { id }, 'SystemComponent');

async function checkRefType(em: EntityManager, type: string, self?: number): Promise<void> {
  const clash = await em.findOne(SystemComponentRefSchema, { type, ...(self === undefined ? {} : { id: { $ne: self } }) });
  if (clash) throw new ConflictError('SystemComponentRef', `type ${type}`);
}

/** The exchange must exist (reference §2.5), and hold no other component of the type (reference §3.7: 409). */
async function checkComponent(em: EntityManager, body: ComponentBody, self?: number): Promise<void> {
  if (!(await em.findOne(MessagingExchangeSchema, { id: body.messaging_exchange_id }))) {
    const message = `messaging_exchange_id: exchange ${body.messaging_exchange_id} does not exist`;
    throw new InvalidRequestError('SystemComponent', [{ field: 'messaging_exchange_id', message }]);
  }
  const where = { messaging_exchange_id: body.messaging_exchange_id, type: body.type, ...(self === undefined ? {} : { id: { $ne: self } }) };
  if (await em.findOne(SystemComponentSchema, where)) {
    throw new ConflictError('SystemComponent', `type ${body.type} in exchange ${body.messaging_exchange_id}`);
  }
}

const componentColumns = (body: ComponentBody) => ({
  messaging_exchange_id: body.messaging_exchange_id,
  type: body.type,
  source_repo: body.source_repo,
  source_repo_git_ref: body.source_repo_git_ref,
  deployment_repo: body.deployment_repo,
  deployment_repo_git_ref: body.deployment_repo_git_ref,
  upgrade_strategy: body.upgrade_strategy,
  status: body.status ?? null,
  upgrade_status: body.upgrade_status === undefined || body.upgrade_status === null ? null : JSON.stringify(body.upgrade_status),
});

const refs = { tag: 'system', item: 'SystemComponentRef' } as const;
const components = { tag: 'system', item: 'SystemComponent' } as const;

const listRefs = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  ...refs,
  method: 'get',
  path: '/system_component_refs',
  summary: 'List system component refs',
  access: 'viewer',
  query: PageQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, SystemComponentRefSchema, {}, query);
    return { status: 200, body: rows.map(refJson), total };
  },
});

const showRef = defineRoute<BaseDeps, z.infer<typeof TypeParams>>({
  ...refs,
  method: 'get',
  path: '/system_component_refs/:type',
  summary: 'Show a system component ref',
  access: 'viewer',
  params: TypeParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: refJson(await refOr404(em, params.type)) }),
});

const createRef = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, RefBody>({
  ...refs,
  method: 'post',
  path: '/system_component_refs',
  summary: 'Create a system component ref',
  access: 'admin',
  body: RefBody,
  async handle({ body }, { em }) {
    await checkRefType(em, body.type);
    em.create(SystemComponentRefSchema, body);
    await em.flush();
    return { status: 201, location: refLocation(body.type) };
  },
});

/** Reference §3.6: PUT takes a full body; a type taken by another ref is a 409. */
const updateRef = defineRoute<BaseDeps, z.infer<typeof TypeParams>, Record<string, never>, RefBody>({
  ...refs,
  method: 'put',
  path: '/system_component_refs/:type',
  summary: 'Update a system component ref',
  access: 'admin',
  params: TypeParams,
  body: RefBody,
  async handle({ params, body }, { em }) {
    const ref = await refOr404(em, params.type);
    await checkRefType(em, body.type, ref.id);
    Object.assign(ref, body);
    await em.flush();
    return { status: 204, location: refLocation(ref.type) };
  },
});

const removeRef = defineRoute<BaseDeps, z.infer<typeof TypeParams>>({
  ...refs,
  method: 'delete',
  path: '/system_component_refs/:type',
  summary: 'Delete a system component ref',
  access: 'admin',
  params: TypeParams,
  async handle({ params }, { em }) {
    const ref = await refOr404(em, params.type);
    await em.nativeDelete(SystemComponentRefSchema, { id: ref.id });
    return { status: 204 };
  },
});

const listComponents = defineRoute<BaseDeps, Record<string, never>, z.infer<typeof ComponentQuery>>({
  ...components,
  method: 'get',
  path: '/system_components',
  summary: 'List system components',
  access: 'viewer',
  query: ComponentQuery,
  async handle({ query }, { em }) {
    const { type, ...page } = query;
    const { rows, total } = await findPage(em, SystemComponentSchema, type === undefined ? {} : { type }, page);
    return { status: 200, body: rows.map(componentJson), total };
  },
});

/** What the Overseer of an exchange polls (reference §8.3). */
const listOfExchange = defineRoute<BaseDeps, z.infer<typeof IdParams>, PageQuery>({
  ...components,
  method: 'get',
  path: '/messaging/exchanges/:id/system_components',
  summary: 'List the system components of an exchange',
  access: 'viewer',
  params: IdParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    if (!(await em.findOne(MessagingExchangeSchema, { id: params.id }))) throw new NotFoundError('Exchange');
    const { rows, total } = await findPage(em, SystemComponentSchema, { messaging_exchange_id: params.id }, query);
    return { status: 200, body: rows.map(componentJson), total };
  },
});

const showComponent = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  ...components,
  method: 'get',
  path: '/system_components/:id',
  summary: 'Show a system component',
  access: 'viewer',
  params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: componentJson(await componentOr404(em, params.id)) }),
});

const createComponent = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, ComponentBody>({
  ...components,
  method: 'post',
  path: '/system_components',
  summary: 'Create a system component',
  access: 'admin',
  body: ComponentBody,
  async handle({ body }, { em }) {
    await checkComponent(em, body);
    const component = em.create(SystemComponentSchema, componentColumns(body));
    await em.flush();
    return { status: 201, location: `/system_components/${component.id}` };
  },
});

/** Reference §3.7: PUT takes a full body, validated as if new. */
const updateComponent = defineRoute<BaseDeps, z.infer<typeof IdParams>, Record<string, never>, ComponentBody>({
  ...components,
  method: 'put',
  path: '/system_components/:id',
  summary: 'Update a system component',
  access: 'admin',
  params: IdParams,
  body: ComponentBody,
  async handle({ params, body }, { em }) {
    const component = await componentOr404(em, params.id);
    await checkComponent(em, body, component.id);
    Object.assign(component, componentColumns(body));
    await em.flush();
    return { status: 204, location: `/system_components/${component.id}` };
  },
});

const removeComponent = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  ...components,
  method: 'delete',
  path: '/system_components/:id',
  summary: 'Delete a system component',
  access: 'admin',
  params: IdParams,
  async handle({ params }, { em }) {
    await componentOr404(em, params.id);
    await em.nativeDelete(SystemComponentSchema, { id: params.id });
    return { status: 204 };
  },
});

/**
 * Asks the component's Overseer for an upgrade (reference §3.7, §10A). Unlike the original's fire-and-forget, 204 means
 * the broker has the request; a failed publish is a 503 (http/errors.ts maps PublishError).
 */
const upgrade = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  ...components,
  method: 'post',
  path: '/system_components/:id/upgrade',
  summary: 'Request an upgrade of a system component',
  access: 'admin',
  params: IdParams,
  async handle({ params }, { em, deps }) {
    const component = await componentOr404(em, params.id);
    const request: UpgradeRequested = { action: 'upgrade_request', options: { component_type: component.type } };
    await deps.transport.publish({ exchangeId: component.messaging_exchange_id, queue: OVERSEER_QUEUE }, UPGRADE_REQUESTED, request);
    return { status: 204 };
  },
});

export const systemComponentRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [
  ...[listRefs, showRef, createRef, updateRef, removeRef],
  ...[listComponents, listOfExchange, showComponent, createComponent, updateComponent, removeComponent, upgrade],
];
