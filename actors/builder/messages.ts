/**
 * The Builder's contract with the Manager (reference §4.8): build-log batches published to queue `build_logs` of
 * every Manager's exchange, relayed live by each Manager instance at `GET /workflows/:id/build_logs`.
 */
import { z } from 'zod';

export const BUILD_LOGS_QUEUE = 'build_logs';
/** Envelope type of a batch of build-log lines. */
export const BUILD_LOGS_PUBLISHED = 'build.logs_published';

export const BuildLogs = z.strictObject({
  workflow_id: z.uuid(),
  logs: z.array(z.string()),
});
export type BuildLogs = z.infer<typeof BuildLogs>;
