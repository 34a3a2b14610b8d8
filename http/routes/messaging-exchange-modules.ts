import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, findOr404, type AnyRoute } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { MessagingExchangeModuleSchema, MessagingExchangeSchema, type MessagingExchange, type MessagingExchangeModule } from '../../entities/messaging.js';

/**
 * The live module registry of an exchange (reference §3.3, §8.1): modules register on start and the Overseer upserts
 * their heartbeats, both with their own client tokens, hence `operator`. Split from messaging-exchanges.ts for size.
 */

// Any JSON value (the body is parsed JSON already); not z.json(), whose recursive schema overflows the OpenAPI generator.
const AnyJson = z.unknown().meta({ description: 'any JSON value' });
const Repo = z.string().trim().max(128, 'must be at most 128 characters').nullable().optional();
const GitRef = z.string().trim().max(256, 'must be at most 256 characters').nullable().optional();

const ModuleBody = z.strictObject({
  hostname: Name(),
  type: Name(),
  status: z.enum(['active', 'inactive']),
  workload: AnyJson.default([]),
  source_repo: Repo,
  source_repo_git_ref: GitRef,
  deployment_repo: Repo,
  deployment_repo_git_ref: GitRef,
});
type ModuleBody = z.infer<typeof ModuleBody>;

const HostnameParams = IdParams.extend({ hostname: Name() });
type HostnameParams = z.infer<typeof HostnameParams>;

/** `workload` is JSON text (reference §2.1); a row written by other hands with bad JSON is shown as its text. */
function decodedWorkload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const moduleJson = (m: MessagingExchangeModule) => ({
  id: m.id,
  messaging_exchange_id: m.messaging_exchange_id,
  hostname: m.hostname,
  type: m.type,
  status: m.status,
  workload: decodedWorkload(m.workload),
  source_repo: m.source_repo,
  source_repo_git_ref: m.source_repo_git_ref,
  deployment_repo: m.deployment_repo,
  deployment_repo_git_ref: m.deployment_repo_git_ref,
  inserted_at: m.inserted_at,
  updated_at: m.updated_at,
});

/** An exchange by id, or a 404 naming it (the modules' routes and the exchange routes share it). */
export const exchangeOr404 = (em: EntityManager, id: number): Promise<MessagingExchange> => findOr404(em, MessagingExchangeSchema, { id }, 'Exchange');

/** The newest row for the hostname: the upsert keeps one, but the table has no unique key (reference §2.1). */
async function moduleOr404(em: EntityManager, params: HostnameParams): Promise<MessagingExchangeModule> {
  await exchangeOr404(em, params.id);
  const found = await em.findOne(MessagingExchangeModuleSchema, { messaging_exchange_id: params.id, hostname: params.hostname }, { orderBy: { id: 'desc' } });
  if (!found) throw new NotFoundError('ExchangeModule');
  return found;
}

const list = defineRoute<BaseDeps, z.infer<typeof IdParams>, PageQuery>({
  method: 'get',
  path: '/messaging/exchanges/:id/modules',
  summary: 'List the modules of an exchange',
  tag: 'messaging',
  access: 'viewer',
  item: 'Exchange',
  params: IdParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    await exchangeOr404(em, params.id);
    const { rows, total } = await findPage(em, MessagingExchangeModuleSchema, { messaging_exchange_id: params.id }, query);
    return { status: 200, body: rows.map(moduleJson), total };
  },
});

/** Upsert by hostname as the original: delete the hostname's rows, insert one, so `updated_at` is the last heartbeat. */
const upsert = defineRoute<BaseDeps, z.infer<typeof IdParams>, Record<string, never>, ModuleBody>({
  method: 'post',
  path: '/messaging/exchanges/:id/modules',
  summary: 'Register or refresh a module of an exchange',
  tag: 'messaging',
  access: 'operator',
  item: 'ExchangeModule',
  params: IdParams,
  body: ModuleBody,
  async handle({ params, body }, { em }) {
    await exchangeOr404(em, params.id);
    await em.nativeDelete(MessagingExchangeModuleSchema, { messaging_exchange_id: params.id, hostname: body.hostname });
    em.create(MessagingExchangeModuleSchema, {
      messaging_exchange_id: params.id,
      hostname: body.hostname,
      type: body.type,
      status: body.status,
      workload: JSON.stringify(body.workload),
      source_repo: body.source_repo ?? null,
      source_repo_git_ref: body.source_repo_git_ref ?? null,
      deployment_repo: body.deployment_repo ?? null,
      deployment_repo_git_ref: body.deployment_repo_git_ref ?? null,
    });
    await em.flush();
    return { status: 201, location: `/messaging/exchanges/${params.id}/modules/${encodeURIComponent(body.hostname)}` };
  },
});

const show = defineRoute<BaseDeps, HostnameParams>({
  method: 'get',
  path: '/messaging/exchanges/:id/modules/:hostname',
  summary: 'Show a module of an exchange',
  tag: 'messaging',
  access: 'viewer',
  item: 'ExchangeModule',
  params: HostnameParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: moduleJson(await moduleOr404(em, params)) }),
});

/**
 * `operator`, not `admin`: the Overseer deletes modules silent for 20 minutes with its own client token (reference
 * §8.2), the same reason module upserts are `operator`.
 */
const remove = defineRoute<BaseDeps, HostnameParams>({
  method: 'delete',
  path: '/messaging/exchanges/:id/modules/:hostname',
  summary: 'Delete a module of an exchange',
  tag: 'messaging',
  access: 'operator',
  item: 'ExchangeModule',
  params: HostnameParams,
  async handle({ params }, { em }) {
    await moduleOr404(em, params);
    await em.nativeDelete(MessagingExchangeModuleSchema, { messaging_exchange_id: params.id, hostname: params.hostname });
    return { status: 204 };
  },
});

export const exchangeModuleRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, upsert, show, remove];
