import type { EntityManager } from '@mikro-orm/core';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import Koa from 'koa';
import compose from 'koa-compose';
import type { Database } from './database.js';
import { bearerToken, roleAllows, type Principal, type TokenIssuer } from './auth.js';
import { errorReply, ForbiddenError, UnauthorizedError } from './errors.js';
import { documentRoute, parsePart, type AnyRoute, type Call, type RouteResult } from './route.js';
import { AuditEventSchema } from '../entities/auth.js';
import type { Logger } from '../runtime/logger.js';
import type { Transport } from '../runtime/messaging/transport.js';

/** What every route may reach; route groups extend it with what they need (secrets, a publisher...). */
export interface BaseDeps {
  readonly db: Database;
  readonly tokens: TokenIssuer;
  readonly log: Logger;
  /** The Manager's messaging: it publishes to the orchestrator, the Overseer, and asks FleetManagers (RPC). */
  readonly transport: Transport;
  /** The Manager's own exchange (EXCHANGE_ID): where `workflow_orchestration` requests go (reference §3.4). */
  readonly exchangeId: number;
  /** Validators of tokens the platform did not issue (tokeninfo URL, OIDC), tried after the platform's own. */
  readonly externalAuth?: (token: string, call: { em: Call<unknown>['em'] }) => Promise<Principal | undefined>;
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
      body: parsePart(route.body, (ctx.request as { body?: unknown }).body, route.item, 'body'),
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
    });
    if (route.method === 'get') {
      respond(ctx, await route.handle(input, callWith()));
      return;
    }
    // Inserted directly, in the route's transaction: no entity to track for a row nobody reads back here.
    const audit = (em: EntityManager, outcome: RouteResult) => {
      const params = input.params as Record<string, unknown>;
      const targetId = params.id ?? Object.values(params)[0] ?? ('location' in outcome && outcome.location ? outcome.location.split('/').pop() : undefined);
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
    const result = route.remote
      ? await route.handle(input, callWith()).then(async (outcome) => {
          await em().flush();
          await audit(em(), outcome);
          return outcome;
        })
      : await em().transactional(async (inTransaction) => {
          const outcome = await route.handle(input, callWith(inTransaction));
          await audit(inTransaction, outcome);
          return outcome;
        });
    respond(ctx, result);
  });
}

/** The Manager's REST API (design §6): every route, the OpenAPI document, errors as `{"errors":[{"message"}]}`. */
export function createApp<D extends BaseDeps>(deps: D, routes: ReadonlyArray<AnyRoute<D>>): Koa {
  const app = new Koa();
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
  app.use(async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { errors: [{ message: `no route for ${ctx.method} ${ctx.path}` }] };
      }
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      const reply =
        errorReply(err) ??
        (typeof status === 'number' && status >= 400 && status < 500
          ? { status, body: { errors: [{ message: status === 413 ? 'request body too large' : `invalid request: ${(err as Error).message}` }] } }
          : undefined);
      if (reply) {
        ctx.status = reply.status;
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
  app.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '1mb', formLimit: '64kb', encoding: 'utf-8' }));
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
