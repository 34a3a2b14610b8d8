/**
 * The Builder (reference §1.7, §6), one or more per exchange: runs the config and build milestones it finds on its
 * exchange's `builder` queue, one at a time, and acknowledges each once it is reported (intake.ts).
 */
import { hostname } from 'node:os';
import { ManagerExchanges } from './build-logs.js';
import type { BuilderArgs } from './config.js';
import type { BuilderDeps } from './deps.js';
import type { BuilderProtocol } from './intake.js';
import { runMilestone } from './milestone.js';
import { managerClient } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';

export default defineActor<BuilderProtocol, BuilderArgs>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const log = ctx.log.child({ exchangeId: args.exchangeId });
  const manager = managerClient({ ...args.manager, log });
  const now = () => new Date();
  const exchanges = new ManagerExchanges({ transport: ctx.transport, manager, log, refreshMs: args.logExchangesRefreshMs, now: () => Date.now() });
  const deps: BuilderDeps = { args, transport: ctx.transport, manager, log, exchanges, hostname: hostname(), now, random: Math.random };
  log.info({ tmpDir: args.tmpDir, cancelPollMs: args.cancelPollMs }, 'Builder started');
  return {
    handlers: {
      async milestone({ payload }) {
        await runMilestone(deps, payload);
        return { type: 'ack' };
      },
    },
  };
});
