import { raw, UniqueConstraintViolationException, type EntityManager, type FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404 } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { ownerColumns, OwnerFields, ownerNamesOf, OwnerQuery, ownerWhere, type OwnerNames } from './router-owner.js';
import { RouteState } from '../../runtime/haproxy/core/model.js';
import { AuthoritySchema, DeletedAuthoritySchema, RouterRouteSchema, type Authority, type RouterRoute } from '../../entities/router.js';
import { definedFields } from '../../runtime/core/objects.js';

/**
 * The router tables' API (reference §3.12), polled by edge routers: a map of `host:port` to backends, tombstones of
 * removed authorities, and CRUD. Deliberate addition (issue 15): a route's `weight` (0-256, default 100) and `state`
 * (`ready`, `drain`, `maint`), which the router serves and a rollout changes; an authority's `product` and
 * `environment` (router-owner.ts), whose address it is, and the `product` filter of the lists. Any change to a route bumps its authority's `updated_at`, which `updated_since` reads.
 * The two feeds (`/router/routes`, `/router/routes/deleted`) stay unpaginated: a router reading one page of them
 * would silently miss routes. PATCH is served by PUT with the same partial body (reference: one handler for both).
 */

const Hostname = Name().regex(/^[^\s/]+$/, 'must be a host name');
const Port = z.number().int('must be a whole number').min(1, 'must be 1..65535').max(65_535, 'must be 1..65535');
const Id = z.coerce.number<string>().int().positive().max(2_147_483_647);
/** `host:port`, the port after the last colon; Koa has already decoded `host%3Aport`. */
const HostSpec = z
  .string()
  .max(300)
  .regex(/^[^\s/]+:\d{1,5}$/, 'must be host:port')
  .transform((s) => ({ hostname: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) }))
  .refine((h) => h.port >= 1 && h.port <= 65_535, 'port must be 1..65535');

/** The plain port on which the router redirects the authority's hostname to https (issue 15 item 3); null: none. */
const RedirectPort = Port.nullable();
const AuthorityBody = z.strictObject({ hostname: Hostname, port: Port, redirect_http_port: RedirectPort.default(null), ...OwnerFields });
const AuthorityPatch = z.strictObject({ hostname: Hostname.optional(), port: Port.optional(), redirect_http_port: RedirectPort.optional(), ...OwnerFields });
/** HAProxy's range for a server weight; 100 by default, so that weights read as shares. */
const Weight = z.number().int('must be a whole number').min(0, 'must be 0..256').max(256, 'must be 0..256');
const RouteBody = z.strictObject({ hostname: Hostname, port: Port, secure_connection: z.boolean().default(false), weight: Weight.default(100), state: RouteState.default('ready') });
const RoutePatch = z.strictObject({ hostname: Hostname.optional(), port: Port.optional(), secure_connection: z.boolean().optional(), weight: Weight.optional(), state: RouteState.optional() });
/** Reference §3.12: whole unix seconds; anything else is a 400. */
const SinceQuery = z.strictObject({ updated_since: z.string().regex(/^\d{1,12}$/, 'must be whole unix seconds').transform(Number).optional() });
const ListQuery = PageQuery.extend({ hostspec: HostSpec.optional() });
const AuthorityListQuery = ListQuery.extend(OwnerQuery);
const ParentParams = z.strictObject({ parent_id: Id });
const RouteParams = z.strictObject({ parent_id: Id, id: Id });
type IdParams = z.infer<typeof IdParams>;
type ParentParams = z.infer<typeof ParentParams>;
type RouteParams = z.infer<typeof RouteParams>;
type ListQuery = z.infer<typeof ListQuery>;
type AuthorityListQuery = z.infer<typeof AuthorityListQuery>;
type SinceQuery = z.infer<typeof SinceQuery>;
type Nothing = Record<string, never>;

const keyOf = (a: { hostname: string; port: number }): string => `${a.hostname}:${a.port}`;
const authorityJson = (a: Authority, owner: OwnerNames | undefined) => ({
  id: a.id, hostname: a.hostname, port: a.port, redirect_http_port: a.redirect_http_port, product: owner?.product ?? null, environment: owner?.environment ?? null,
  inserted_at: a.inserted_at, updated_at: a.updated_at,
});
const backendJson = (r: RouterRoute) => ({ hostname: r.hostname, port: r.port, secure_connection: r.secure_connection, weight: r.weight, state: r.state });
const routeJson = (r: RouterRoute) => ({ id: r.id, authority_id: r.authority_id, ...backendJson(r), inserted_at: r.inserted_at, updated_at: r.updated_at });
const sinceWhere = (since: number | undefined) => (since === undefined ? {} : { updated_at: { $gte: new Date(since * 1_000) } });

