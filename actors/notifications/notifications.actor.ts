import { chatDriverFor } from './chat-driver.js';
import type { NotificationsArgs } from './config.js';
import { NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE, type ChatRequested, type EmailRequested } from './messages.js';
import { sendChat, sendEmail } from './send.js';
import { smtpMailer } from './smtp-mailer.js';
import { defineActor } from '../../runtime/actors/protocol.js';
import type { QueueTopic } from '../../runtime/messaging/actor-consumer.js';

/** Fed by `notifications_hipchat` and `notifications_email` (routes.ts); each delivery's reply is its Outcome. */
export interface NotificationsProtocol {
  chat: QueueTopic<ChatRequested>;
  email: QueueTopic<EmailRequested>;
}

/**
 * The Notifications component (reference §1.12, §9): chat and e-mail. Deliberate change: a failed delivery is retried
 * with backoff and then dead-lettered to `<queue>_error` with the reason; the original only logged it and acked.
 */
export default defineActor<NotificationsProtocol, NotificationsArgs>(import.meta.url, (ctx) => {
  const { args } = ctx;
  const timeoutMs = args.retry.attemptTimeoutMs;
  const chat = chatDriverFor(args.chat, { log: ctx.log, timeoutMs });
  const mailer = args.email ? smtpMailer(args.email, { timeoutMs }) : null;
  ctx.log.info({ chat: args.chat.driver, email: mailer?.label ?? 'not configured' }, 'Notifications ready');
  return {
    handlers: {
      chat: (d) => sendChat(d.payload, { chat, settings: args.chat, policy: args.retry, log: ctx.log.child({ messageId: d.id, queue: NOTIFICATIONS_CHAT_QUEUE }) }),
      email: (d) => sendEmail(d.payload, { mailer, policy: args.retry, log: ctx.log.child({ messageId: d.id, queue: NOTIFICATIONS_EMAIL_QUEUE }) }),
    },
    stop: () => mailer?.close(),
  };
});
