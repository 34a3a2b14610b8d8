import type { Logger } from '../../runtime/logger.js';
import { ManagerResponseError } from './errors.js';
import { TokenReply } from './schemas.js';

/** How the client's token is refreshed (reference §1.3: cached, refreshed when fewer than 30 s of validity remain). */
export const TOKEN_REFRESH_MARGIN_MS = 30_000;

/** The access token to send, and a way to drop one the Manager refused. */
export interface TokenSource {
  /** A token valid for a while yet; fetched when none is cached or the cached one is about to expire. */
  current(): Promise<string>;
  /** Forgets `token` (after a 401) unless a newer one has replaced it meanwhile. */
  invalidate(token: string): void;
}

/** One `POST /oauth/token` round trip; the caller brings the retries and the error mapping. */
export type FetchToken = () => Promise<{ readonly status: number; readonly json: unknown }>;

/**
 * When a token of `lifetimeMs` must be replaced: 30 s before it expires (reference §1.3), or at half its life for a
 * token shorter than a minute, which would otherwise be fetched again for every request.
 */
export const refreshMarginMs = (lifetimeMs: number): number => Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2);

/**
 * Caches the client-credentials token. Concurrent callers share one fetch. Deliberate difference (reference §1.3):
 * a failed fetch rejects, where the original went on with an empty token and let every request fail with 401.
 */
export function tokenCache(opts: { readonly fetchToken: FetchToken; readonly route: string; readonly now: () => number; readonly log: Logger }): TokenSource {
  let cached: { readonly token: string; readonly refreshAt: number } | undefined;
  let fetching: Promise<string> | undefined;

  async function fetchFresh(): Promise<string> {
    const startedAt = opts.now();
    const reply = await opts.fetchToken();
    const parsed = TokenReply.safeParse(reply.json);
    if (!parsed.success) {
      throw new ManagerResponseError(opts.route, reply.status, parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`));
    }
    const lifetimeMs = parsed.data.expires_in * 1_000;
    // Counted from when the request left: the token's clock started no later than that.
    cached = { token: parsed.data.access_token, refreshAt: startedAt + lifetimeMs - refreshMarginMs(lifetimeMs) };
    opts.log.debug({ route: opts.route, expiresInS: parsed.data.expires_in }, 'manager token obtained');
    return parsed.data.access_token;
  }

  return {
    current() {
      if (cached !== undefined && opts.now() < cached.refreshAt) return Promise.resolve(cached.token);
      if (fetching !== undefined) return fetching;
      const shared = fetchFresh().finally(() => {
        if (fetching === shared) fetching = undefined;
      });
      fetching = shared;
      return shared;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}