/** Hostnames compare case-insensitively (reference §2.7), as the unique indexes on `lower(hostname)` do. */
function sameHost<T extends object>(h: { hostname: string; port: number }): FilterQuery<T> {
  return { [raw('lower(hostname)')]: h.hostname.toLowerCase(), port: h.port } as FilterQuery<T>;
}

export const authorityOr404 = (em: EntityManager, id: number): Promise<Authority> => findOr404(em, AuthoritySchema, { id }, 'Authority');

async function routeOr404(em: EntityManager, p: RouteParams): Promise<RouterRoute> {
  const route = await em.findOne(RouterRouteSchema, { id: p.id, authority_id: p.parent_id });
  if (!route) throw new NotFoundError('Route');
  return route;
}

/** A redirect answers on a plain port, so never on the port the authority serves. */
function checkRedirect(a: { port: number; redirect_http_port: number | null }): void {
  if (a.redirect_http_port !== a.port) return;
  throw new InvalidRequestError('Authority', [{ field: 'redirect_http_port', message: `redirect_http_port: must differ from port (${a.port}), which serves the authority` }]);
}

/** Runs before any change (a query may flush pending ones); the unique index still turns a concurrent insert into 409. */
async function checkFree(clashes: Promise<ReadonlyArray<{ id: number }>>, item: string, self?: number): Promise<void> {
  if ((await clashes).some((row) => row.id !== self)) throw new ConflictError(item);
}

async function flushOr409(em: EntityManager, item: string): Promise<void> {
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new ConflictError(item);
    throw err;
  }
}

/** Routes of the given authorities, grouped by authority id; all routes when `ids` is undefined. */
async function routesOf(em: EntityManager, ids?: readonly number[]): Promise<Map<number, RouterRoute[]>> {
  const rows = ids?.length === 0 ? [] : await em.find(RouterRouteSchema, ids === undefined ? {} : { authority_id: { $in: [...ids] } }, { orderBy: { id: 'asc' } });
  const grouped = new Map<number, RouterRoute[]>();
  for (const r of rows) grouped.set(r.authority_id, [...(grouped.get(r.authority_id) ?? []), r]);
  return grouped;
}

const authoritiesJson = async (em: EntityManager, authorities: Authority[]) => {
  const owners = await ownerNamesOf(em, authorities);
  return authorities.map((a) => authorityJson(a, owners.get(a.id)));
};

const detailed = async (em: EntityManager, authorities: Authority[]) => {
  const routes = await routesOf(em, authorities.map((a) => a.id));
  return (await authoritiesJson(em, authorities)).map((a) => ({ ...a, routes: (routes.get(a.id) ?? []).map(routeJson) }));
};

/** The lists' filter: `hostspec` and `product`. */
const authoritiesWhere = async (em: EntityManager, query: AuthorityListQuery): Promise<FilterQuery<Authority>> => ({
  $and: [query.hostspec ? sameHost<Authority>(query.hostspec) : {}, await ownerWhere(em, query.product)],
});

const A = { tag: 'router', item: 'Authority' } as const;
const R = { tag: 'router', item: 'Route' } as const;

const routeMap = defineRoute<BaseDeps, Nothing, SinceQuery>({
  ...A, method: 'get', path: '/router/routes', summary: 'Map of authority to routes, for router caches', access: 'viewer', query: SinceQuery,
  async handle({ query }, { em }) {
    // Read the clock first: a change made while we query is then at or after `timestamp`, and the next poll sees it.
    const timestamp = Math.floor(Date.now() / 1_000);
    const authorities = await em.find(AuthoritySchema, sinceWhere(query.updated_since), { orderBy: { id: 'asc' } });
    const routes = await routesOf(em, query.updated_since === undefined ? undefined : authorities.map((a) => a.id));
    const map: Record<string, unknown> = Object.fromEntries(authorities.map((a) => [keyOf(a), (routes.get(a.id) ?? []).map(backendJson)]));
    return { status: 200, body: { ...map, timestamp } };
  },
});

