/** What the Builder consumes (reference §1.16): milestone requests on `builder`. */
import { MAX_MILESTONE_SECONDS, type BuilderArgs } from './config.js';
import { BUILDER_QUEUE, MILESTONE_REQUESTED, OrchestrationRequest } from '../orchestrator/messages.js';
import { decodeWith, intake, type AnyIntake, type QueueTopic } from '../../runtime/messaging/intake.js';

export interface BuilderProtocol {
  milestone: QueueTopic<OrchestrationRequest>;
}

/**
 * A milestone runs for minutes and is acknowledged only when it is over, so a crash never loses it: up to
 * `buildsAtOnce` deliveries at a time (the others wait with the broker, for this Builder or another), each allowed to
 * run as long as a milestone may.
 */
export function builderIntake(args: Pick<BuilderArgs, 'buildsAtOnce'>): AnyIntake[] {
  return [
    intake({
      queue: BUILDER_QUEUE,
      topic: 'milestone',
      decode: decodeWith(OrchestrationRequest, MILESTONE_REQUESTED),
      concurrency: args.buildsAtOnce === 1 ? 'serial' : { parallel: args.buildsAtOnce },
      timeoutMs: (MAX_MILESTONE_SECONDS + 10 * 60) * 1_000,
    }),
  ];
}
