import type { EntityManager } from '@mikro-orm/core';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import Koa from 'koa';
import compose from 'koa-compose';
import { transactionFailure, type Database } from './database.js';
import { bearerToken, roleAllows, type Principal, type TokenIssuer } from './auth.js';
import { errorReply, ForbiddenError, RequestBodyError, UnauthorizedError } from './errors.js';
import { documentRoute, parsePart, type AnyRoute, type Call, type RouteResult } from './route.js';
import { AuditEventSchema } from '../entities/auth.js';
import type { Logger } from '../runtime/logger.js';
import type { Messaging } from '../runtime/messaging/transport.js';
import type { BuildLogRelay } from './build-log-relay.js';
import { mountDocs } from './docs.js';
import { observeRequests } from './metrics.js';
import type { ProcessMetrics } from '../runtime/metrics/process-metrics.js';

/** What every route may reach; route groups extend it with what they need (secrets, a publisher...). */
export interface BaseDeps {
  readonly db: Database;
  readonly tokens: TokenIssuer;
  readonly log: Logger;
  /** The Manager's messaging: it publishes to the orchestrator, the Overseer, and asks FleetManagers (RPC). */
  readonly transport: Messaging;
  /** The live build logs this Manager relays (its `build_logs` intake); absent without messaging (503). */
  readonly buildLogs?: BuildLogRelay;
  /** The Manager's own exchange (EXCHANGE_ID): where `workflow_orchestration` requests go (reference §3.4). */
  readonly exchangeId: number;
  /** Validators of tokens the platform did not issue (tokeninfo URL, OIDC), tried after the platform's own. */
  readonly externalAuth?: (token: string, call: { em: Call<unknown>['em'] }) => Promise<Principal | undefined>;
  /** The process's registry: every answer is recorded there, and `GET /metrics` serves it. */
  readonly metrics?: ProcessMetrics;
}

/** Body keys whose values never reach the audit trail or a log. */
const SECRET_KEY = /pass(word)?|secret|private|ssh_key|token|credential/i;

/** A copy without secrets: values of secret-looking keys, and the `value` of anything marked `private: true`. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 64) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const isPrivate = (value as { private?: unknown }).private === true;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) || (isPrivate && k === 'value') ? '[secret]' : redactSecrets(v, depth + 1)]),
  );
}

async function authenticate<D extends BaseDeps>(deps: D, header: string | undefined, em: () => EntityManager): Promise<Principal> {
  const token = bearerToken(header);
  if (token === undefined) throw new UnauthorizedError('no bearer token');
  const principal = (await deps.tokens.verify(token)) ?? (await deps.externalAuth?.(token, { em: em() }));
  if (principal === undefined) throw new UnauthorizedError('token not valid');
  return principal;
}

/**
 * Sent on every answer (README "Limits"): the API is JSON for programs, never a page to frame, sniff or cache. No
 * CORS header is sent: browsers on other origins cannot call the API.
 */
const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cache-Control': 'no-store',
} as const;

/** How long the Manager's server waits for a request's headers, and for the whole request (README "Limits"). */
export const REQUEST_DEADLINES_MS = { headers: 10_000, request: 30_000 } as const;

/** The largest body each class of route reads, after decompression (README "Limits"). */
export const BODY_LIMITS = { public: '16kb', authenticated: '1mb' } as const;

/** What reading a body failed on, as the client's problem: 413 and 415 as the reader says, anything else a 400. */
function bodyError(err: Error & { status?: unknown; code?: unknown }, ctx: Koa.Context, limit: string): RequestBodyError {
  if (err.status === 413) return new RequestBodyError(413, `request body larger than ${limit}`);
  if (err.status === 415) return new RequestBodyError(415, err.message);
  const encoding = ctx.get('content-encoding');
  // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR...): the body is not what its Content-Encoding says.
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) return new RequestBodyError(400, `request body is not valid ${encoding}`);
  return new RequestBodyError(400, `request body cannot be read: ${err.message}`);
}