const deletedFeed = defineRoute<BaseDeps, Nothing, SinceQuery>({
  ...A, method: 'get', path: '/router/routes/deleted', summary: 'Tombstones: host:port of removed authorities', access: 'viewer', query: SinceQuery,
  async handle({ query }, { em }) {
    const rows = await em.find(DeletedAuthoritySchema, sinceWhere(query.updated_since), { orderBy: { id: 'asc' }, fields: ['hostname', 'port'] });
    return { status: 200, body: [...new Set(rows.map(keyOf))] };
  },
});

const listAuthorities = defineRoute<BaseDeps, Nothing, AuthorityListQuery>({
  ...A, method: 'get', path: '/router/authorities', summary: 'List authorities', access: 'viewer', query: AuthorityListQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, AuthoritySchema, await authoritiesWhere(em, query), query);
    return { status: 200, body: await authoritiesJson(em, rows), total };
  },
});

const listDetailed = defineRoute<BaseDeps, Nothing, AuthorityListQuery>({
  ...A, method: 'get', path: '/router/authorities/detailed', summary: 'List authorities with their routes', access: 'viewer', query: AuthorityListQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, AuthoritySchema, await authoritiesWhere(em, query), query);
    return { status: 200, body: await detailed(em, rows), total };
  },
});

const showAuthority = defineRoute<BaseDeps, IdParams>({
  ...A, method: 'get', path: '/router/authorities/:id', summary: 'Show an authority', access: 'viewer', params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: (await authoritiesJson(em, [await authorityOr404(em, params.id)]))[0] }),
});

const showDetailed = defineRoute<BaseDeps, IdParams>({
  ...A, method: 'get', path: '/router/authorities/:id/detailed', summary: 'Show an authority with its routes', access: 'viewer', params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: (await detailed(em, [await authorityOr404(em, params.id)]))[0] }),
});

const createAuthority = defineRoute<BaseDeps, Nothing, Nothing, z.infer<typeof AuthorityBody>>({
  ...A, method: 'post', path: '/router/authorities', summary: 'Create an authority', access: 'admin', body: AuthorityBody,
  async handle({ body }, { em }) {
    const { product, environment, ...address } = body;
    checkRedirect(address);
    const owner = await ownerColumns(em, { product, environment });
    await checkFree(em.find(AuthoritySchema, sameHost(address)), 'Authority');
    const authority = em.create(AuthoritySchema, { ...address, ...owner });
    await flushOr409(em, 'Authority');
    return { status: 201, location: `/router/authorities/${authority.id}` };
  },
});

/** Reference §3.12: a changed `host:port` leaves a tombstone of the old one, so caches drop it. */
const updateAuthority = defineRoute<BaseDeps, IdParams, Nothing, z.infer<typeof AuthorityPatch>>({
  ...A, method: 'put', path: '/router/authorities/:id', summary: 'Update an authority (the fields given)', access: 'admin', params: IdParams, body: AuthorityPatch,
  async handle({ params, body }, { em }) {
    const authority = await authorityOr404(em, params.id);
    const next = { hostname: body.hostname ?? authority.hostname, port: body.port ?? authority.port };
    const redirect_http_port = body.redirect_http_port === undefined ? authority.redirect_http_port : body.redirect_http_port;
    checkRedirect({ ...next, redirect_http_port });
    const owner = await ownerColumns(em, { product: body.product, environment: body.environment }, authority);
    if (keyOf(next) !== keyOf(authority)) {
      await checkFree(em.find(AuthoritySchema, sameHost(next)), 'Authority', authority.id);
      em.create(DeletedAuthoritySchema, { hostname: authority.hostname, port: authority.port });
    }
    Object.assign(authority, next, owner, { redirect_http_port, updated_at: new Date() });
    await flushOr409(em, 'Authority');
    return { status: 204, location: `/router/authorities/${authority.id}` };
  },
});

const deleteAuthority = defineRoute<BaseDeps, IdParams>({
  ...A, method: 'delete', path: '/router/authorities/:id', summary: 'Delete an authority and its routes', access: 'admin', params: IdParams,
  async handle({ params }, { em }) {
    const authority = await authorityOr404(em, params.id);
    await em.nativeDelete(RouterRouteSchema, { authority_id: authority.id });
    await em.nativeDelete(AuthoritySchema, { id: authority.id });
    em.create(DeletedAuthoritySchema, { hostname: authority.hostname, port: authority.port });
    await em.flush();
    return { status: 204 };
  },
});

