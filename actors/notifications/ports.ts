import type { ChatMessage } from './core/chat-payload.js';

/** What the Notifications shell needs from the outside world; each throws DeliveryFailed when an attempt fails. */

/** Sends one chat message to one room. */
export interface ChatDriver {
  send(room: string, message: ChatMessage): Promise<void>;
}

export interface OutgoingMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  /** The Message-ID header, `<...@...>`: the same for every copy of one message (core/message-id.ts). */
  readonly messageId: string;
}

/** Sends one e-mail; resolves with the recipients the server refused while accepting others. */
export interface Mailer {
  /** Where mail goes, for reasons and logs: `SMTP <host>:<port>`. */
  readonly label: string;
  send(mail: OutgoingMail): Promise<{ readonly rejected: readonly string[] }>;
  close(): void;
}
