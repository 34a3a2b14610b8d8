import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { MessagingRpcRequestSchema, type MessagingRpcRequest } from '../../entities/messaging.js';

/**
 * The original's DB-backed RPC mailbox (reference §3.3, §4.7). Our components answer over AMQP `reply_to` (design §2);
 * these routes stay so clients of the original keep working. Bodies are any JSON, stored as JSON text.
 */

// Any JSON value (the body is parsed JSON already); not z.json(), whose recursive schema overflows the OpenAPI generator.
const AnyJson = z.unknown().meta({ description: 'any JSON value' });
const RpcBody = z.strictObject({
  status: z.enum(['not_started', 'in_progress', 'completed', 'error']),
  request_body: AnyJson.optional(),
  response_body: AnyJson.optional(),
});
type RpcBody = z.infer<typeof RpcBody>;
// A server answers with `{status, response_body}` only (reference §4.7 step 3): what a PUT leaves out keeps its value.
const RpcUpdateBody = RpcBody.partial();
type RpcUpdateBody = z.infer<typeof RpcUpdateBody>;

/** JSON text for a body; an absent or null body is stored as NULL. */
const encoded = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/** A stored body decoded; text that is not JSON (a row written by other hands) is shown as it is. */
function decoded(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const rpcJson = (r: MessagingRpcRequest) => ({
  id: r.id,
  status: r.status,
  request_body: decoded(r.request_body),
  response_body: decoded(r.response_body),
  inserted_at: r.inserted_at,
  updated_at: r.updated_at,
});

const rpcOr404 = (em: EntityManager, id: number): Promise<MessagingRpcRequest> => findOr404(em, MessagingRpcRequestSchema, { id }, 'RpcRequest');

const list = defineRoute<BaseDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/messaging/rpc_requests',
  summary: 'List RPC requests',
  tag: 'messaging',
  access: 'viewer',
  item: 'RpcRequest',
  query: PageQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, MessagingRpcRequestSchema, {}, query);
    return { status: 200, body: rows.map(rpcJson), total };
  },
});

const show = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'get',
  path: '/messaging/rpc_requests/:id',
  summary: 'Show an RPC request',
  tag: 'messaging',
  access: 'viewer',
  item: 'RpcRequest',
  params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: rpcJson(await rpcOr404(em, params.id)) }),
});

/** `operator`: the caller of an RPC creates its row with its own client token (reference §4.7 step 1). */
const create = defineRoute<BaseDeps, Record<string, never>, Record<string, never>, RpcBody>({
  method: 'post',
  path: '/messaging/rpc_requests',
  summary: 'Create an RPC request',
  tag: 'messaging',
  access: 'operator',
  item: 'RpcRequest',
  body: RpcBody,
  async handle({ body }, { em }) {
    const row = em.create(MessagingRpcRequestSchema, {
      status: body.status,
      request_body: encoded(body.request_body),
      response_body: encoded(body.response_body),
    });
    await em.flush();
    return { status: 201, location: `/messaging/rpc_requests/${row.id}` };
  },
});

/** `operator`: the serving component writes the answer with its own client token (reference §4.7 step 3). */
const update = defineRoute<BaseDeps, z.infer<typeof IdParams>, Record<string, never>, RpcUpdateBody>({
  method: 'put',
  path: '/messaging/rpc_requests/:id',
  summary: 'Update an RPC request',
  tag: 'messaging',
  access: 'operator',
  item: 'RpcRequest',
  params: IdParams,
  body: RpcUpdateBody,
  async handle({ params, body }, { em }) {
    const row = await rpcOr404(em, params.id);
    if (body.status !== undefined) row.status = body.status;
    if (body.request_body !== undefined) row.request_body = encoded(body.request_body);
    if (body.response_body !== undefined) row.response_body = encoded(body.response_body);
    await em.flush();
    return { status: 204, location: `/messaging/rpc_requests/${row.id}` };
  },
});

const remove = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'delete',
  path: '/messaging/rpc_requests/:id',
  summary: 'Delete an RPC request',
  tag: 'messaging',
  access: 'admin',
  item: 'RpcRequest',
  params: IdParams,
  async handle({ params }, { em }) {
    await rpcOr404(em, params.id);
    await em.nativeDelete(MessagingRpcRequestSchema, { id: params.id });
    return { status: 204 };
  },
});

export const rpcRequestRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list, show, create, update, remove];
