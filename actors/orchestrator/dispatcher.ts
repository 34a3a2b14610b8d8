import { isActorUnavailable } from '../../runtime/actors/errors.js';
import type { DynamicSupervisorRef } from '../../runtime/actors/protocol.js';
import type { Outcome } from '../../runtime/messaging/transport.js';
import type { OrchestratorInbox } from './messages.js';
import type { WorkflowArgs, WorkflowProtocol } from './workflow.actor.js';

/** How long a message waits for its workflow's actor to run again (restarting after a crash). */
const RESTART_WAIT_MS = 30_000;
/** Tries to hand a message to its workflow's actor: the actor may be over (a new one adopts) or restarting. */
const MAX_ATTEMPTS = 5;

/**
 * Hands messages by workflow id to the workflow's actor (design §7), started when there is none: a transient,
 * in-memory child of the workflow supervisor. Messages of one workflow run one at a time (the intake's per-workflow
 * lane and the actor's mailbox); messages of different workflows run side by side.
 */
export class WorkflowDispatcher {
  constructor(private readonly workflows: DynamicSupervisorRef<WorkflowProtocol, WorkflowArgs>) {}

  /** Workflow actors running. */
  get size(): number {
    return this.workflows.size;
  }

  /** The delivery's outcome, from the workflow's actor. */
  async deliver(workflowId: string, msg: OrchestratorInbox): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      const handle = await this.workflows.ensure(workflowId, { workflowId });
      try {
        const reply = await handle.ask('event', msg);
        // `finished`: that actor was over before the message's turn came; the next one adopts what the Manager has.
        if (reply.type !== 'finished') return reply;
      } catch (err) {
        if (!isActorUnavailable(err) || attempt >= MAX_ATTEMPTS) throw err;
        await handle.whenRunning(RESTART_WAIT_MS).catch(() => undefined);
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`workflow ${workflowId}: no actor took the message in ${MAX_ATTEMPTS} tries`);
    }
  }

  /** Starts the workflow's actor unless it runs (resume); it adopts what the Manager has. */
  async adopt(workflowId: string): Promise<void> {
    await this.workflows.ensure(workflowId, { workflowId });
  }
}
