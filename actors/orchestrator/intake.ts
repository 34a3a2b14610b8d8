/** What the Orchestrator consumes (reference §1.6, §5): `workflow_orchestration`, per workflow. */
import { decodeInbox, workflowIdOf } from './core/inbox.js';
import { WORKFLOW_ORCHESTRATION_QUEUE, type OrchestratorInbox } from './messages.js';
import { intake, type QueueTopic } from '../../runtime/messaging/intake.js';

export interface OrchestratorProtocol {
  /** A message of `workflow_orchestration`, for the actor of its workflow. */
  deliver: QueueTopic<OrchestratorInbox>;
  /** How many workflow actors run. */
  status: { msg: void; reply: { readonly workflows: number } };
}

/** Workflows advanced at once by one Orchestrator. */
const WORKFLOWS_AT_ONCE = 64;
/** A transition is a save and a publish, or the start of a workflow's actor (it reads the workflow first). */
const DELIVERY_TIMEOUT_MS = 60_000;

/** Messages of one workflow one after another, in its own lane; messages of different workflows side by side. */
export const ORCHESTRATOR_INTAKE = [
  intake({
    queue: WORKFLOW_ORCHESTRATION_QUEUE,
    topic: 'deliver',
    decode: decodeInbox,
    concurrency: { perKey: workflowIdOf, max: WORKFLOWS_AT_ONCE },
    timeoutMs: DELIVERY_TIMEOUT_MS,
  }),
];
