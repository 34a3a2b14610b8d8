import { isActorUnavailable } from '../../runtime/actors/errors.js';
import type { ActorHandle, SupervisorRef } from '../../runtime/actors/protocol.js';
import { sleep } from '../../runtime/core/promises.js';
import type { Outcome } from '../../runtime/messaging/transport.js';
import type { OrchestratorInbox } from './messages.js';
import type { WorkflowPorts } from './ports.js';
import workflowActor, { type WorkflowProtocol } from './workflow.actor.js';

/** How long a message waits for its workflow's actor to be available (starting, restarting, being replaced). */
const ROUTE_WAIT_MS = 30_000;
const ROUTE_POLL_MS = 10;

/**
 * Routes messages by workflow id to the workflow's actor (design §7), starting it when there is none: a transient,
 * in-memory child of the workflow supervisor. Messages of one workflow run one at a time in its actor's mailbox;
 * messages of different workflows run side by side.
 */
export class WorkflowRouter {
  private readonly handles = new Map<string, ActorHandle<WorkflowProtocol>>();
  private readonly starting = new Map<string, Promise<ActorHandle<WorkflowProtocol>>>();
  private readonly ports: WorkflowPorts;

  constructor(
    private readonly supervisor: SupervisorRef,
    portsWith: (finished: (workflowId: string) => void) => WorkflowPorts,
  ) {
    this.ports = portsWith((id) => this.handles.delete(id));
  }

  /** Workflow actors running. */
  get size(): number {
    return this.handles.size;
  }

  /** Hands `msg` to its workflow's actor; the reply is the delivery's outcome. */
  async deliver(workflowId: string, msg: OrchestratorInbox): Promise<Outcome> {
    const deadline = Date.now() + ROUTE_WAIT_MS;
    for (let lastError: unknown; ; await sleep(ROUTE_POLL_MS)) {
      if (Date.now() > deadline) throw new Error(`no actor of workflow ${workflowId} became available within ${ROUTE_WAIT_MS} ms`, { cause: lastError });
      let handle: ActorHandle<WorkflowProtocol>;
      try {
        handle = await this.ensure(workflowId);
      } catch (err) {
        // Most likely the previous actor of this workflow is still being removed.
        lastError = err;
        continue;
      }
      try {
        const reply = await handle.ask('event', msg);
        if (reply.type !== 'finished') return reply;
      } catch (err) {
        if (!isActorUnavailable(err)) throw err;
        lastError = err;
      }
      if (handle.status === 'stopped' && this.handles.get(workflowId) === handle) this.handles.delete(workflowId);
    }
  }

  /** Starts the workflow's actor unless it runs (resume); it adopts what the Manager has. */
  async adopt(workflowId: string): Promise<void> {
    await this.ensure(workflowId);
  }

  private ensure(workflowId: string): Promise<ActorHandle<WorkflowProtocol>> {
    const running = this.handles.get(workflowId);
    if (running !== undefined) return Promise.resolve(running);
    let started = this.starting.get(workflowId);
    if (started === undefined) {
      started = this.supervisor
        .startChild({ name: workflowId, actor: workflowActor, args: { workflowId, ports: this.ports }, mode: 'in-memory', restart: 'transient' })
        .then((handle) => {
          this.handles.set(workflowId, handle);
          return handle;
        })
        .finally(() => this.starting.delete(workflowId));
      this.starting.set(workflowId, started);
    }
    return started;
  }
}
