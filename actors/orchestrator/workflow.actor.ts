import { CHAT_REQUESTED, completionEmailId, EMAIL_REQUESTED, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE } from '../notifications/messages.js';
import { defineActor, type ActorContext, type Timer } from '../../runtime/actors/protocol.js';
import type { Outcome } from '../../runtime/messaging/transport.js';
import { advance } from './core/machine.js';
import { milestoneEnded } from './core/milestone-end.js';
import { adopt } from './core/persisted.js';
import type { Effect, WorkflowEvent, WorkflowState } from './core/state.js';
import { CANCEL_REQUESTED, EXECUTE_REQUESTED, MILESTONE_REQUESTED, STEP_COMPLETED, type OrchestratorInbox } from './messages.js';
import type { WorkflowPorts } from './ports.js';

/**
 * One running workflow (design §7): a transient in-memory child of the orchestrator's workflow supervisor. It owns
 * the workflow's state, applies the machine (core/machine.ts) and carries out its effects in order, so every
 * transition is saved before anything is dispatched. Its timers (deadline, `scheduled`) are messages to itself
 * (`ctx.sendAfter`), in turn with its other messages. On start, and on a restart after a crash, it adopts what the
 * Manager has. Its I/O is the orchestrator's, shared by every workflow: its capabilities (ports.ts).
 */

export interface WorkflowArgs {
  readonly workflowId: string;
}

/** The delivery's outcome, or `finished`: this actor was over before the message's turn came; route it again. */
export type WorkflowReply = Outcome | { readonly type: 'finished' };

export type WorkflowProtocol = {
  /** A message of `workflow_orchestration` about this workflow. */
  event: { msg: OrchestratorInbox; reply: WorkflowReply };
};

type TimerName = Extract<Effect, { type: 'arm' }>['timer'];

/** What the workflow tells itself: one of its timers fired (a milestone's deadline, a `scheduled` wake-up). */
type WorkflowInfo = { timer: { readonly timer: TimerName; readonly dispatchId: string } };

/**
 * A workflow's state and what it does with it. A class, not closures: ten thousand of these share their methods and
 * their shape, which closures per workflow would not.
 */
class WorkflowRun {
  private readonly timers = new Map<TimerName, Timer>();
  private state: WorkflowState;
  finished = false;

  constructor(
    private readonly ctx: ActorContext<WorkflowArgs, WorkflowInfo, WorkflowPorts>,
    private readonly ports: WorkflowPorts,
    private readonly workflowId: string,
  ) {
    this.state = { phase: 'new', settings: ports.settings };
  }

  /** On start, and on a restart after a crash: what the Manager has. */
  async adopt(): Promise<void> {
    const adopted = adopt(await this.ports.load(this.workflowId), this.ports.settings, this.ctx.now());
    this.state = adopted.next;
    await this.performAll(adopted.effects);
  }

  async event(msg: OrchestratorInbox): Promise<WorkflowReply> {
    if (this.finished) return { type: 'finished' };
    return this.apply(await this.eventOf(msg));
  }

  /** A timer's event; the machine checks its dispatch id, so a timer of an earlier milestone changes nothing. */
  async timer(timer: TimerName, dispatchId: string): Promise<void> {
    if (this.finished) return;
    await this.apply(timer === 'deadline' ? { type: 'deadline', dispatchId } : { type: 'wake', dispatchId, freshId: this.ports.newId() });
  }