const listRoutes = defineRoute<BaseDeps, ParentParams, ListQuery>({
  ...R, method: 'get', path: '/router/authorities/:parent_id/routes', summary: 'List the routes of an authority', access: 'viewer', params: ParentParams, query: ListQuery,
  async handle({ params, query }, { em }) {
    await authorityOr404(em, params.parent_id);
    const where: FilterQuery<RouterRoute> = { $and: [{ authority_id: params.parent_id }, query.hostspec ? sameHost<RouterRoute>(query.hostspec) : {}] };
    const { rows, total } = await findPage(em, RouterRouteSchema, where, query);
    return { status: 200, body: rows.map(routeJson), total };
  },
});

const createRoute = defineRoute<BaseDeps, ParentParams, Nothing, z.infer<typeof RouteBody>>({
  ...R, method: 'post', path: '/router/authorities/:parent_id/routes', summary: 'Add a route to an authority', access: 'admin', params: ParentParams, body: RouteBody,
  async handle({ params, body }, { em }) {
    const authority = await authorityOr404(em, params.parent_id);
    await checkFree(em.find(RouterRouteSchema, { $and: [{ authority_id: authority.id }, sameHost<RouterRoute>(body)] }), 'Route');
    const route = em.create(RouterRouteSchema, { authority_id: authority.id, ...body });
    authority.updated_at = new Date();
    await flushOr409(em, 'Route');
    return { status: 201, location: `/router/authorities/${authority.id}/routes/${route.id}` };
  },
});

const showRoute = defineRoute<BaseDeps, RouteParams>({
  ...R, method: 'get', path: '/router/authorities/:parent_id/routes/:id', summary: 'Show a route', access: 'viewer', params: RouteParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: routeJson(await routeOr404(em, params)) }),
});

const updateRoute = defineRoute<BaseDeps, RouteParams, Nothing, z.infer<typeof RoutePatch>>({
  ...R, method: 'put', path: '/router/authorities/:parent_id/routes/:id', summary: 'Update a route (the fields given)', access: 'admin', params: RouteParams, body: RoutePatch,
  async handle({ params, body }, { em }) {
    const authority = await authorityOr404(em, params.parent_id);
    const route = await routeOr404(em, params);
    const next = { hostname: body.hostname ?? route.hostname, port: body.port ?? route.port };
    await checkFree(em.find(RouterRouteSchema, { $and: [{ authority_id: authority.id }, sameHost<RouterRoute>(next)] }), 'Route', route.id);
    const { secure_connection, weight, state } = body;
    Object.assign(route, next, definedFields({ secure_connection, weight, state }));
    authority.updated_at = new Date();
    await flushOr409(em, 'Route');
    return { status: 204, location: `/router/authorities/${authority.id}/routes/${route.id}` };
  },
});

/** Declared before `…/routes/:id`, which would read `clear` as a bad id. */
const clearRoutes = defineRoute<BaseDeps, ParentParams>({
  ...R, method: 'delete', path: '/router/authorities/:parent_id/routes/clear', summary: 'Delete every route of an authority', access: 'admin', params: ParentParams,
  async handle({ params }, { em }) {
    const authority = await authorityOr404(em, params.parent_id);
    await em.nativeDelete(RouterRouteSchema, { authority_id: authority.id });
    authority.updated_at = new Date();
    await em.flush();
    return { status: 204 };
  },
});

const deleteRoute = defineRoute<BaseDeps, RouteParams>({
  ...R, method: 'delete', path: '/router/authorities/:parent_id/routes/:id', summary: 'Delete a route', access: 'admin', params: RouteParams,
  async handle({ params }, { em }) {
    const authority = await authorityOr404(em, params.parent_id);
    const route = await routeOr404(em, params);
    await em.nativeDelete(RouterRouteSchema, { id: route.id });
    authority.updated_at = new Date();
    await em.flush();
    return { status: 204 };
  },
});

/** Literal segments (`detailed`, `clear`, `deleted`) come before the `:id` they would otherwise match. */
export const routerRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [
  routeMap, deletedFeed, listAuthorities, listDetailed, showAuthority, showDetailed, createAuthority, updateAuthority, deleteAuthority,
  listRoutes, createRoute, showRoute, updateRoute, clearRoutes, deleteRoute,
];