/** Reads a route's JSON or form body, only once its caller may call it (no body work for anonymous garbage). */
function bodyReader(limit: string): (ctx: Koa.Context) => Promise<unknown> {
  const parse = bodyParser({
    enableTypes: ['json', 'form'],
    jsonLimit: limit,
    formLimit: limit,
    encoding: 'utf-8',
    onError: (err, ctx) => {
      throw bodyError(err, ctx as Koa.Context, limit);
    },
  });
  return async (ctx) => {
    const hasContent = ctx.get('transfer-encoding') !== '' || (ctx.request.length ?? 0) > 0;
    if (hasContent && ctx.is('json', 'urlencoded') === false) throw new RequestBodyError(415, `Content-Type ${ctx.get('content-type')} is not served: send application/json`);
    await parse(ctx, async () => undefined);
    return (ctx.request as { body?: unknown }).body;
  };
}

function respond(ctx: Koa.Context, result: RouteResult): void {
  ctx.status = result.status;
  if ('stream' in result) {
    // Live: no idle timeout on the socket, nothing cached or buffered on the way; Koa destroys the stream on close.
    ctx.req.socket.setTimeout(0);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.type = result.contentType;
    ctx.body = result.stream;
    return;
  }
  if ('text' in result) {
    ctx.type = result.contentType;
    ctx.body = result.text;
    return;
  }
  if ('location' in result && result.location !== undefined) ctx.set('Location', result.location);
  if ('total' in result && result.total !== undefined) ctx.set('X-Total-Count', String(result.total));
  if (!('body' in result) || result.body === undefined) {
    // An empty body, not Koa's default text ("Created"), for a 201 that says it all in Location.
    if (result.status !== 204) ctx.body = '';
    return;
  }
  // Always JSON, a bare string too (the original answers `""` and `"Registered id 3"`).
  ctx.type = 'application/json';
  ctx.body = typeof result.body === 'string' ? JSON.stringify(result.body) : result.body;
}

function mount<D extends BaseDeps>(router: Router, deps: D, route: AnyRoute<D>): void {
  const readBody = route.body === undefined ? async () => undefined : bodyReader(route.access === 'public' ? BODY_LIMITS.public : BODY_LIMITS.authenticated);
  router[route.method](route.path, async (ctx) => {
    // The unit of work and the route's logger are made when first used: the busiest reads need neither.
    let fork: EntityManager | undefined;
    const em = () => (fork ??= deps.db.fork());
    let routeLog: Logger | undefined;
    const principal: Principal =
      route.access === 'public' ? { subject: 'anonymous', role: 'viewer', kind: 'client' } : await authenticate(deps, ctx.get('authorization') || undefined, em);
    if (route.access !== 'public' && !roleAllows(principal.role, route.access)) {
      throw new ForbiddenError(`role ${principal.role} may not ${route.summary.toLowerCase()} (needs ${route.access})`);
    }
    const input = {
      params: parsePart(route.params, ctx.params, route.item, 'params'),
      query: parsePart(route.query, ctx.query, route.item, 'query'),
      body: parsePart(route.body, await readBody(ctx), route.item, 'body'),
    };
    const callWith = (transactional?: EntityManager): Call<D> => ({
      get em() {
        return transactional ?? em();
      },
      get log() {
        return (routeLog ??= deps.log.child({ route: `${route.method.toUpperCase()} ${route.path}`, subject: principal.subject }));
      },
      principal,
      deps,
      address: ctx.request.socket.remoteAddress ?? 'unknown',
    });
    if (route.method === 'get') {
      respond(ctx, await route.handle(input, callWith()));
      return;
    }
    const targetOf = (outcome: RouteResult): unknown => {
      const params = input.params as Record<string, unknown>;
      return params.id ?? Object.values(params)[0] ?? ('location' in outcome && outcome.location ? outcome.location.split('/').pop() : undefined);
    };
    // Inserted directly, in the route's transaction: no entity to track for a row nobody reads back here.
    const audit = (em: EntityManager, outcome: RouteResult) => {
      const targetId = targetOf(outcome);
      return em.insert(AuditEventSchema, {
        actor: principal.subject,
        actor_role: principal.role,
        action: `${route.method.toUpperCase()} ${route.path}`,
        target_type: route.item,
        target_id: targetId === undefined ? null : String(targetId),
        diff: input.body === undefined ? null : JSON.stringify(redactSecrets(input.body)),
        inserted_at: new Date(),
      });
    };
    // A change another component makes (a restart through the FleetManager) holds no transaction while it waits:
    // that component calls back into the Manager, and the embedded database has one connection. Audited after.
    const result = route.transaction === false
      ? await route.handle(input, callWith()).then(async (outcome) => {
          await em().flush();
          await audit(em(), outcome);
          return outcome;
        })
      : await em().transactional(async (inTransaction) => {
          try {
            const outcome = await route.handle(input, callWith(inTransaction));
            await audit(inTransaction, outcome);
            return outcome;
          } catch (err) {
            throw await transactionFailure(inTransaction, err);
          }
        });
    respond(ctx, result);
    if (route.afterCommit) {
      const change = `${route.method.toUpperCase()} ${route.path} ${String(targetOf(result) ?? '')}`.trim();
      void route.afterCommit(deps, change).catch((err: unknown) => deps.log.warn({ err, change }, 'after-commit step failed'));
    }
  });
}

