import type { ChatSettings } from './config.js';
import { noRecipientReason, partitionAddresses } from './core/addresses.js';
import { chatText } from './core/chat-payload.js';
import { messageIdHeader } from './core/message-id.js';
import { deliveryOutcome } from './core/outcome.js';
import type { RetryPolicy } from './core/retry.js';
import { roomsFor } from './core/rooms.js';
import { deliverToEach } from './delivery.js';
import type { ChatRequested, EmailRequested } from './messages.js';
import type { ChatDriver, Mailer } from './ports.js';
import type { Logger } from '../../runtime/logger.js';
import type { Outcome } from '../../runtime/messaging/transport.js';

export interface SendDeps {
  readonly policy: RetryPolicy;
  readonly log: Logger;
}

const NO_CHAT_SERVICE = 'no chat service is configured (OA_CHAT_WEBHOOKS or HIPCHAT_AUTH_TOKENS)';

/**
 * A chat message with nowhere to go, logged (one line per message) and acked. Deliberate, as the README says: a
 * channel nobody configured is no failure a replay would mend, and every workflow sends a dozen of them (issue 14).
 */
function logInstead(request: ChatRequested, why: string, log: Logger): Outcome {
  const { is_success, prefix, room_names } = request;
  log.info({ is_success, prefix, room_names: room_names ?? [], text: chatText(request) }, `chat message not sent: ${why}`);
  return { type: 'ack' };
}

/** A `notifications_hipchat` message to each of its rooms (core/rooms.ts), each retried on its own. */
export async function sendChat(request: ChatRequested, deps: SendDeps & { readonly chat: ChatDriver | null; readonly settings: ChatSettings }): Promise<Outcome> {
  const { chat } = deps;
  if (chat === null) return logInstead(request, NO_CHAT_SERVICE, deps.log);
  const rooms = roomsFor(request.room_names, deps.settings.defaultRoom);
  if (!rooms.ok) return logInstead(request, rooms.reason, deps.log);
  const report = await deliverToEach({ targets: rooms.rooms, send: (room) => chat.send(room, request), policy: deps.policy, log: deps.log });
  if (report.delivered.length > 0) deps.log.info({ rooms: report.delivered, driver: deps.settings.driver }, 'chat message delivered');
  return deliveryOutcome('chat message', report.delivered, report.failures);
}

/**
 * A `notifications_email` message: subject = prefix, plain-text body = message (reference §9.1), Message-ID made from
 * the message's id. Addresses the pattern refuses, or the server refuses while taking others, are logged; with none
 * left, the message dead-letters.
 */
export async function sendEmail(message: { readonly id: string; readonly payload: EmailRequested }, deps: SendDeps & { readonly mailer: Mailer | null }): Promise<Outcome> {
  const request = message.payload;
  const recipients = partitionAddresses(request.notifications.email_addresses);
  if (recipients.invalid.length > 0) deps.log.warn({ invalid: recipients.invalid, subject: request.prefix }, 'e-mail addresses refused: not sent to them');
  if (recipients.valid.length === 0) return { type: 'dead-letter', reason: noRecipientReason(recipients) };
  const { mailer } = deps;
  if (mailer === null) return { type: 'dead-letter', reason: `e-mail is not configured (SMTP_URI is not set): not sent to ${recipients.valid.join(', ')}` };
  const mail = { to: recipients.valid, subject: request.prefix, text: request.message, messageId: messageIdHeader(message.id) };
  const send = async () => {
    const { rejected } = await mailer.send(mail);
    if (rejected.length > 0) deps.log.warn({ rejected, subject: mail.subject }, 'the SMTP server refused some recipients: not sent to them');
  };
  const report = await deliverToEach({ targets: [mailer.label], send, policy: deps.policy, log: deps.log });
  if (report.delivered.length > 0) deps.log.info({ to: mail.to, subject: mail.subject }, 'e-mail sent');
  return deliveryOutcome(`e-mail to ${mail.to.join(', ')}`, report.delivered, report.failures);
}
