import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, InvalidRequestError, type FieldProblem } from '../errors.js';
import { announceMessagingChange } from '../messaging-changes.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { IdParams, Name, OptionalId } from '../schemas/common.js';
import { exchangeModuleRoutes, exchangeOr404 } from './messaging-exchange-modules.js';
import {
  MessagingBrokerSchema,
  MessagingExchangeBrokerSchema,
  MessagingExchangeModuleSchema,
  MessagingExchangeSchema,
  type MessagingExchange,
  type MessagingExchangeBroker,
} from '../../entities/messaging.js';
import type { Logger } from '../../runtime/logger.js';
import { isRoutingError, routeFor } from '../../runtime/messaging/core/routing.js';

/**
 * Exchanges and their broker restrictions (reference §3.3), routing keys computed from the whole tree in one query
 * (reference §10.1 item 4). The `/clusters` and `/system_components` sub-routes belong to those route groups.
 */

const ExchangeBody = z.strictObject({
  name: Name(1_024),
  failover_exchange_id: OptionalId,
  parent_exchange_id: OptionalId,
  routing_key_fragment: z.string().trim().max(255, 'must be at most 255 characters').nullable().optional(),
});
type ExchangeBody = z.infer<typeof ExchangeBody>;
// As the original's Ecto cast: a field left out of a PUT keeps its value (cf. reference §10.1 item 5).
const ExchangeUpdateBody = ExchangeBody.partial();
type ExchangeFields = Pick<MessagingExchange, 'name' | 'failover_exchange_id' | 'parent_exchange_id' | 'routing_key_fragment'>;
const RestrictionBody = z.strictObject({ messaging_broker_id: z.number().int().positive().max(2_147_483_647) });

/** The computed route, or nulls for rows an old database left unroutable: the list must still show them to be fixed. */
function exchangeJson(x: MessagingExchange, tree: readonly MessagingExchange[], log: Logger) {
  let route: { routing_key: string | null; root_exchange_name: string | null } = { routing_key: null, root_exchange_name: null };
  try {
    const r = routeFor(tree, x.id);
    route = { routing_key: r.routingKey, root_exchange_name: r.rootExchangeName };
  } catch (err) {
    if (!isRoutingError(err)) throw err;
    log.warn({ exchangeId: x.id, reason: err.message }, 'exchange has no route');
  }
  return {
    id: x.id,
    name: x.name,
    failover_exchange_id: x.failover_exchange_id,
    parent_exchange_id: x.parent_exchange_id,
    routing_key_fragment: x.routing_key_fragment,
    ...route,
    inserted_at: x.inserted_at,
    updated_at: x.updated_at,
  };
}

const restrictionJson = (r: MessagingExchangeBroker) => ({
  id: r.id,
  messaging_exchange_id: r.messaging_exchange_id,
  messaging_broker_id: r.messaging_broker_id,
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});

const loadTree = (em: EntityManager): Promise<MessagingExchange[]> => em.find(MessagingExchangeSchema, {});


/** Problems of one link: it must name another, existing exchange. */
function linkProblems(field: 'parent_exchange_id' | 'failover_exchange_id', target: number | null, tree: readonly MessagingExchange[], self?: number): FieldProblem[] {
  if (target === null) return [];
  const relation = field === 'parent_exchange_id' ? 'its own parent' : 'its own failover';
  if (target === self) return [{ field, message: `${field}: an exchange cannot be ${relation}` }];
  if (!tree.some((x) => x.id === target)) return [{ field, message: `${field}: exchange ${target} does not exist` }];
  return [];
}

/**
 * 409 for a name another exchange has; 400 for a link to an unknown exchange or to itself, or a parent that would
 * close a cycle. Deliberate fix (reference §10.1 item 4): the original checked neither, and its routing key walk then
 * crashed or looped. Failover links are not followed beyond one hop (reference §4.5), so mutual failover is allowed.
 */
