/**
 * The Overseer (reference §1.11, §8), one per exchange: keeps the module registry of its exchange (heartbeats in,
 * silent modules aged out), watches the exchange's clusters through the FleetManager, and upgrades the exchange's
 * system components through workflows. Each duty is a timer message to itself (`ctx.sendAfter`); the handlers only
 * answer deliveries.
 */
import { ClusterMonitor, type Recheck } from './clusters.js';
import type { OverseerArgs } from './config.js';
import type { OverseerDeps } from './deps.js';
import type { OverseerProtocol } from './intake.js';
import { recordHeartbeat, sweepModules } from './modules.js';
import { Upgrades } from './upgrades.js';
import { isManagerApiError, isManagerUnavailableError, managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { Outcome } from '../../runtime/messaging/transport.js';

/** A refusal by the Manager will not change on redelivery: the message goes to `<queue>_error` with the reason. */
function outcomeOfFailure(err: unknown): Outcome {
  if (isManagerApiError(err) && !err.retryable) return { type: 'dead-letter', reason: err.message };
  throw err;
}

/** The Overseer's periodic passes. */
type Pass = 'module ageing' | 'cluster monitor' | 'upgrade monitor' | 'hourly upgrades';

/** What the Overseer tells itself: a pass is due, a cluster's failed units are due for a recheck, an hourly upgrade is due. */
export type OverseerInfo = {
  pass: { readonly pass: Pass };
  recheck: Recheck;
  hourly: { readonly componentType: string };
};

export default defineActor<OverseerProtocol, OverseerArgs, OverseerInfo>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const log = ctx.log.child({ exchangeId: args.exchangeId });
  const client = managerClient({ ...args.manager, log });
  const deps: OverseerDeps = { args, client, transport: ctx.transport, log, now: () => new Date(ctx.now()), random: Math.random };
  // Each in a lane of its own: a slow cluster pass delays neither the heartbeats nor the other passes.
  const upgrades = new Upgrades(deps, (delayMs, componentType) => ctx.sendAfter(delayMs, 'hourly', { componentType }, { lane: `hourly ${componentType}` }));
  const clusters = new ClusterMonitor(deps, (delayMs, recheck) => void ctx.sendAfter(delayMs, 'recheck', recheck, { lane: `recheck ${recheck.etcdToken}` }));
  const passes: Record<Pass, { readonly periodMs: number; readonly run: () => Promise<void> }> = {
    'module ageing': { periodMs: args.modules.sweepPeriodMs, run: () => sweepModules(deps) },
    'cluster monitor': { periodMs: args.clusters.periodMs, run: () => clusters.pass() },
    'upgrade monitor': { periodMs: args.upgrades.monitorPeriodMs, run: () => upgrades.monitor() },
    'hourly upgrades': { periodMs: args.upgrades.componentsPollMs, run: () => upgrades.schedule() },
  };
  const every = (pass: Pass, delayMs: number): void => void ctx.sendAfter(delayMs, 'pass', { pass }, { lane: pass });
  every('module ageing', args.modules.sweepPeriodMs);
  every('cluster monitor', args.clusters.periodMs);
  // At once: upgrades in progress when the Overseer (re)starts are followed again without waiting a period.
  every('upgrade monitor', 0);
  every('hourly upgrades', 0);
  log.info({ modules: args.modules, clusters: args.clusters, upgrades: args.upgrades }, 'Overseer started');

  /** A failed pass or timer is logged and the next one tries again: the Overseer's duties outlive a Manager hiccup. */
  async function attempt(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      log.warn({ err, what }, 'overseer pass failed; the next one tries again');
    }
  }

  return {
    handlers: {
      async heartbeat({ payload }) {
        try {
          await recordHeartbeat(deps, payload);
          return { type: 'ack' };
        } catch (err) {
          // A heartbeat is a snapshot the module sends again on its period: while the Manager is away (a restart) it is
          // dropped, not retried into `system_modules_error`.
          if (isManagerUnavailableError(err)) {
            log.warn({ hostname: payload.hostname, type: payload.type, reason: err.message }, 'heartbeat not recorded: the Manager is unavailable; the next one will be');
            return { type: 'ack' };
          }
          return outcomeOfFailure(err);
        }
      },
      async upgrade({ payload }) {
        const type = payload.options.component_type;
        try {
          if (await upgrades.request(type, 'requested')) return { type: 'ack' };
          return { type: 'dead-letter', reason: `exchange ${args.exchangeId} has no system component of type ${type}` };
        } catch (err) {
          return outcomeOfFailure(err);
        }
      },
    },
    info: {
      // The next pass is armed once this one is over, so two passes of a kind never overlap.
      async pass({ pass }) {
        await attempt(pass, passes[pass].run);
        every(pass, passes[pass].periodMs);
      },
      recheck: (recheck) => attempt('failed unit recheck', () => clusters.recheck(recheck)),
      hourly: ({ componentType }) => attempt('hourly upgrade', () => upgrades.hourlyDue(componentType)),
    },
  };
});
