/** What a chat service receives for one `notifications_hipchat` message (reference §9.2), per driver. */

export interface ChatMessage {
  readonly is_success: boolean;
  readonly prefix: string;
  readonly message: string;
}

/** The original's text: prefix, a colon and two spaces, the message (reference §9.2). */
export const chatText = (m: ChatMessage): string => `${m.prefix}:  ${m.message}`;

export const SLACK_GREEN = '#2eb886';
export const SLACK_RED = '#d50200';

export interface SlackPayload {
  readonly text: string;
  readonly attachments: ReadonlyArray<{ readonly color: string; readonly fallback: string; readonly text: string }>;
}

/**
 * A Slack-compatible incoming-webhook body (Slack, Mattermost, Rocket.Chat all read `text` and `attachments`): the
 * text as the original's, and a green or red attachment saying how it went. A failure carries `failureMention`
 * (e.g. `<!here>` or `@here`), the webhook equivalent of HipChat's notify-on-failure.
 */
export function slackPayload(m: ChatMessage, failureMention: string | null): SlackPayload {
  const text = chatText(m);
  const verdict = m.is_success ? 'Succeeded' : `Failed${failureMention ? ` ${failureMention}` : ''}`;
  return { text, attachments: [{ color: m.is_success ? SLACK_GREEN : SLACK_RED, fallback: `${verdict}: ${text}`, text: verdict }] };
}

export interface HipChatNotification {
  readonly room_id: number;
  readonly color: 'green' | 'red';
  readonly message: string;
  readonly notify: boolean;
  readonly message_format: 'html';
  readonly notification_type: 'room_notification';
}

/** The HipChat v2 room notification, exactly as the original sent it: failures are red and ping the room. */
export function hipChatNotification(m: ChatMessage, roomId: number): HipChatNotification {
  return {
    room_id: roomId,
    color: m.is_success ? 'green' : 'red',
    message: chatText(m),
    notify: !m.is_success,
    message_format: 'html',
    notification_type: 'room_notification',
  };
}

/** The HipChat v2 paths (reference §9.2), under a configurable base URL; the token goes in the query. */
export function hipChatRoomPath(room: string, token: string): string {
  return `/v2/room/${encodeURIComponent(room)}?auth_token=${encodeURIComponent(token)}`;
}

export function hipChatNotificationPath(roomId: number, token: string): string {
  return `/v2/room/${roomId}/notification?auth_token=${encodeURIComponent(token)}`;
}
