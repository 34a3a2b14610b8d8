import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import type { Principal } from '../auth.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import { announceMessagingChange } from '../messaging-changes.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams, Name, OptionalId } from '../schemas/common.js';
import { keyNameOf, type SecretBox } from '../secrets.js';
import {
  MessagingBrokerConnectionSchema,
  MessagingBrokerSchema,
  MessagingExchangeBrokerSchema,
  type MessagingBroker,
  type MessagingBrokerConnection,
} from '../../entities/messaging.js';

/** Brokers and their connection options (reference §3.3), with the §10.1 item 6 bugs fixed. */
export interface BrokerDeps extends BaseDeps {
  readonly secrets: SecretBox;
}

const BrokerBody = z.strictObject({ name: Name(), failover_broker_id: OptionalId });
const ConnectionBody = z.strictObject({
  username: Name(),
  password: z.string().min(1, 'must not be empty').max(1_024),
  host: Name(),
  // Deliberate fix (reference §10.1 item 6): the original ignored `port` on create.
  port: z.number().int().min(1).max(65_535).nullable().optional(),
  virtual_host: z.string().max(255).default('/'),
});

const brokerJson = (b: MessagingBroker) => ({
  id: b.id,
  name: b.name,
  failover_broker_id: b.failover_broker_id,
  inserted_at: b.inserted_at,
  updated_at: b.updated_at,
});

/** Passwords go to admins only (design §2; the original served them to anyone, reference §10.1 item 6). */
function connectionJson(c: MessagingBrokerConnection, principal: Principal, secrets: SecretBox) {
  return {
    id: c.id,
    messaging_broker_id: c.messaging_broker_id,
    username: c.username,
    password: principal.role === 'admin' ? secrets.open(c.password) : null,
    host: c.host,
    port: c.port,
    virtual_host: c.virtual_host,
    inserted_at: c.inserted_at,
    updated_at: c.updated_at,
  };
}

const brokerOr404 = (em: EntityManager, id: number): Promise<MessagingBroker> => findOr404(em, MessagingBrokerSchema, { id }, 'Broker');

async function checkBroker(em: EntityManager, body: z.infer<typeof BrokerBody>, self?: number): Promise<void> {
  // Deliberate fix (reference §10.1 item 6): renaming a broker to its own name is not a conflict.
  const clash = await em.findOne(MessagingBrokerSchema, { name: body.name, ...(self === undefined ? {} : { id: { $ne: self } }) });
  if (clash) throw new ConflictError('Broker', `name ${body.name}`);
  const failover = body.failover_broker_id;
  if (failover === undefined || failover === null) return;
  if (failover === self) throw new InvalidRequestError('Broker', [{ field: 'failover_broker_id', message: 'failover_broker_id: a broker cannot fail over to itself' }]);
  if (!(await em.findOne(MessagingBrokerSchema, { id: failover }))) {
    throw new InvalidRequestError('Broker', [{ field: 'failover_broker_id', message: `failover_broker_id: broker ${failover} does not exist` }]);
  }
}

const list = defineRoute<BrokerDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/messaging/brokers',
  summary: 'List brokers',
  tag: 'messaging',
  access: 'viewer',
  item: 'Broker',
  query: PageQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, MessagingBrokerSchema, {}, query);
    return { status: 200, body: rows.map(brokerJson), total };
  },
});

const show = defineRoute<BrokerDeps, z.infer<typeof IdParams>>({
  method: 'get',
  path: '/messaging/brokers/:id',
  summary: 'Show a broker',
  tag: 'messaging',
  access: 'viewer',
  item: 'Broker',
  params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: brokerJson(await brokerOr404(em, params.id)) }),
});

const create = defineRoute<BrokerDeps, Record<string, never>, Record<string, never>, z.infer<typeof BrokerBody>>({
  method: 'post',
  path: '/messaging/brokers',
  summary: 'Create a broker',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Broker',
  body: BrokerBody,
  async handle({ body }, { em }) {
    await checkBroker(em, body);
    const broker = em.create(MessagingBrokerSchema, { name: body.name, failover_broker_id: body.failover_broker_id ?? null });
    await em.flush();
    return { status: 201, location: `/messaging/brokers/${broker.id}` };
  },
});

