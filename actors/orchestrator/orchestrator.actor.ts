import { randomUUID } from 'node:crypto';
import { managerClient, readAllPages } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { OrchestratorArgs } from './config.js';
import { workflowIdOf } from './core/inbox.js';
import type { MachineSettings } from './core/state.js';
import { WorkflowDispatcher } from './dispatcher.js';
import type { OrchestratorProtocol } from './intake.js';
import { workflowPorts } from './ports.js';
import { targetResolver } from './targets.js';
import workflowActor from './workflow.actor.js';

/**
 * The WorkflowOrchestrator (reference §1.6, §5; design §7). Its intake (intake.ts) hands each message of
 * `workflow_orchestration` to the actor of its workflow, workflows side by side; a delivery is acknowledged only
 * once its transition is saved and dispatched. On start it adopts the unfinished workflows of its exchange again.
 */
export type { OrchestratorProtocol } from './intake.js';
export type { OrchestratorArgs } from './config.js';

/** What the Orchestrator tells itself: adopt the unfinished workflows, once, beside its intake. */
type OrchestratorInfo = { resume: null };

/** Workflow actors started at once when the unfinished workflows are adopted. */
const ADOPT_AT_ONCE = 32;

export default defineActor<OrchestratorProtocol, OrchestratorArgs, OrchestratorInfo>(import.meta.url, async (ctx) => {
  const args = ctx.args;
  const manager = managerClient({ ...args.manager, log: ctx.log });
  const settings: MachineSettings = { exchangeId: args.exchangeId, brokerId: args.brokerId, timeoutsMs: args.timeoutsMs, uiUrl: args.uiUrl };
  const resolve = targetResolver({ manager, exchangeId: args.exchangeId, now: () => ctx.now(), pick: (count) => Math.floor(Math.random() * count) });
  const workflows = await ctx.superviseDynamic({
    child: {
      actor: workflowActor,
      mode: 'in-memory',
      restart: 'transient',
      capabilities: workflowPorts({ settings, log: ctx.log, manager, transport: ctx.transport, resolve, newId: randomUUID }),
    },
    // A workflow actor that crashes resumes from the Manager; only a storm of crashes restarts the orchestrator.
    intensity: { maxRestarts: 100, withinMs: 10_000 },
    backoff: { initialMs: 100, maxMs: 5_000, factor: 2 },
  });
  const dispatcher = new WorkflowDispatcher(workflows);
  // In its own lane: messages for workflows not yet adopted start their actors themselves meanwhile.
  ctx.self.tell('resume', null, { lane: 'resume' });

  return {
    handlers: {
      deliver: ({ payload }) => dispatcher.deliver(workflowIdOf(payload), payload),
      status: () => ({ workflows: dispatcher.size }),
    },
    info: {
      async resume() {
        try {
          const rows = await readAllPages((w) => manager.workflows.list({ ...w, running: true, orchestrator_exchange_id: args.exchangeId, lookback: 0 }));
          // Side by side, a batch at a time: each actor reads its workflow from the Manager as it starts.
          for (let at = 0; at < rows.length; at += ADOPT_AT_ONCE) await Promise.all(rows.slice(at, at + ADOPT_AT_ONCE).map((row) => dispatcher.adopt(row.id)));
          ctx.log.info({ workflows: rows.length }, 'adopted the unfinished workflows of this exchange');
        } catch (err) {
          throw new Error('resuming unfinished workflows failed', { cause: err });
        }
      },
    },
  };
});
