import type { ChatDriver } from './ports.js';
import { hipChatNotification, hipChatNotificationPath, hipChatRoomPath } from './core/chat-payload.js';
import { DeliveryFailed } from './errors.js';
import { callChatService } from './http-post.js';
import type { Logger } from '../../runtime/logger.js';

/**
 * The HipChat v2 wire shape of the original (reference §9.2) against a configurable base URL: a room's id is looked
 * up once (GET /v2/room/<name>) and kept, then each message is a POST /v2/room/<id>/notification answered by 204.
 * Each request uses one of the tokens at random, as the original spread its rate limit.
 */
export function hipChatDriver(opts: {
  readonly baseUrl: string;
  readonly tokens: readonly string[];
  readonly timeoutMs: number;
  readonly log: Logger;
}): ChatDriver {
  const roomIds = new Map<string, number>();
  const token = (): string => opts.tokens[Math.floor(Math.random() * opts.tokens.length)] ?? '';

  async function roomIdOf(room: string): Promise<number> {
    const known = roomIds.get(room);
    if (known !== undefined) return known;
    const what = `HipChat's lookup of room ${JSON.stringify(room)}`;
    const res = await callChatService({ url: `${opts.baseUrl}${hipChatRoomPath(room, token())}`, method: 'GET', what, timeoutMs: opts.timeoutMs });
    const body: unknown = await res.json().catch(() => undefined);
    const id = typeof body === 'object' && body !== null && 'id' in body ? body.id : undefined;
    if (typeof id !== 'number') throw new DeliveryFailed({ permanent: true, reason: `${what} answered without a numeric id` });
    roomIds.set(room, id);
    return id;
  }

  return {
    async send(room, message) {
      const id = await roomIdOf(room);
      const res = await callChatService({
        url: `${opts.baseUrl}${hipChatNotificationPath(id, token())}`,
        method: 'POST',
        body: hipChatNotification(message, id),
        what: `HipChat room ${JSON.stringify(room)}`,
        timeoutMs: opts.timeoutMs,
        expect: [204],
      });
      const h = res.headers;
      opts.log.debug({ room, limit: h.get('x-ratelimit-limit'), remaining: h.get('x-ratelimit-remaining'), reset: h.get('x-ratelimit-reset') }, 'HipChat rate limit');
    },
  };
}