async function checkExchange(em: EntityManager, next: ExchangeFields, self?: number): Promise<void> {
  const clash = await em.findOne(MessagingExchangeSchema, { name: next.name, ...(self === undefined ? {} : { id: { $ne: self } }) });
  if (clash) throw new ConflictError('Exchange', `name ${next.name}`);
  const tree = await loadTree(em);
  const problems = [
    ...linkProblems('parent_exchange_id', next.parent_exchange_id, tree, self),
    ...linkProblems('failover_exchange_id', next.failover_exchange_id, tree, self),
  ];
  if (problems.length === 0 && next.parent_exchange_id !== null) {
    // The tree as it would be after this write; a new exchange gets id 0, which no row has.
    const candidate = { ...next, id: self ?? 0 };
    try {
      routeFor([...tree.filter((x) => x.id !== candidate.id), candidate], candidate.id);
    } catch (err) {
      if (!isRoutingError(err)) throw err;
      problems.push({ field: 'parent_exchange_id', message: `parent_exchange_id: ${err.message}` });
    }
  }
  if (problems.length > 0) throw new InvalidRequestError('Exchange', problems);
}

/**
 * Rows of other aggregates that name the exchange (reference §2.1 cascade). Their tables come with the clusters and
 * system-components route groups, so each statement runs once its table exists; reference §2 fixes the names.
 */
const FOREIGN_REFERENCES = [
  { table: 'etcd_clusters', sql: 'update etcd_clusters set messaging_exchange_id = null where messaging_exchange_id = ?' },
  { table: 'system_components', sql: 'delete from system_components where messaging_exchange_id = ?' },
] as const;

async function clearForeignReferences(em: EntityManager, exchangeId: number): Promise<void> {
  const connection = em.getConnection();
  const tx = em.getTransactionContext();
  for (const ref of FOREIGN_REFERENCES) {
    const row: unknown = await connection.execute('select to_regclass(?) is not null as present', [ref.table], 'get', tx);
    const present = typeof row === 'object' && row !== null && 'present' in row && row.present === true;
    if (present) await connection.execute(ref.sql, [exchangeId], 'run', tx);
  }
}

const list = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/messaging/exchanges',
  summary: 'List exchanges',
  tag: 'messaging',
  access: 'viewer',
  item: 'Exchange',
  query: PageQuery,
  async handle({ query }, { em, log }) {
    const { rows, total } = await findPage(em, MessagingExchangeSchema, {}, query);
    const tree = await loadTree(em);
    return { status: 200, body: rows.map((x) => exchangeJson(x, tree, log)), total };
  },
});

const show = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'get',
  path: '/messaging/exchanges/:id',
  summary: 'Show an exchange',
  tag: 'messaging',
  access: 'viewer',
  item: 'Exchange',
  params: IdParams,
  async handle({ params }, { em, log }) {
    const exchange = await exchangeOr404(em, params.id);
    return { status: 200, body: exchangeJson(exchange, await loadTree(em), log) };
  },
});

const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, ExchangeBody>({
  method: 'post',
  path: '/messaging/exchanges',
  summary: 'Create an exchange',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Exchange',
  body: ExchangeBody,
  async handle({ body }, { em }) {
    const fields: ExchangeFields = {
      name: body.name,
      failover_exchange_id: body.failover_exchange_id ?? null,
      parent_exchange_id: body.parent_exchange_id ?? null,
      routing_key_fragment: body.routing_key_fragment ?? null,
    };
    await checkExchange(em, fields);
    const exchange = em.create(MessagingExchangeSchema, fields);
    await em.flush();
    return { status: 201, location: `/messaging/exchanges/${exchange.id}` };
  },
});

