import type { z } from 'zod';
import { ChatRequested, EmailRequested, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE } from './messages.js';
import type { QueueRoute } from '../../runtime/messaging/actor-consumer.js';
import type { Decoded } from '../../runtime/messaging/transport.js';

/** Checks a payload at the edge (style R6); a refused one dead-letters with the fields that are wrong. */
function decodeWith<S extends z.ZodType>(schema: S): (payload: unknown) => Decoded<z.infer<S>> {
  return (payload) => {
    const parsed = schema.safeParse(payload);
    if (parsed.success) return { ok: true, value: parsed.data };
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ') };
  };
}

/**
 * How long the consumer waits for the actor to settle one delivery. Why: a delivery retries with backoff inside the
 * handler and the actor's mailbox is serial, so with the process's ask timeout (30 s) a delivery queued behind slow
 * ones would time out while its e-mail is still being sent, and the requeued message would go out twice. So one
 * delivery per queue is in the actor at a time (`maxInFlight: 1`), waiting at most for one of the other queue, and
 * config.ts keeps two worst-case deliveries below this timeout.
 */
export const NOTIFICATIONS_ASK_TIMEOUT_MS = 120_000;

const intake = { maxInFlight: 1, askTimeoutMs: NOTIFICATIONS_ASK_TIMEOUT_MS };

/** The queues of reference §1.12, each into its topic of the Notifications actor. */
export const NOTIFICATIONS_ROUTES = [
  { queue: NOTIFICATIONS_CHAT_QUEUE, topic: 'chat', decode: decodeWith(ChatRequested), ...intake } satisfies QueueRoute<ChatRequested>,
  { queue: NOTIFICATIONS_EMAIL_QUEUE, topic: 'email', decode: decodeWith(EmailRequested), ...intake } satisfies QueueRoute<EmailRequested>,
];
