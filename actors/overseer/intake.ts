/** What the Overseer consumes (reference §1.11): heartbeats on `system_modules`, upgrade requests on `overseer`. */
import { OVERSEER_QUEUE, UPGRADE_REQUESTED, UpgradeRequested } from './messages.js';
import { decodeWith, intake, type QueueTopic } from '../../runtime/messaging/intake.js';
import { HeartbeatPayload, MODULE_STATUS_REPORTED, SYSTEM_MODULES_QUEUE } from '../../runtime/messaging/core/heartbeat.js';

export interface OverseerProtocol {
  heartbeat: QueueTopic<HeartbeatPayload>;
  upgrade: QueueTopic<UpgradeRequested>;
}

/** Each is a Manager call or two: one at a time, in turn with the Overseer's timers. */
const TIMEOUT_MS = 60_000;

export const OVERSEER_INTAKE = [
  intake({ queue: SYSTEM_MODULES_QUEUE, topic: 'heartbeat', decode: decodeWith(HeartbeatPayload, MODULE_STATUS_REPORTED), concurrency: 'serial', timeoutMs: TIMEOUT_MS }),
  intake({ queue: OVERSEER_QUEUE, topic: 'upgrade', decode: decodeWith(UpgradeRequested, UPGRADE_REQUESTED), concurrency: 'serial', timeoutMs: TIMEOUT_MS }),
];
