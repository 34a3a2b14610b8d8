import { randomUUID } from 'node:crypto';
import { managerClient, readAllPages } from '../../http/client/manager-client.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { OrchestratorArgs } from './config.js';
import { decodeInbox, workflowIdOf } from './core/inbox.js';
import type { MachineSettings } from './core/state.js';
import { WORKFLOW_ORCHESTRATION_QUEUE } from './messages.js';
import { workflowPorts } from './ports.js';
import { WorkflowRouter } from './router.js';
import { targetResolver } from './targets.js';

/**
 * The WorkflowOrchestrator (reference §1.6, §5; design §7). It consumes `workflow_orchestration` itself, so messages
 * of different workflows are handled side by side (up to the transport's in-flight cap) while each workflow's
 * actor takes its own one at a time; a delivery is acknowledged only once its transition is saved and dispatched.
 * On start it adopts the unfinished workflows of its exchange again.
 */
export type OrchestratorProtocol = {
  /** How many workflow actors run. */
  status: { msg: void; reply: { readonly workflows: number } };
};

export type { OrchestratorArgs } from './config.js';

export default defineActor<OrchestratorProtocol, OrchestratorArgs>(import.meta.url, async (ctx) => {
  const args = ctx.args;
  const manager = managerClient({ ...args.manager, log: ctx.log });
  const settings: MachineSettings = { exchangeId: args.exchangeId, brokerId: args.brokerId, timeoutsMs: args.timeoutsMs, uiUrl: args.uiUrl };
  const supervisor = await ctx.supervise({
    strategy: 'one_for_one',
    // A workflow actor that crashes resumes from the Manager; only a storm of crashes restarts the orchestrator.
    intensity: { maxRestarts: 100, withinMs: 10_000 },
    backoff: { initialMs: 100, maxMs: 5_000, factor: 2 },
    children: [],
  });
  const resolve = targetResolver({ manager, exchangeId: args.exchangeId, now: Date.now, pick: (count) => Math.floor(Math.random() * count) });
  const router = new WorkflowRouter(supervisor, (finished) =>
    workflowPorts({ settings, log: ctx.log, manager, transport: ctx.transport, resolve, newId: randomUUID, now: Date.now, finished }),
  );
  const subscription = await ctx.transport.consume({
    queue: WORKFLOW_ORCHESTRATION_QUEUE,
    decode: decodeInbox,
    handle: (msg) => router.deliver(workflowIdOf(msg), msg),
  });

  async function resume(): Promise<void> {
    const rows = await readAllPages((w) => manager.workflows.list({ ...w, running: true, orchestrator_exchange_id: args.exchangeId, lookback: 0 }));
    for (const row of rows) await router.adopt(row.id);
    ctx.log.info({ workflows: rows.length }, 'adopted the unfinished workflows of this exchange');
  }
  // In the background: messages for workflows not yet adopted start their actors themselves.
  resume().catch((err: unknown) => ctx.fail(new Error('resuming unfinished workflows failed', { cause: err })));

  return {
    handlers: { status: () => ({ workflows: router.size }) },
    async stop() {
      await subscription.cancel();
    },
  };
});
