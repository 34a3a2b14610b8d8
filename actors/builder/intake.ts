/** What the Builder consumes (reference §1.16): milestone requests on `builder`, one at a time per Builder. */
import { MAX_MILESTONE_SECONDS } from './config.js';
import { BUILDER_QUEUE, MILESTONE_REQUESTED, OrchestrationRequest } from '../orchestrator/messages.js';
import type { QueueRoute, QueueTopic } from '../../runtime/messaging/actor-consumer.js';
import type { Decoded } from '../../runtime/messaging/transport.js';

export interface BuilderProtocol {
  milestone: QueueTopic<OrchestrationRequest>;
}

function decodeRequest(payload: unknown, type: string): Decoded<OrchestrationRequest> {
  if (type !== MILESTONE_REQUESTED) return { ok: false, reason: `unexpected message type ${JSON.stringify(type)} (expected ${MILESTONE_REQUESTED})` };
  const parsed = OrchestrationRequest.safeParse(payload);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ') };
}

/**
 * A milestone runs for minutes and is acknowledged only when it is over, so a crash never loses it: one delivery at
 * a time (the others wait with the broker, for this Builder or another), allowed to run as long as a milestone may.
 */
export const BUILDER_ROUTES: ReadonlyArray<QueueRoute<unknown>> = [
  { queue: BUILDER_QUEUE, topic: 'milestone', decode: decodeRequest, maxInFlight: 1, askTimeoutMs: (MAX_MILESTONE_SECONDS + 10 * 60) * 1_000 },
];
