import { z } from 'zod';
import { OrchestrationRequest } from '../messages.js';
import { elapsedSince } from './durations.js';
import type { MachineSettings, Run, SavedFields } from './state.js';

/**
 * What the orchestrator persists through the Manager on every transition (issue 5 item 2): the original's columns
 * (reference §5.3 step 2), plus the run and the request in `orchestration`, so a restarted orchestrator can adopt the
 * workflow again. The request's event log is the `event_log` column, not repeated there.
 */

const RunSchema = z.strictObject({
  milestone: z.string(),
  index: z.number().int().nonnegative(),
  dispatchId: z.string().min(1),
  confirmed: z.boolean(),
  deadlineAt: z.number().nullable(),
  wakeAt: z.number().nullable(),
});
export const PersistedOrchestration = z.strictObject({ run: RunSchema.nullable(), request: OrchestrationRequest.omit({ event_log: true }) });

export function savedFields(s: { readonly request: OrchestrationRequest; readonly run: Run | null; readonly settings: MachineSettings }, now: number): SavedFields {
  const { event_log, ...request } = s.request;
  return {
    ...(request.source_repo_git_ref !== undefined ? { source_repo_git_ref: request.source_repo_git_ref } : {}),
    ...(request.source_commit_hash !== undefined ? { source_commit_hash: request.source_commit_hash } : {}),
    current_step: request.current_step ?? null,
    elapsed_step_time: elapsedSince(request.step_time, now),
    elapsed_workflow_time: elapsedSince(request.workflow_start_time, now),
    workflow_duration: request.workflow_duration ?? null,
    workflow_step_durations: request.workflow_step_durations ?? {},
    ...(request.workflow_completed === true ? { workflow_completed: true, workflow_error: request.workflow_error === true } : {}),
    event_log: event_log ?? [],
    orchestrator_exchange_id: s.settings.exchangeId,
    orchestration: { run: s.run, request },
  };
}
