import { ChatRequested, EmailRequested, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE } from './messages.js';
import { decodeWith, intake } from '../../runtime/messaging/intake.js';

/**
 * How long one delivery may be in the actor. Why: a delivery retries with backoff inside the handler and both queues
 * are serial in the actor's one lane, so a delivery may wait for one of the other queue; config.ts keeps two
 * worst-case deliveries below this timeout, so a requeued message never goes out twice.
 */
export const NOTIFICATIONS_ASK_TIMEOUT_MS = 120_000;

/** The queues of reference §1.12, each into its topic of the Notifications actor. */
export const NOTIFICATIONS_INTAKE = [
  intake({ queue: NOTIFICATIONS_CHAT_QUEUE, topic: 'chat', decode: decodeWith(ChatRequested), concurrency: 'serial', timeoutMs: NOTIFICATIONS_ASK_TIMEOUT_MS }),
  intake({ queue: NOTIFICATIONS_EMAIL_QUEUE, topic: 'email', decode: decodeWith(EmailRequested), concurrency: 'serial', timeoutMs: NOTIFICATIONS_ASK_TIMEOUT_MS }),
];
