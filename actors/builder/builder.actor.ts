/**
 * The Builder (reference §1.7, §6), one or more per exchange: runs the config and build milestones it finds on its
 * exchange's `builder` queue, up to `buildsAtOnce` side by side, each in its own workspace, and acknowledges each once
 * it is reported (intake.ts). A request its workflow no longer waits for is dropped (shared/dispatch.ts).
 */
import { hostname } from 'node:os';
import { ManagerExchanges } from './build-logs.js';
import type { BuilderArgs } from './config.js';
import type { BuilderDeps } from './deps.js';
import type { BuilderProtocol } from './intake.js';
import { runMilestone } from './milestone.js';
import { DispatchGate } from '../shared/dispatch.js';
import { managerClient } from '../../http/client/manager-client.js';
import { gitProcess } from '../../runtime/git/git-process.js';
import { defineActor } from '../../runtime/actors/protocol.js';

export default defineActor<BuilderProtocol, BuilderArgs>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const log = ctx.log.child({ exchangeId: args.exchangeId });
  const manager = managerClient({ ...args.manager, log });
  const now = () => new Date();
  const exchanges = new ManagerExchanges({ transport: ctx.transport, manager, log, refreshMs: args.logExchangesRefreshMs, now: () => Date.now() });
  const git = gitProcess();
  const deps: BuilderDeps = { args, transport: ctx.transport, manager, log, exchanges, git, hostname: hostname(), now, random: Math.random };
  const gate = new DispatchGate({ manager, log });
  log.info({ tmpDir: args.tmpDir, cancelPollMs: args.cancelPollMs, buildsAtOnce: args.buildsAtOnce }, 'Builder started');
  return {
    handlers: {
      async milestone(delivered) {
        await gate.run(delivered, (rerun) => runMilestone(deps, delivered.payload, rerun));
        return { type: 'ack' };
      },
    },
    stop: () => git.stop(),
  };
});
