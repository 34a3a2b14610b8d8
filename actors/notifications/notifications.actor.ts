import { chatDriverFor } from './chat-driver.js';
import type { NotificationsArgs } from './config.js';
import { NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE, type ChatRequested, type EmailRequested } from './messages.js';
import { sendChat, sendEmail } from './send.js';
import { smtpMailer } from './smtp-mailer.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import { Once } from '../../runtime/core/once.js';
import type { Logger } from '../../runtime/logger.js';
import type { QueueTopic } from '../../runtime/messaging/intake.js';
import type { Outcome } from '../../runtime/messaging/transport.js';

/** Fed by `notifications_hipchat` and `notifications_email` (routes.ts); each delivery's reply is its Outcome. */
export interface NotificationsProtocol {
  chat: QueueTopic<ChatRequested>;
  email: QueueTopic<EmailRequested>;
}

/**
 * The Notifications component (reference §1.12, §9): chat and e-mail. Deliberate change: a failed delivery is retried
 * with backoff and then dead-lettered to `<queue>_error` with the reason; the original only logged it and acked.
 * Each message id is sent once by a process (issue 14): a copy redelivered after a lost acknowledgement, or published
 * again after a lost confirm (a broker failing over), is acked unsent for a day; a restart of the process forgets, and
 * a copy it sends again carries the same Message-ID (core/message-id.ts), so a mail store that collapses duplicates
 * shows one.
 */
export default defineActor<NotificationsProtocol, NotificationsArgs>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const timeoutMs = args.retry.attemptTimeoutMs;
  const chat = chatDriverFor(args.chat, { log: ctx.log, timeoutMs });
  const mailer = args.email ? smtpMailer(args.email, { timeoutMs }) : null;
  ctx.log.info({ chat: args.chat.driver, email: mailer?.label ?? 'not configured' }, 'Notifications ready');
  // A message is sent once per id (deliveries of both queues): a copy of one sent, or being sent, is acked unsent.
  const sent = new Once<Outcome>({ max: 100_000, ttlMs: 24 * 3_600_000, keep: (outcome) => outcome.type === 'ack' });
  const once = async (queue: string, d: { readonly id: string }, send: (log: Logger) => Promise<Outcome>): Promise<Outcome> => {
    const log = ctx.log.child({ messageId: d.id, queue });
    const { outcome, fresh } = await sent.run(d.id, () => send(log));
    if (!fresh) log.info('a copy of a message sent already (redelivered, or sent twice): not sent again');
    return fresh ? outcome : { type: 'ack' };
  };
  return {
    handlers: {
      chat: (d) => once(NOTIFICATIONS_CHAT_QUEUE, d, (log) => sendChat(d.payload, { chat, settings: args.chat, policy: args.retry, log })),
      email: (d) => once(NOTIFICATIONS_EMAIL_QUEUE, d, (log) => sendEmail(d, { mailer, policy: args.retry, log })),
    },
    stop: () => mailer?.close(),
  };
});