  private disarm(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  private arm(effect: Extract<Effect, { type: 'arm' }>): void {
    this.timers.get(effect.timer)?.cancel();
    this.timers.set(effect.timer, this.ctx.sendAfter(effect.at - this.ctx.now(), 'timer', { timer: effect.timer, dispatchId: effect.dispatchId }));
  }

  /** Carries out one effect; what it feeds back (a target, a confirmation) is applied before the next one. */
  private async perform(effect: Effect): Promise<Outcome | undefined> {
    const { ports, workflowId } = this;
    // The shared logger, the id in each line: a child logger per workflow costs memory ten thousand times over.
    const { log } = ports;
    switch (effect.type) {
      case 'notify':
        await ports.publish({ exchangeId: effect.exchangeId, queue: NOTIFICATIONS_CHAT_QUEUE }, CHAT_REQUESTED, effect.chat);
        return undefined;
      case 'save':
        await ports.save(workflowId, effect.fields);
        return undefined;
      case 'resolve':
        return this.apply({ type: 'target', dispatchId: effect.dispatchId, target: await ports.resolve(effect.milestone, this.currentRequest()) });
      case 'publish':
        await ports.publish(effect.to, MILESTONE_REQUESTED, effect.request);
        log.info({ workflowId, milestone: effect.request.current_step, to: effect.to, dispatchId: effect.request.dispatch_id }, 'milestone dispatched');
        return this.apply({ type: 'confirmed', dispatchId: effect.request.dispatch_id ?? '' });
      case 'arm':
        this.arm(effect);
        return undefined;
      case 'disarm':
        this.disarm();
        return undefined;
      case 'email':
        log.info({ workflowId, recipients: effect.email.notifications.email_addresses.length }, 'Sending :on_workflow_completed email notification');
        // Its id names the workflow's completion: Notifications drops a second one (a final transition run again).
        await ports.publish({ exchangeId: effect.exchangeId, queue: NOTIFICATIONS_EMAIL_QUEUE }, EMAIL_REQUESTED, effect.email, { messageId: completionEmailId(workflowId) });
        return undefined;
      case 'ignore':
        log.info({ workflowId, reason: effect.reason }, 'message ignored');
        return undefined;
      case 'reject':
        return { type: 'dead-letter', reason: `workflow ${workflowId}: ${effect.reason}` };
      case 'finish':
        this.finish();
        return undefined;
    }
  }

  private currentRequest() {
    if (this.state.phase !== 'running') throw new Error(`workflow ${this.workflowId} has no running milestone to resolve`);
    return this.state.request;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.disarm();
    this.ctx.exit();
  }

  private async performAll(effects: readonly Effect[]): Promise<Outcome> {
    let outcome: Outcome = { type: 'ack' };
    for (const effect of effects) outcome = (await this.perform(effect)) ?? outcome;
    return outcome;
  }

  private async apply(event: WorkflowEvent): Promise<Outcome> {
    const now = this.ctx.now();
    const { next, effects } = advance(this.state, event, now);
    const ended = milestoneEnded(this.state, next, event, now);
    if (ended !== undefined) this.ctx.metrics?.milestoneEnded(ended);
    this.state = next;
    return this.performAll(effects);
  }

  private async eventOf(msg: OrchestratorInbox): Promise<WorkflowEvent> {
    switch (msg.type) {
      case EXECUTE_REQUESTED:
        return { type: 'execute', request: msg.payload, freshId: this.ports.newId() };
      case STEP_COMPLETED:
        return { type: 'step_completed', request: msg.payload, freshId: this.ports.newId() };
      case CANCEL_REQUESTED: {
        // The Manager wrote its cancel line into the event log: keep it in what is saved next.
        const row = this.state.phase === 'running' ? await this.ports.load(this.workflowId) : undefined;
        return { type: 'cancel', reason: msg.payload.reason, eventLog: row?.event_log ?? null };
      }
      default:
        return { type: 'step_failed', request: msg.payload };
    }
  }
}

export default defineActor<WorkflowProtocol, WorkflowArgs, WorkflowInfo, WorkflowPorts>(import.meta.url, async (ctx) => {
  const run = new WorkflowRun(ctx, ctx.capabilities, ctx.args.workflowId);
  await run.adopt();
  return {
    handlers: { event: (msg) => run.event(msg) },
    // Nobody waits for a timer: a failure to apply it crashes the actor, which then resumes from the Manager.
    info: { timer: ({ timer, dispatchId }) => run.timer(timer, dispatchId) },
  };
});
