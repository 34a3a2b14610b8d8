import type { z } from 'zod';
import { isWorkerMilestone } from './dispatch.js';
import { PersistedOrchestration } from './saved.js';
import type { MachineSettings, RunningState, Transition } from './state.js';
import { draftOf, requestWorker, say } from './steps.js';

/**
 * Adopting a workflow again from what the Manager has (issue 5 item 6): deadlines re-armed, a `scheduled` wait
 * resumed, and a milestone whose request the broker never confirmed sent again with the same dispatch id.
 */

/** A workflow row as the Manager returns it: the parts adoption reads. */
export interface PersistedWorkflow {
  readonly workflow_completed: boolean | null;
  readonly event_log: readonly string[] | null;
  readonly orchestration?: unknown;
}

/** The stored `orchestration` value, or why it cannot be resumed. */
export function readOrchestration(stored: unknown): { ok: true; value: z.infer<typeof PersistedOrchestration> } | { ok: false; reason: string } {
  const parsed = PersistedOrchestration.safeParse(stored);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ') };
}

function resumeRun(state: RunningState, now: number): Transition {
  const { run } = state;
  if (run.wakeAt !== null) return { next: state, effects: [{ type: 'arm', timer: 'wake', dispatchId: run.dispatchId, at: run.wakeAt }] };
  if (!isWorkerMilestone(run.milestone)) return { next: state, effects: [{ type: 'ignore', reason: `milestone ${run.milestone} has nothing to resume` }] };
  if (run.confirmed) return { next: state, effects: [{ type: 'arm', timer: 'deadline', dispatchId: run.dispatchId, at: run.deadlineAt ?? now }] };
  // The worker's request may never have reached the broker: send it again, with the same dispatch id.
  const d = draftOf(state.request, run, state.settings, now);
  say(d, true, `Resuming Workflow Milestone:  :${run.milestone} (its request was not confirmed before the orchestrator stopped)`);
  return requestWorker(d, { ...run, milestone: run.milestone });
}

/** The state of a workflow as the Manager has it (undefined: no such row), and what resuming it takes. */
export function adopt(row: PersistedWorkflow | undefined, settings: MachineSettings, now: number): Transition {
  if (row === undefined) return { next: { phase: 'unknown', settings }, effects: [] };
  if (row.workflow_completed === true) return { next: { phase: 'done', settings }, effects: [] };
  if (row.orchestration === undefined || row.orchestration === null) return { next: { phase: 'new', settings }, effects: [] };
  const read = readOrchestration(row.orchestration);
  const run = read.ok ? read.value.run : null;
  if (!read.ok || run === null) {
    const why = read.ok ? 'no milestone was running' : read.reason;
    return { next: { phase: 'new', settings }, effects: [{ type: 'ignore', reason: `orchestration state cannot be resumed (${why})` }] };
  }
  const request = { ...read.value.request, event_log: [...(row.event_log ?? [])] };
  return resumeRun({ phase: 'running', settings, request, run }, now);
}
