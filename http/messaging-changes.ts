/**
 * `messaging_changed` from the Manager (issue 19 item 1): once a change of the messaging tables has committed, one
 * broadcast into every exchange, so every process reading its metadata from the Manager reads it again at once
 * instead of at its next periodic refresh. Sent after the answer, and never failing it: the change is committed,
 * and a process the broadcast misses still has its period.
 */
import type { BaseDeps } from './app.js';
import { MessagingExchangeSchema } from '../entities/messaging.js';
import { messageOf } from '../runtime/core/errors.js';
import { MESSAGING_CHANGED, MESSAGING_CHANGED_QUEUE, type MessagingChanged } from '../runtime/messaging/messaging-changed.js';

/**
 * Publishes `messaging_changed` into every exchange now in the tables, through this process's transport as it routes
 * now (where the processes of an exchange listen until they have moved). An exchange created by the change has no
 * process yet; one it deleted has none to tell.
 */
export async function announceMessagingChange(deps: Pick<BaseDeps, 'db' | 'transport' | 'log'>, change: string): Promise<void> {
  const exchanges = await deps.db.fork().find(MessagingExchangeSchema, {}, { fields: ['id'], orderBy: { id: 'asc' } });
  const payload: MessagingChanged = { change };
  const sent = await Promise.allSettled(
    exchanges.map(({ id }) => deps.transport.publish({ exchangeId: id, queue: MESSAGING_CHANGED_QUEUE }, MESSAGING_CHANGED, payload, { broadcast: true })),
  );
  const failed = sent.flatMap((r, i) => (r.status === 'rejected' ? [{ exchangeId: exchanges[i]?.id, reason: messageOf(r.reason) }] : []));
  if (failed.length > 0) deps.log.warn({ change, failed }, 'messaging_changed did not reach every exchange; those processes see the change at their next refresh');
  else deps.log.debug({ change, exchanges: exchanges.length }, 'messaging_changed sent');
}
