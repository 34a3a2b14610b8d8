/**
 * The Overseer (reference §1.11, §8), one per exchange: keeps the module registry of its exchange (heartbeats in,
 * silent modules aged out), watches the exchange's clusters through the FleetManager, and upgrades the exchange's
 * system components through workflows. Each duty runs from a timer; the handlers only answer deliveries.
 */
import { ClusterMonitor } from './clusters.js';
import type { OverseerArgs } from './config.js';
import type { OverseerDeps } from './deps.js';
import type { OverseerProtocol } from './intake.js';
import { recordHeartbeat, sweepModules } from './modules.js';
import { Timers } from './timers.js';
import { Upgrades } from './upgrades.js';
import { isManagerApiError, managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { Outcome } from '../../runtime/messaging/transport.js';

/** A refusal by the Manager will not change on redelivery: the message goes to `<queue>_error` with the reason. */
function outcomeOfFailure(err: unknown): Outcome {
  if (isManagerApiError(err) && !err.retryable) return { type: 'dead-letter', reason: err.message };
  throw err;
}

export default defineActor<OverseerProtocol, OverseerArgs>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const log = ctx.log.child({ exchangeId: args.exchangeId });
  const client = managerClient({ ...args.manager, log });
  const deps: OverseerDeps = { args, client, transport: ctx.transport, log, now: () => new Date(), random: Math.random };
  const timers = new Timers(log);
  const upgrades = new Upgrades(deps);
  const clusters = new ClusterMonitor(deps, timers);

  timers.every(args.modules.sweepPeriodMs, 'module ageing', () => sweepModules(deps));
  timers.every(args.clusters.periodMs, 'cluster monitor', () => clusters.pass());
  // At once: upgrades in progress when the Overseer (re)starts are followed again without waiting a period.
  timers.every(args.upgrades.monitorPeriodMs, 'upgrade monitor', () => upgrades.monitor(), { immediately: true });
  timers.every(args.upgrades.componentsPollMs, 'hourly upgrades', () => upgrades.schedule(timers), { immediately: true });
  log.info({ modules: args.modules, clusters: args.clusters, upgrades: args.upgrades }, 'Overseer started');

  return {
    handlers: {
      async heartbeat({ payload }) {
        try {
          await recordHeartbeat(deps, payload);
          return { type: 'ack' };
        } catch (err) {
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
    stop: () => timers.stop(),
  };
});
