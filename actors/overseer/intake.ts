/** What the Overseer consumes (reference §1.11): heartbeats on `system_modules`, upgrade requests on `overseer`. */
import { OVERSEER_QUEUE, UPGRADE_REQUESTED, UpgradeRequested } from './messages.js';
import type { QueueRoute, QueueTopic } from '../../runtime/messaging/actor-consumer.js';
import { HeartbeatPayload, MODULE_STATUS_REPORTED, SYSTEM_MODULES_QUEUE } from '../../runtime/messaging/core/heartbeat.js';
import type { Decoded } from '../../runtime/messaging/transport.js';
import type { z } from 'zod';

export interface OverseerProtocol {
  heartbeat: QueueTopic<HeartbeatPayload>;
  upgrade: QueueTopic<UpgradeRequested>;
}

/** A decoder that checks the envelope type and the payload; every problem is the dead letter's reason. */
function decoder<S extends z.ZodType>(type: string, schema: S): (payload: unknown, got: string) => Decoded<z.infer<S>> {
  return (payload, got) => {
    if (got !== type) return { ok: false, reason: `unexpected message type ${JSON.stringify(got)} (expected ${type})` };
    const parsed = schema.safeParse(payload);
    if (parsed.success) return { ok: true, value: parsed.data };
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ') };
  };
}

export const OVERSEER_ROUTES: ReadonlyArray<QueueRoute<unknown>> = [
  { queue: SYSTEM_MODULES_QUEUE, topic: 'heartbeat', decode: decoder(MODULE_STATUS_REPORTED, HeartbeatPayload) },
  { queue: OVERSEER_QUEUE, topic: 'upgrade', decode: decoder(UPGRADE_REQUESTED, UpgradeRequested) },
];
