import { RateLimiterMemory } from 'rate-limiter-flexible';

/**
 * Brute-force protection of `POST /oauth/token` and `POST /oauth/revoke` (README "Token endpoint"): failed secret
 * checks are counted per client_id and per caller address; past a limit that key is answered 429 with Retry-After
 * until its block ends. A success clears its client's count.
 */
export interface LoginLimits {
  /** Failures of one client_id within `windowSeconds` before it is blocked. */
  readonly perClient: number;
  /** Failures from one address, whatever the client_id, within `windowSeconds` before it is blocked. */
  readonly perAddress: number;
  readonly windowSeconds: number;
  readonly blockSeconds: number;
}

export const LOGIN_LIMITS: LoginLimits = { perClient: 10, perAddress: 50, windowSeconds: 600, blockSeconds: 600 };

export interface LoginGuard {
  /** Seconds until `clientId` or `address` may try again; undefined when neither is blocked. */
  blockedFor(clientId: string, address: string): Promise<number | undefined>;
  failed(clientId: string, address: string): Promise<void>;
  succeeded(clientId: string): Promise<void>;
}

export function loginGuard(limits: LoginLimits = LOGIN_LIMITS): LoginGuard {
  const limiter = (points: number, keyPrefix: string) =>
    new RateLimiterMemory({ keyPrefix, points, duration: limits.windowSeconds, blockDuration: limits.blockSeconds });
  const byClient = limiter(limits.perClient, 'client');
  const byAddress = limiter(limits.perAddress, 'address');
  const secondsLeft = async (l: RateLimiterMemory, key: string): Promise<number | undefined> => {
    const state = await l.get(key);
    return state !== null && state.consumedPoints >= l.points ? Math.max(1, Math.ceil(state.msBeforeNext / 1_000)) : undefined;
  };
  // The failure that reaches the limit blocks the key for blockSeconds from now. consume() rejects only past the
  // limit, which the check above refuses first.
  const count = async (l: RateLimiterMemory, key: string): Promise<void> => {
    const state = await l.consume(key).catch(() => undefined);
    if (state !== undefined && state.consumedPoints >= l.points) await l.block(key, limits.blockSeconds);
  };
  return {
    async blockedFor(clientId, address) {
      const [client, from] = await Promise.all([secondsLeft(byClient, clientId), secondsLeft(byAddress, address)]);
      return client === undefined && from === undefined ? undefined : Math.max(client ?? 0, from ?? 0);
    },
    async failed(clientId, address) {
      await Promise.all([count(byClient, clientId), count(byAddress, address)]);
    },
    async succeeded(clientId) {
      await byClient.delete(clientId);
    },
  };
}
