/** What the Deployer consumes: the `deploy` and `deploy_oa` milestones (reference §5.4), on `deployer` or `deploy_oa`. */
import { MILESTONE_REQUESTED, OrchestrationRequest } from '../orchestrator/messages.js';
import { decodeWith, intake, type AnyIntake, type QueueTopic } from '../../runtime/messaging/intake.js';
import type { Decoded } from '../../runtime/messaging/transport.js';

export interface DeployerProtocol {
  milestone: QueueTopic<OrchestrationRequest>;
  /** Its queue and the clusters it is deploying to now. */
  status: { msg: void; reply: { readonly queue: string; readonly deploying: readonly string[] } };
}

const DEPLOY_STEPS = new Set(['deploy', 'deploy_oa']);
const decodeRequest = decodeWith(OrchestrationRequest, MILESTONE_REQUESTED);

/** Checks a delivery at the edge (style R6): a refused one dead-letters with the reason. */
export function decodeMilestone(payload: unknown, type: string): Decoded<OrchestrationRequest> {
  const decoded = decodeRequest(payload, type);
  if (!decoded.ok) return decoded;
  const step = decoded.value.current_step;
  if (!step || !DEPLOY_STEPS.has(step)) return { ok: false, reason: `current_step: the Deployer runs deploy or deploy_oa, not ${JSON.stringify(step ?? null)}` };
  return decoded;
}

/** The cluster a deploy goes to: deploys to one cluster run one after another (they allocate its ports). */
export const clusterOf = (request: OrchestrationRequest): string => (request.etcd_token ?? '').toLowerCase();

/** A rolling deploy runs for minutes and its message stays unacked until the end (reference §7.1). */
const DEPLOY_TIMEOUT_MS = 3 * 60 * 60 * 1_000;
/** Clusters deployed to at once by one Deployer. */
const CLUSTERS_AT_ONCE = 10;

/** Deploys to one cluster one after another, to different clusters side by side. */
export function deployerIntake(queue: string): AnyIntake[] {
  return [
    intake({ queue, topic: 'milestone', decode: decodeMilestone, concurrency: { perKey: clusterOf, max: CLUSTERS_AT_ONCE }, timeoutMs: DEPLOY_TIMEOUT_MS }),
  ];
}