const update = defineRoute<BaseDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof ExchangeUpdateBody>>({
  method: 'put',
  path: '/messaging/exchanges/:id',
  summary: 'Update an exchange',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Exchange',
  params: IdParams,
  body: ExchangeUpdateBody,
  async handle({ params, body }, { em }) {
    const exchange = await exchangeOr404(em, params.id);
    const fields: ExchangeFields = {
      name: body.name ?? exchange.name,
      failover_exchange_id: body.failover_exchange_id === undefined ? exchange.failover_exchange_id : body.failover_exchange_id,
      parent_exchange_id: body.parent_exchange_id === undefined ? exchange.parent_exchange_id : body.parent_exchange_id,
      routing_key_fragment: body.routing_key_fragment === undefined ? exchange.routing_key_fragment : body.routing_key_fragment,
    };
    await checkExchange(em, fields, exchange.id);
    Object.assign(exchange, fields);
    await em.flush();
    return { status: 204, location: `/messaging/exchanges/${exchange.id}` };
  },
});

/** Reference §2.1: clusters detached, links from other exchanges cleared, restrictions, modules and components deleted. */
const remove = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'delete',
  path: '/messaging/exchanges/:id',
  summary: 'Delete an exchange',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Exchange',
  params: IdParams,
  async handle({ params }, { em }) {
    const exchange = await exchangeOr404(em, params.id);
    await clearForeignReferences(em, exchange.id);
    await em.nativeUpdate(MessagingExchangeSchema, { failover_exchange_id: exchange.id }, { failover_exchange_id: null });
    await em.nativeUpdate(MessagingExchangeSchema, { parent_exchange_id: exchange.id }, { parent_exchange_id: null });
    await em.nativeDelete(MessagingExchangeBrokerSchema, { messaging_exchange_id: exchange.id });
    await em.nativeDelete(MessagingExchangeModuleSchema, { messaging_exchange_id: exchange.id });
    await em.nativeDelete(MessagingExchangeSchema, { id: exchange.id });
    return { status: 204 };
  },
});

const listRestrictions = defineRoute<BaseDeps, z.infer<typeof IdParams>, PageQuery>({
  method: 'get',
  path: '/messaging/exchanges/:id/brokers',
  summary: 'List the broker restrictions of an exchange',
  tag: 'messaging',
  access: 'viewer',
  item: 'Exchange',
  params: IdParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    await exchangeOr404(em, params.id);
    const { rows, total } = await findPage(em, MessagingExchangeBrokerSchema, { messaging_exchange_id: params.id }, query);
    return { status: 200, body: rows.map(restrictionJson), total };
  },
});

const createRestriction = defineRoute<BaseDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof RestrictionBody>>({
  method: 'post',
  path: '/messaging/exchanges/:id/brokers',
  summary: 'Restrict an exchange to a broker',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'ExchangeBroker',
  params: IdParams,
  body: RestrictionBody,
  async handle({ params, body }, { em }) {
    await exchangeOr404(em, params.id);
    const brokerId = body.messaging_broker_id;
    if (!(await em.findOne(MessagingBrokerSchema, { id: brokerId }))) {
      throw new InvalidRequestError('ExchangeBroker', [{ field: 'messaging_broker_id', message: `messaging_broker_id: broker ${brokerId} does not exist` }]);
    }
    const pair = { messaging_exchange_id: params.id, messaging_broker_id: brokerId };
    if (await em.findOne(MessagingExchangeBrokerSchema, pair)) throw new ConflictError('ExchangeBroker', `broker ${brokerId} for exchange ${params.id}`);
    em.create(MessagingExchangeBrokerSchema, pair);
    await em.flush();
    // Deliberate fix (reference §3.3): the original's Location used the new row's id in place of the exchange id.
    return { status: 201, location: `/messaging/exchanges/${params.id}/brokers` };
  },
});

const removeRestrictions = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'delete',
  path: '/messaging/exchanges/:id/brokers',
  summary: 'Delete the broker restrictions of an exchange',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Exchange',
  params: IdParams,
  async handle({ params }, { em }) {
    await exchangeOr404(em, params.id);
    await em.nativeDelete(MessagingExchangeBrokerSchema, { messaging_exchange_id: params.id });
    return { status: 204 };
  },
});

export const exchangeRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [
  list,
  show,
  create,
  update,
  remove,
  listRestrictions,
  createRestriction,
  removeRestrictions,
  ...exchangeModuleRoutes,
];
