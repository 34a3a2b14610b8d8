import { CHAT_REQUESTED, EMAIL_REQUESTED, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE } from '../notifications/messages.js';
import { Mailbox } from '../../runtime/actors/mailbox.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { Outcome } from '../../runtime/messaging/transport.js';
import { advance } from './core/machine.js';
import { adopt } from './core/persisted.js';
import type { Effect, WorkflowEvent, WorkflowState } from './core/state.js';
import { CANCEL_REQUESTED, EXECUTE_REQUESTED, MILESTONE_REQUESTED, STEP_COMPLETED, type OrchestratorInbox } from './messages.js';
import type { WorkflowPorts } from './ports.js';

/**
 * One running workflow (design §7): a transient in-memory child of the orchestrator's workflow supervisor. It owns
 * the workflow's state, applies the machine (core/machine.ts) and carries out its effects in order, so every
 * transition is saved before anything is dispatched. Its timers (deadline, `scheduled`) feed the same serial queue
 * as its messages. On start, and on a restart after a crash, it adopts what the Manager has.
 */

export interface WorkflowArgs {
  readonly workflowId: string;
  /** The orchestrator's ports, by reference: workflow actors always run in the orchestrator's process (in-memory). */
  readonly ports: WorkflowPorts;
}

/** The delivery's outcome, or `finished`: this actor was over before the message's turn came; route it again. */
export type WorkflowReply = Outcome | { readonly type: 'finished' };

export type WorkflowProtocol = {
  /** A message of `workflow_orchestration` about this workflow. */
  event: { msg: OrchestratorInbox; reply: WorkflowReply };
};

/** setTimeout's longest wait; a later deadline fires early and the machine arms it again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export default defineActor<WorkflowProtocol, WorkflowArgs>(import.meta.url, async (ctx) => {
  const { ports, workflowId } = ctx.args;
  // The shared logger, the id in each line: a child logger per workflow costs memory ten thousand times over.
  const { log } = ports;
  const serial = new Mailbox();
  const timers = new Map<'deadline' | 'wake', NodeJS.Timeout>();
  let state: WorkflowState = { phase: 'new', settings: ports.settings };
  let finished = false;

  function disarm(): void {
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  }

  function arm(effect: Extract<Effect, { type: 'arm' }>): void {
    clearTimeout(timers.get(effect.timer));
    const event: WorkflowEvent =
      effect.timer === 'deadline' ? { type: 'deadline', dispatchId: effect.dispatchId } : { type: 'wake', dispatchId: effect.dispatchId, freshId: ports.newId() };
    const delayMs = Math.min(Math.max(effect.at - ports.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      timers.delete(effect.timer);
      // A timer is not a message: nobody waits for it, so a failure to apply it crashes the actor (and it resumes).
      Promise.resolve(serial.run(() => apply(event))).catch((err: unknown) => ctx.fail(err instanceof Error ? err : new Error(String(err))));
    }, delayMs);
    timers.set(effect.timer, timer);
  }

  /** Carries out one effect; what it feeds back (a target, a confirmation) is applied before the next one. */
  async function perform(effect: Effect): Promise<Outcome | undefined> {
    switch (effect.type) {
      case 'notify':
        await ports.publish({ exchangeId: effect.exchangeId, queue: NOTIFICATIONS_CHAT_QUEUE }, CHAT_REQUESTED, effect.chat);
        return undefined;
      case 'save':
        await ports.save(workflowId, effect.fields);
        return undefined;
      case 'resolve':
        return apply({ type: 'target', dispatchId: effect.dispatchId, target: await ports.resolve(effect.milestone, currentRequest()) });
      case 'publish':
        await ports.publish(effect.to, MILESTONE_REQUESTED, effect.request);
        log.info({ workflowId, milestone: effect.request.current_step, to: effect.to, dispatchId: effect.request.dispatch_id }, 'milestone dispatched');
        return apply({ type: 'confirmed', dispatchId: effect.request.dispatch_id ?? '' });
      case 'arm':
        arm(effect);
        return undefined;
      case 'disarm':
        disarm();
        return undefined;
      case 'email':
        log.info({ workflowId, recipients: effect.email.notifications.email_addresses.length }, 'Sending :on_workflow_completed email notification');
        await ports.publish({ exchangeId: effect.exchangeId, queue: NOTIFICATIONS_EMAIL_QUEUE }, EMAIL_REQUESTED, effect.email);
        return undefined;
      case 'ignore':
        log.info({ workflowId, reason: effect.reason }, 'message ignored');
        return undefined;
      case 'reject':
        return { type: 'dead-letter', reason: `workflow ${workflowId}: ${effect.reason}` };
      case 'finish':
        finish();
        return undefined;
    }
  }

  function currentRequest() {
    if (state.phase !== 'running') throw new Error(`workflow ${workflowId} has no running milestone to resolve`);
    return state.request;
  }

  function finish(): void {
    if (finished) return;
    finished = true;
    disarm();
    ports.finished(workflowId);
    ctx.exit();
  }

  async function performAll(effects: readonly Effect[]): Promise<Outcome> {
    let outcome: Outcome = { type: 'ack' };
    for (const effect of effects) outcome = (await perform(effect)) ?? outcome;
    return outcome;
  }

  async function apply(event: WorkflowEvent): Promise<Outcome> {
    const { next, effects } = advance(state, event, ports.now());
    state = next;
    return performAll(effects);
  }

  async function eventOf(msg: OrchestratorInbox): Promise<WorkflowEvent> {
    switch (msg.type) {
      case EXECUTE_REQUESTED:
        return { type: 'execute', request: msg.payload, freshId: ports.newId() };
      case STEP_COMPLETED:
        return { type: 'step_completed', request: msg.payload, freshId: ports.newId() };
      case CANCEL_REQUESTED: {
        // The Manager wrote its cancel line into the event log: keep it in what is saved next.
        const row = state.phase === 'running' ? await ports.load(workflowId) : undefined;
        return { type: 'cancel', reason: msg.payload.reason, eventLog: row?.event_log ?? null };
      }
      default:
        return { type: 'step_failed', request: msg.payload };
    }
  }

  const adopted = adopt(await ports.load(workflowId), ports.settings, ports.now());
  state = adopted.next;
  await performAll(adopted.effects);

  return {
    handlers: {
      event: (msg) =>
        serial.run(async () => {
          if (finished) return { type: 'finished' } as const;
          return apply(await eventOf(msg));
        }),
    },
    stop: () => {
      disarm();
    },
  };
});
