/**
 * The Router (issue 15, the original's Router, reference §1.14): owns one HAProxy in master-worker mode and makes it
 * serve the Manager's authorities and routes. A timer message re-reads them every ROUTER_RESYNC_MS; a Manager outage
 * is logged and the proxy serves on what it had. When HAProxy dies unasked the actor crashes, and its restart rebuilds
 * the proxy from the Manager. Without a haproxy executable it stays idle, says so once, and refuses requests. It
 * refuses to start on a ROUTER_DIR another live router process holds (lock.ts).
 */
import type { RouterArgs } from './config.js';
import { routeCountOf } from './core/routing-model.js';
import { RouterIdleError } from './errors.js';
import type { RouterProtocol, RouterRequest } from './intake.js';
import { lockRouterDir } from './lock.js';
import type { RouteSource } from './ports.js';
import { Router } from './router.js';
import { isManagerUnavailableError, managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { Outcome } from '../../runtime/messaging/transport.js';

// Patient enough for a Manager restart's blip, short of the resync period: the next resync asks again anyway.
const MANAGER_RETRY = { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 500 };
const MANAGER_TIMEOUT_MS = 5_000;

/** What the Router tells itself: the Manager's routes are due to be read again. */
export type RouterInfo = { resync: Record<string, never> };

export default defineActor<RouterProtocol, RouterArgs, RouterInfo>(import.meta.url, async (ctx) => {
  const { args, log } = ctx;
  const { haproxy } = args;
  if ('missing' in haproxy) {
    log.error({ variable: 'ROUTER_HAPROXY_BINARY' }, `router idle, serving no routes: ${haproxy.missing}`);
    const idle = new RouterIdleError(haproxy.missing);
    return { handlers: { request: () => ({ type: 'dead-letter', reason: idle.message }) } };
  }
  const unlock = await lockRouterDir(args.dir);
  const source: RouteSource = managerClient({ ...args.manager, log, retry: MANAGER_RETRY, timeoutMs: MANAGER_TIMEOUT_MS }).router;
  const router = new Router({
    source,
    haproxy: { binary: haproxy.binary, dir: args.dir, settings: args.settings },
    log,
    onProxyExit: (err) => ctx.fail(err),
  });
  ctx.self.tell('resync', {});
  log.info({ dir: args.dir, binary: haproxy.binary, bindAddress: args.settings.bindAddress, resyncMs: args.resyncMs }, 'Router started');

  async function answer(request: RouterRequest): Promise<Outcome> {
    if (request.kind === 'drain') return { type: 'ack', reply: await router.drain(request) };
    if (request.kind === 'counters') return { type: 'ack', reply: await router.counters(request) };
    const { model, problems } = await router.sync();
    return { type: 'ack', reply: { authorities: model.authorities.length, routes: routeCountOf(model), problems } };
  }

  /**
   * A failed request goes back to its caller as a refusal with the reason, never as a crash: a crash would stop the
   * proxy under every route. Tried once more when the failure may pass (the Manager away, a reload that did not take).
   */
  async function answerOrRefuse(request: RouterRequest): Promise<Outcome> {
    try {
      return await answer(request);
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      log.warn({ err, request: request.kind }, 'router request failed');
      return (err as { retryable?: unknown }).retryable === true ? { type: 'retry', reason } : { type: 'dead-letter', reason };
    }
  }

  return {
    handlers: {
      request: ({ payload }) => answerOrRefuse(payload),
    },
    info: {
      async resync() {
        try {
          await router.sync();
        } catch (err) {
          if (isManagerUnavailableError(err)) log.warn({ reason: err.message }, 'routes not read: the Manager is unavailable; the proxy serves the last routes it had');
          else log.warn({ err }, 'routes not applied; the next resync tries again');
        }
        ctx.sendAfter(args.resyncMs, 'resync', {});
      },
    },
    async stop() {
      await router.stop();
      await unlock();
    },
  };
});
