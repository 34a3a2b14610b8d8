import type { z } from 'zod';
import type { Decoded } from '../../../runtime/messaging/transport.js';
import { CANCEL_REQUESTED, CancelRequested, EXECUTE_REQUESTED, OrchestrationRequest, STEP_COMPLETED, STEP_FAILED, type OrchestratorInbox } from '../messages.js';

/** What arrives on `workflow_orchestration`, checked at the edge (style R6); anything else is dead-lettered with why. */

const problemsOf = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`).join('; ');

export function decodeInbox(payload: unknown, type: string): Decoded<OrchestratorInbox> {
  switch (type) {
    case EXECUTE_REQUESTED:
    case STEP_COMPLETED:
    case STEP_FAILED: {
      const parsed = OrchestrationRequest.safeParse(payload);
      return parsed.success ? { ok: true, value: { type, payload: parsed.data } } : { ok: false, reason: problemsOf(parsed.error) };
    }
    case CANCEL_REQUESTED: {
      const parsed = CancelRequested.safeParse(payload);
      return parsed.success ? { ok: true, value: { type, payload: parsed.data } } : { ok: false, reason: problemsOf(parsed.error) };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(type)} on workflow_orchestration` };
  }
}

/** The workflow a message is about: its actor's name. */
export const workflowIdOf = (msg: OrchestratorInbox): string => (msg.type === CANCEL_REQUESTED ? msg.payload.workflow_id : msg.payload.id);
