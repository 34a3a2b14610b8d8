import { MILESTONE_REQUESTED, OrchestrationRequest } from '../orchestrator/messages.js';
import type { Decoded } from '../../runtime/messaging/transport.js';

/** What the Deployer runs: the `deploy` and `deploy_oa` milestones (reference §5.4). */
const DEPLOY_STEPS = new Set(['deploy', 'deploy_oa']);

/** Checks a delivery at the edge (style R6): a refused one dead-letters with the reason. */
export function decodeMilestone(payload: unknown, type: string): Decoded<OrchestrationRequest> {
  if (type !== MILESTONE_REQUESTED) return { ok: false, reason: `type ${type}: the Deployer takes only ${MILESTONE_REQUESTED}` };
  const parsed = OrchestrationRequest.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ') };
  const step = parsed.data.current_step;
  if (!step || !DEPLOY_STEPS.has(step)) return { ok: false, reason: `current_step: the Deployer runs deploy or deploy_oa, not ${JSON.stringify(step ?? null)}` };
  return { ok: true, value: parsed.data };
}
