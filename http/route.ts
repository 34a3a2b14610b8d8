import type { EntityData, EntityManager, EntityName, EntitySchema, FilterQuery } from '@mikro-orm/core';
import type { Readable } from 'node:stream';
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Principal } from './auth.js';
import type { Database } from './database.js';
import { fieldProblems, InvalidRequestError, NotFoundError } from './errors.js';
import type { Role } from '../entities/auth.js';
import type { Logger } from '../runtime/logger.js';

/**
 * One route, declared once: its access, its schemas (which validate the request AND generate the OpenAPI document,
 * design §6) and its handler. The handler parses nothing itself and builds no error response (style R18).
 */

/** What a handler gets besides its parsed input. */
export interface Call<D> {
  /** This request's unit of work; for a mutation, inside a transaction that also holds its audit row. */
  readonly em: EntityManager;
  readonly principal: Principal;
  readonly log: Logger;
  readonly deps: D;
  /** The caller's address, as the socket has it (the token endpoint's lockout counts per address). */
  readonly address: string;
}

export type RouteResult =
  | { readonly status: 200; readonly body: unknown; readonly total?: number }
  /** A long-lived response written as it goes (Server-Sent Events); it ends when the stream does or the client leaves. */
  | { readonly status: 200; readonly stream: Readable; readonly contentType: string }
  /** Text that is not JSON (Prometheus's exposition format). */
  | { readonly status: 200; readonly text: string; readonly contentType: string }
  | { readonly status: 202; readonly body?: unknown; readonly location?: string }
  | { readonly status: 201; readonly location: string; readonly body?: unknown }
  | { readonly status: 204; readonly location?: string };

export type Access = 'public' | Role;

