/** What the Manager consumes: its own copy of `build_logs` (reference §4.8), relayed live to the build-log streams. */
import type { ManagerProtocol } from './messages.js';
import { BUILD_LOGS_PUBLISHED, BUILD_LOGS_QUEUE, BuildLogs } from '../builder/messages.js';
import { decodeWith, intake, type QueueTopic } from '../../runtime/messaging/intake.js';

export type ManagerActorProtocol = ManagerProtocol & {
  /** A batch of a workflow's build log, for this instance's subscribers. */
  build_logs: QueueTopic<BuildLogs>;
};

/** In order: batches of one build must reach a stream as they were sent. */
export const MANAGER_INTAKE = [
  intake({ queue: BUILD_LOGS_QUEUE, broadcast: true, topic: 'build_logs', decode: decodeWith(BuildLogs, BUILD_LOGS_PUBLISHED), concurrency: 'serial', timeoutMs: 10_000 }),
];
