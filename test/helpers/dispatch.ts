/** What the orchestrator saves before it dispatches a milestone, for suites that play the orchestrator. */
import { randomUUID } from 'node:crypto';

/** The workflow fields saying that it waits for dispatch `dispatchId` of `milestone` (actors/shared/dispatch.ts). */
export function awaiting(milestone: string, dispatchId: string = randomUUID()): { current_step: string; orchestration: Record<string, unknown> } {
  return {
    current_step: milestone,
    orchestration: { run: { milestone, index: 0, dispatchId, confirmed: true, deadlineAt: null, wakeAt: null }, request: {} },
  };
}