const update = defineRoute<BrokerDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof BrokerBody>>({
  method: 'put',
  path: '/messaging/brokers/:id',
  summary: 'Update a broker',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Broker',
  params: IdParams,
  body: BrokerBody,
  async handle({ params, body }, { em }) {
    const broker = await brokerOr404(em, params.id);
    await checkBroker(em, body, broker.id);
    broker.name = body.name;
    broker.failover_broker_id = body.failover_broker_id ?? null;
    await em.flush();
    return { status: 204, location: `/messaging/brokers/${broker.id}` };
  },
});

/** Reference §2.1: other brokers' failover links are cleared, connections and restrictions deleted, then the broker. */
const remove = defineRoute<BrokerDeps, z.infer<typeof IdParams>>({
  method: 'delete',
  path: '/messaging/brokers/:id',
  summary: 'Delete a broker',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Broker',
  params: IdParams,
  async handle({ params }, { em }) {
    const broker = await brokerOr404(em, params.id);
    await em.nativeUpdate(MessagingBrokerSchema, { failover_broker_id: broker.id }, { failover_broker_id: null });
    await em.nativeDelete(MessagingBrokerConnectionSchema, { messaging_broker_id: broker.id });
    await em.nativeDelete(MessagingExchangeBrokerSchema, { messaging_broker_id: broker.id });
    await em.nativeDelete(MessagingBrokerSchema, { id: broker.id });
    return { status: 204 };
  },
});

const listConnections = defineRoute<BrokerDeps, z.infer<typeof IdParams>, PageQuery>({
  method: 'get',
  path: '/messaging/brokers/:id/connections',
  summary: 'List connections of a broker',
  tag: 'messaging',
  access: 'viewer',
  item: 'Broker',
  params: IdParams,
  query: PageQuery,
  async handle({ params, query }, { em, principal, deps }) {
    await brokerOr404(em, params.id);
    const { rows, total } = await findPage(em, MessagingBrokerConnectionSchema, { messaging_broker_id: params.id }, query);
    return { status: 200, body: rows.map((c) => connectionJson(c, principal, deps.secrets)), total };
  },
});

const createConnection = defineRoute<BrokerDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof ConnectionBody>>({
  method: 'post',
  path: '/messaging/brokers/:id/connections',
  summary: 'Add connection options to a broker',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'BrokerConnection',
  params: IdParams,
  body: ConnectionBody,
  async handle({ params, body }, { em, deps }) {
    await brokerOr404(em, params.id);
    const password = deps.secrets.seal(body.password);
    em.create(MessagingBrokerConnectionSchema, {
      messaging_broker_id: params.id,
      username: body.username,
      password,
      // Deliberate fix (reference §10.1 item 6): the key name is stored beside the value.
      password_keyname: keyNameOf(password) ?? null,
      host: body.host,
      port: body.port ?? null,
      virtual_host: body.virtual_host,
    });
    await em.flush();
    return { status: 201, location: `/messaging/brokers/${params.id}/connections` };
  },
});

const removeConnections = defineRoute<BrokerDeps, z.infer<typeof IdParams>>({
  method: 'delete',
  path: '/messaging/brokers/:id/connections',
  summary: 'Delete the connections of a broker',
  tag: 'messaging',
  access: 'admin',
  afterCommit: announceMessagingChange,
  item: 'Broker',
  params: IdParams,
  async handle({ params }, { em }) {
    await brokerOr404(em, params.id);
    await em.nativeDelete(MessagingBrokerConnectionSchema, { messaging_broker_id: params.id });
    return { status: 204 };
  },
});

export const brokerRoutes: ReadonlyArray<AnyRoute<BrokerDeps>> = [list, show, create, update, remove, listConnections, createConnection, removeConnections];
