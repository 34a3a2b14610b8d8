import { hipChatDriver } from './chat-hipchat.js';
import { webhookDriver } from './chat-webhook.js';
import type { ChatSettings } from './config.js';
import type { ChatDriver } from './ports.js';
import type { Logger } from '../../runtime/logger.js';

/** The driver the configuration chose (config.ts); null without a chat service (send.ts then logs each message). */
export function chatDriverFor(settings: ChatSettings, deps: { readonly log: Logger; readonly timeoutMs: number }): ChatDriver | null {
  switch (settings.driver) {
    case 'webhook':
      return webhookDriver({ webhooks: settings.webhooks, failureMention: settings.failureMention, timeoutMs: deps.timeoutMs });
    case 'hipchat':
      return hipChatDriver({ baseUrl: settings.baseUrl, tokens: settings.tokens, timeoutMs: deps.timeoutMs, log: deps.log });
    case 'log':
      return null;
  }
}
