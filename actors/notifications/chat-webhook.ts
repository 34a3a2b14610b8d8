import type { ChatDriver } from './ports.js';
import { slackPayload } from './core/chat-payload.js';
import { webhookFor } from './core/rooms.js';
import { DeliveryFailed } from './errors.js';
import { callChatService } from './http-post.js';

/** Chat through Slack-compatible incoming webhooks, one per room name (design §2, HipChat row). */
export function webhookDriver(opts: {
  readonly webhooks: Readonly<Record<string, string>>;
  readonly failureMention: string | null;
  readonly timeoutMs: number;
}): ChatDriver {
  return {
    async send(room, message) {
      const webhook = webhookFor(room, opts.webhooks);
      if (!webhook.ok) throw new DeliveryFailed({ permanent: true, reason: webhook.reason });
      await callChatService({
        url: webhook.url,
        method: 'POST',
        body: slackPayload(message, opts.failureMention),
        what: `the webhook of room ${JSON.stringify(room)}`,
        timeoutMs: opts.timeoutMs,
      });
    },
  };
}
