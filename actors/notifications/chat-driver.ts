import { hipChatDriver } from './chat-hipchat.js';
import { webhookDriver } from './chat-webhook.js';
import type { ChatSettings } from './config.js';
import { chatText } from './core/chat-payload.js';
import type { ChatDriver } from './ports.js';
import type { Logger } from '../../runtime/logger.js';

/** The driver the configuration chose (config.ts). Without a chat service, messages go to the log, not nowhere. */
export function chatDriverFor(settings: ChatSettings, deps: { readonly log: Logger; readonly timeoutMs: number }): ChatDriver {
  switch (settings.driver) {
    case 'webhook':
      return webhookDriver({ webhooks: settings.webhooks, failureMention: settings.failureMention, timeoutMs: deps.timeoutMs });
    case 'hipchat':
      return hipChatDriver({ baseUrl: settings.baseUrl, tokens: settings.tokens, timeoutMs: deps.timeoutMs, log: deps.log });
    case 'log':
      return {
        send: async (room, message) =>
          deps.log.info({ room, is_success: message.is_success, text: chatText(message) }, 'chat message (no chat service configured: OA_CHAT_WEBHOOKS or HIPCHAT_AUTH_TOKENS)'),
      };
  }
}
