import type { OrchestrationRequest } from '../messages.js';
import { isWorkerMilestone } from './dispatch.js';
import { instantOf } from './durations.js';
import { savedFields } from './saved.js';
import type { RunningState, Transition, WorkflowEvent, WorkflowState } from './state.js';
import { dispatchTo, draftOf, enterNext, fail, say, timeoutText } from './steps.js';
import { notificationPrefix } from '../../shared/milestone-report.js';

/**
 * The workflow state machine (reference §5.3-§5.4, design §7): `advance(state, event, now) -> {next, effects}`.
 * Pure: the shell draws ids and reads the clock, then saves, publishes and arms timers as the effects say.
 */

const stay = (state: WorkflowState, reason: string): Transition => ({ next: state, effects: [{ type: 'ignore', reason }] });
const over = (state: WorkflowState, reason: string): Transition => ({ next: state, effects: [{ type: 'ignore', reason }, { type: 'finish' }] });

/** The request of a first pass, with the original's defaults (reference §5.3 step 1). */
function started(request: OrchestrationRequest, now: number): OrchestrationRequest {
  return {
    ...request,
    workflow_start_time: instantOf(request.workflow_start_time) === undefined ? new Date(now).toISOString() : request.workflow_start_time,
    workflow_completed: false,
    workflow_error: false,
    event_log: request.event_log ?? [],
  };
}

/** Whether a worker's callback is about the dispatch running now: same milestone, same dispatch id. */
function isCurrent(state: RunningState, callback: OrchestrationRequest): boolean {
  return callback.dispatch_id === state.run.dispatchId && callback.current_step === state.run.milestone;
}

/** The worker's request becomes the workflow's (the message is the source of truth, reference §5.2). */
const merged = (state: RunningState, callback: OrchestrationRequest): OrchestrationRequest => ({
  ...callback,
  event_log: callback.event_log ?? state.request.event_log ?? [],
  workflow_start_time: callback.workflow_start_time ?? state.request.workflow_start_time ?? null,
  step_time: callback.step_time ?? state.request.step_time ?? null,
});

function onCallback(state: RunningState, event: Extract<WorkflowEvent, { type: 'step_completed' | 'step_failed' }>, now: number): Transition {
  if (!isCurrent(state, event.request)) {
    return stay(state, `callback for ${event.request.current_step ?? 'no milestone'} (dispatch ${event.request.dispatch_id ?? 'none'}) is not the running dispatch (${state.run.milestone}, ${state.run.dispatchId})`);
  }
  const d = draftOf(merged(state, event.request), state.run, state.settings, now);
  if (event.type === 'step_failed') return fail(d, event.request.failure_reason || 'Milestone worker has reported a failure');
  // A worker of the original's kind marks the workflow failed itself instead of sending step_failed.
  if (event.request.workflow_error === true) return fail(d, 'Milestone worker has reported a failure');
  return enterNext(d, state.run.index, event.freshId);
}

function onRunning(state: RunningState, event: WorkflowEvent, now: number): Transition {
  const { run } = state;
  const d = draftOf(state.request, run, state.settings, now);
  switch (event.type) {
    case 'execute':
      return stay(state, 'the workflow is already running');
    case 'step_completed':
    case 'step_failed':
      return onCallback(state, event, now);
    case 'target':
      if (event.dispatchId !== run.dispatchId || run.confirmed) return stay(state, `target for dispatch ${event.dispatchId} is not needed`);
      return dispatchTo(d, run, event.target);
    case 'confirmed':
      if (event.dispatchId !== run.dispatchId || run.confirmed) return stay(state, `confirmation of dispatch ${event.dispatchId} is not needed`);
      d.run = { ...run, confirmed: true };
      return { next: { ...state, run: d.run }, effects: [{ type: 'save', fields: savedFields(d, now) }] };
    case 'deadline':
      if (event.dispatchId !== run.dispatchId || !isWorkerMilestone(run.milestone) || run.deadlineAt === null) return stay(state, 'deadline of an earlier dispatch');
      // A timer may fire early when the delay was longer than a timer can wait: wait again.
      if (now < run.deadlineAt) return { next: state, effects: [{ type: 'arm', timer: 'deadline', dispatchId: run.dispatchId, at: run.deadlineAt }] };
      return fail(d, `milestone ${run.milestone} timed out after ${timeoutText(state.settings, run.milestone)}`);
    case 'wake':
      if (event.dispatchId !== run.dispatchId || run.wakeAt === null) return stay(state, 'wake-up of an earlier wait');
      if (now < run.wakeAt) return { next: state, effects: [{ type: 'arm', timer: 'wake', dispatchId: run.dispatchId, at: run.wakeAt }] };
      say(d, true, 'Workflow is now scheduled to start');
      return enterNext(d, run.index, event.freshId);
    case 'cancel': {
      // Ours has every line this workflow wrote; the Manager's adds its cancel line, unless a save of ours that was
      // already on its way landed after the Manager's write and took it out: then the line is written again here.
      const mine = d.request.event_log ?? [];
      const merged = [...mine, ...(event.eventLog ?? []).filter((line) => !mine.includes(line))];
      const cancelLine = `${notificationPrefix(d.request)} Workflow has been cancelled.  Reason:  ${event.reason}`;
      d.request = { ...d.request, event_log: merged.includes(cancelLine) ? merged : [...merged, cancelLine] };
      return fail(d, event.reason);
    }
  }
}

export function advance(state: WorkflowState, event: WorkflowEvent, now: number): Transition {
  switch (state.phase) {
    case 'running':
      return onRunning(state, event, now);
    case 'new':
      if (event.type !== 'execute') return over(state, `${event.type} for a workflow that has not started`);
      return enterNext(draftOf(started(event.request, now), null, state.settings, now), -1, event.freshId);
    case 'done':
      return over(state, `${event.type} for a workflow that has completed`);
    case 'unknown':
      return { next: state, effects: [{ type: 'reject', reason: 'the Manager has no such workflow' }, { type: 'finish' }] };
  }
}
