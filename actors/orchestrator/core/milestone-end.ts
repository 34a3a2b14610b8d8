import type { MilestoneEnd } from '../../../runtime/metrics/process-metrics.js';
import { instantOf } from './durations.js';
import type { WorkflowEvent, WorkflowState } from './state.js';

/** How the event that ended a milestone ended it; undefined for events that never end one. */
function outcomeOf(event: WorkflowEvent): MilestoneEnd['outcome'] | undefined {
  switch (event.type) {
    case 'step_completed':
    case 'wake':
      return 'succeeded';
    case 'step_failed':
    case 'target':
      return 'failed';
    case 'deadline':
      return 'timed_out';
    case 'cancel':
      return 'cancelled';
    case 'execute':
    case 'confirmed':
      return undefined;
  }
}

/**
 * The milestone a transition finished (`openaperture_milestone_duration_seconds`): the one running before `event`
 * when, after it, the workflow runs another position of its list or runs no more. Its length is from the request's
 * `step_time` (when it started) to `now`; a run without one is not measured.
 */
export function milestoneEnded(before: WorkflowState, after: WorkflowState, event: WorkflowEvent, now: number): MilestoneEnd | undefined {
  if (before.phase !== 'running') return undefined;
  if (after.phase === 'running' && after.run.index === before.run.index) return undefined;
  const outcome = outcomeOf(event);
  const startedAt = instantOf(before.request.step_time);
  if (outcome === undefined || startedAt === undefined) return undefined;
  return { milestone: before.run.milestone, outcome, seconds: Math.max(0, now - startedAt) / 1_000 };
}