/** The Manager's REST API (design §6): every route, the OpenAPI document, errors as `{"errors":[{"message"}]}`. */
export function createApp<D extends BaseDeps>(deps: D, routes: ReadonlyArray<AnyRoute<D>>): Koa {
  const app = new Koa();
  if (deps.metrics) app.use(observeRequests(deps.metrics));
  // One router per first path segment (`workflows`, `clusters`, ...): a router tries every one of its routes on every
  // request, and with all of them in one router matching cost more than the rest of a `GET /workflows/:id`.
  const routers = new Map<string, Router>();
  const routerOf = (path: string): Router => {
    const segment = firstSegment(path);
    const existing = routers.get(segment);
    if (existing) return existing;
    const created = new Router();
    routers.set(segment, created);
    return created;
  };
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const route of routes) {
    mount(routerOf(route.path), deps, route);
    documentRoute(registry, route);
  }
  routerOf('/openapi.json').get('/openapi.json', (ctx) => {
    ctx.body = new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title: 'OpenAperture Manager', version: '1' },
    });
  });
  mountDocs(routerOf('/docs'));
  app.use(async (ctx, next) => {
    ctx.set(SECURITY_HEADERS);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { errors: [{ message: `no route for ${ctx.method} ${ctx.path}` }] };
      }
      // The router's 405 (a path served for other methods): JSON naming them, e.g. the POST of a restart asked by GET.
      if (ctx.status === 405) ctx.body = { errors: [{ message: `${ctx.method} ${ctx.path} is not served: use ${ctx.response.get('allow')}` }] };
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      const reply =
        errorReply(err) ??
        (typeof status === 'number' && status >= 400 && status < 500
          ? { status, body: { errors: [{ message: status === 413 ? 'request body too large' : `invalid request: ${(err as Error).message}` }] } }
          : undefined);
      if (reply) {
        ctx.status = reply.status;
        if ('retryAfterSeconds' in reply && reply.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(reply.retryAfterSeconds));
        ctx.body = reply.body;
        return;
      }
      deps.log.error({ err, method: ctx.method, path: ctx.path }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { errors: [{ message: 'An unexpected error occured' }] };
    }
  });
  // Instead of Koa's console output: a client leaving a live stream (build logs) is how such a stream ends, not an error.
  app.on('error', (err: Error & { code?: string }) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') deps.log.error({ err }, 'response failed');
  });
  const dispatch = new Map([...routers].map(([segment, router]) => [segment, compose<Koa.ParameterizedContext>([router.routes() as Koa.Middleware, router.allowedMethods() as Koa.Middleware])]));
  app.use((ctx, next) => (dispatch.get(firstSegment(ctx.path)) ?? passOn)(ctx, next));
  return app;
}

const passOn: Koa.Middleware = (_ctx, next) => next();

/** `workflows` of `/workflows/:id`; a route's first segment is always literal. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}