export interface RouteDef<D, P, Q, B> {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa syntax: `/messaging/brokers/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** The least role that may call it; `public` needs no token. */
  readonly access: Access;
  /** The resource's name in error messages, as the original: `Broker`, `Exchange`, ... */
  readonly item: string;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  /**
   * `false`: the route runs without a database transaction and is audited once it has answered. For a change another
   * component makes, which may call the Manager back while this waits (a FleetManager restart); and for a route that
   * writes even when it fails (the token endpoint's audit of a failure), which a transaction would roll back.
   */
  readonly transaction?: false;
  /** Shape of the success body, for the OpenAPI document. */
  readonly response?: z.ZodType;
  /**
   * What others must learn of a change once it has committed (never when it failed or rolled back): run after the
   * answer, its failure only logged. `change` says what was done: `PUT /messaging/brokers/:id 2`.
   */
  readonly afterCommit?: (deps: D, change: string) => Promise<void>;
  handle(input: { params: P; query: Q; body: B }, call: Call<D>): Promise<RouteResult>;
}

/** Declares a route; the identity, for inference of its input types. */
export function defineRoute<D, P = Record<string, never>, Q = Record<string, never>, B = undefined>(def: RouteDef<D, P, Q, B>): RouteDef<D, P, Q, B> {
  return def;
}

/** A route of any input types, as route lists hold them. */
export type AnyRoute<D> = RouteDef<D, unknown, unknown, unknown>;

/** The one row `where` finds, or a 404 naming `item` (reference §3.1: "<Item> was not found"). */
export async function findOr404<T extends object>(em: EntityManager, entity: EntityName<T>, where: FilterQuery<T>, item: string): Promise<T> {
  const row = await em.findOne(entity, where);
  if (!row) throw new NotFoundError(item);
  return row as T;
}

/**
 * The row of `entity` whose primary key is `id`, for answering a read route: one select on a pooled connection,
 * outside the request's unit of work (and any transaction), converted as the ORM converts columns. On the busiest
 * read (`GET /workflows/:id`, polled by the orchestrator, workers and the CLI) it costs a third of `em.findOne`'s
 * CPU (`npm run bench`). For entities without relations: a relation would come back as its raw key.
 */
export async function readOr404<T extends object>(db: Database, entity: EntitySchema<T>, id: string | number, item: string): Promise<T> {
  const meta = db.orm.getMetadata().get<T>(entity.meta.className);
  const platform = db.orm.em.getPlatform();
  const [primaryKey] = meta.getPrimaryProps();
  if (primaryKey === undefined || meta.relations.length > 0) throw new Error(`readOr404: ${meta.className} needs one primary key and no relations`);
  const [row] = await db.read(`select * from ${platform.quoteIdentifier(meta.tableName)} where ${platform.quoteIdentifier(primaryKey.fieldNames[0]!)} = $1 limit 1`, [id]);
  if (row === undefined) throw new NotFoundError(item);
  return db.orm.em.getDriver().mapResult(row as EntityData<T>, meta) as T;
}

/**
 * Deeper than this, a request's JSON is refused before any schema walks it: the deepest schema (a deployment plan's
 * step tree, 32 steps) needs about 40 levels, and deep values cost every walk over them.
 */
export const MAX_NESTING_DEPTH = 64;

/** Parses one part of a request; a failure is a 400 naming each field. */
export function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, item: string, part: 'params' | 'query' | 'body'): T {
  const unsafe = unsafeSpot(value);
  if (unsafe !== undefined) {
    // Named as zod names fields: body fields bare, params and query fields with their part.
    const field = part === 'body' ? unsafe.path || 'body' : [part, unsafe.path].filter(Boolean).join('.');
    throw new InvalidRequestError(item, [{ field, message: `${field}: ${unsafe.problem}` }]);
  }
  if (schema === undefined) return (part === 'body' ? undefined : {}) as T;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(item, fieldProblems(parsed.error, part === 'body' ? undefined : part));
}

/** A UTF-16 surrogate without its pair: no UTF-8 text (PostgreSQL's `text`, `jsonb`) can hold one. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What is wrong with one string of a request (a value or a key), refused here as a 400 rather than at the database as a 500. */
function stringProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

/**
 * Where in a parsed request a string (value or key) cannot be stored, or the nesting passes MAX_NESTING_DEPTH, as a
 * dotted path ('' for the value itself). Iterative, so a hostile nesting depth cannot overflow the stack.
 */
function unsafeSpot(value: unknown): { path: string; problem: string } | undefined {
  const stack: Array<[unknown, string, number]> = [[value, '', 0]];
  while (stack.length > 0) {
    const [current, path, depth] = stack.pop()!;
    if (typeof current === 'string') {
      const problem = stringProblem(current);
      if (problem !== undefined) return { path, problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= MAX_NESTING_DEPTH) return { path, problem: `nested deeper than ${MAX_NESTING_DEPTH} levels` };
    for (const [key, inner] of Object.entries(current)) {
      const at = path === '' ? key : `${path}.${key}`;
      const problem = stringProblem(key);
      if (problem !== undefined) return { path: at, problem: `key ${problem}` };
      stack.push([inner, at, depth + 1]);
    }
  }
  return undefined;
}

/** Adds a route to the OpenAPI registry, with the error responses every route may give. */
export function documentRoute<D>(registry: OpenAPIRegistry, route: AnyRoute<D>): void {
  const errors = z.object({ errors: z.array(z.object({ message: z.string(), field: z.string().optional() })) });
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errors } } });
  const request: NonNullable<RouteConfig['request']> = {};
  if (route.params instanceof z.ZodObject) request.params = route.params;
  if (route.query instanceof z.ZodObject) request.query = route.query;
  if (route.body) request.body = { content: { 'application/json': { schema: route.body } } };
  registry.registerPath({
    method: route.method,
    path: route.path.replace(/:([A-Za-z_]+)/g, '{$1}'),
    summary: route.summary,
    tags: [route.tag],
    ...(route.access === 'public' ? {} : { security: [{ bearer: [] }], description: `Requires role ${route.access} or above.` }),
    request,
    responses: {
      200: { description: 'OK', ...(route.response ? { content: { 'application/json': { schema: route.response } } } : {}) },
      400: errorResponse('A field is invalid; each problem names its field'),
      ...(route.access === 'public' ? {} : { 401: errorResponse('No valid token'), 403: errorResponse('The role may not do this') }),
      404: errorResponse('Not found'),
      409: errorResponse('Conflicts with an existing resource'),
    },
  });
}
