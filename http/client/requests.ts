import type { Logger } from '../../runtime/logger.js';
import { ManagerApiError, ManagerUnavailableError, networkCodeOf } from './errors.js';
import { ErrorBody } from './schemas.js';
import { tokenCache, type TokenSource } from './token-cache.js';

/**
 * The client's one way to the Manager: bearer token from the client-credentials grant (reference §1.3) or a stored one, retries with
 * exponential backoff while the Manager is down or answering 503, one token refresh on a 401. What the answer means
 * is for the caller (replies.ts); only "unreachable" is decided here.
 */

/** How often and how patiently a request is repeated while the Manager is unavailable. */
export interface RetryPolicy {
  /** Repeats after the first attempt; 0 disables retries. */
  readonly maxRetries: number;
  /** Delay before the first repeat; doubled for each further one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** At most about 6 s of waiting in all (200 ms doubling, jittered): a Manager restart, not an outage. */
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, baseDelayMs: 200, maxDelayMs: 5_000 };
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Where the Manager is and how patiently to ask it, whichever way the token comes. */
export interface ManagerConnectionOptions {
  /** `MANAGER_URL`, e.g. `http://manager:4000`; a path prefix is kept. */
  readonly baseUrl: string;
  readonly log: Logger;
  /** `globalThis.fetch` unless given (tests count or alter requests with a wrapper). */
  readonly fetch?: typeof fetch;
  readonly retry?: Partial<RetryPolicy>;
  /** Per attempt. */
  readonly timeoutMs?: number;
}

/** A worker's client: it fetches (and refreshes) its own token with the client-credentials grant. */
export interface ManagerClientOptions extends ManagerConnectionOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where the client-credentials grant is asked (the original's OAUTH_LOGIN_URL); `<baseUrl>/oauth/token` by default. */
  readonly tokenUrl?: string;
  /** Monotonic ms for token expiry; `performance.now` by default, so a wall-clock jump cannot stretch a token's life. */
  readonly now?: () => number;
}

/**
 * A client with a token obtained earlier (the CLI's `openaperture login`): sent as is and never refreshed, since
 * the client holds no credentials to get another; a 401 is the caller's to report.
 */
export interface ManagerTokenOptions extends ManagerConnectionOptions {
  readonly token: string;
}

/** One request, by route template and parameters, so errors and logs name the route, not one URL of it. */
export interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** As the Manager declares it: `/clusters/:etcd_token/hosts`. */
  readonly path: string;
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
}

/** An answer of the Manager; `json` is the parsed body, the text when it was not JSON, undefined when empty. */
export interface Reply {
  /** `GET /workflows/:id` */
  readonly route: string;
  /** `/workflows/8d0e...` */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
}

export interface ManagerHttp {
  /** Sends `call` with a token; answers any status but 503. Rejects with ManagerUnavailableError, or with the token's error. */
  send(call: Call): Promise<Reply>;
}

/** Connection failures where the request cannot have reached the Manager, so repeating it is always safe. */
const NEVER_ARRIVED = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Methods whose repetition does no harm (RFC 9110 §9.2.2), retried after any network failure. */
const IDEMPOTENT = new Set<Call['method']>(['GET', 'PUT', 'DELETE']);

/** `/clusters/a%2Fb/hosts` from the template and its parameters. */
export function pathOf(call: Pick<Call, 'path' | 'params'>): string {
  return call.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
    const value = call.params?.[name];
    if (value === undefined) throw new RangeError(`no value for :${name} of ${call.path}`); // a caller bug
    return encodeURIComponent(String(value));
  });
}

function queryOf(query: Call['query']): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** The messages of an error body (reference §3.1), or the body itself when it is short text. */
export function messagesOf(json: unknown): string[] {
  const parsed = ErrorBody.safeParse(json);
  if (parsed.success) return parsed.data.errors.map((e) => e.message);
  return typeof json === 'string' && json !== '' ? [json.slice(0, 500)] : [];
}

export const apiErrorOf = (reply: Reply): ManagerApiError =>
  new ManagerApiError(reply.route, reply.status, messagesOf(reply.json), { path: reply.path });

function parsedBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: the caller's schema reports it, or an error shows the text.
    return text;
  }
}

/** Exponential backoff with jitter (so restarted workers do not return in step), at least what Retry-After asks. */
function delayMs(policy: RetryPolicy, retry: number, retryAfter: string | null): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = backoff / 2 + (Math.random() * backoff) / 2;
  const asked = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1_000 : 0;
  return Math.min(policy.maxDelayMs, Math.max(jittered, asked));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Attempt {
  readonly route: string;
  readonly path: string;
  readonly url: string;
  readonly method: Call['method'];
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** What sending needs besides the request. */
interface Sender {
  readonly fetch: typeof fetch;
  readonly policy: RetryPolicy;
  readonly timeoutMs: number;
  readonly log: Logger;
}

async function attemptOnce(s: Sender, a: Attempt): Promise<Reply> {
  const init = { method: a.method, headers: a.headers, signal: AbortSignal.timeout(s.timeoutMs), ...(a.body === undefined ? {} : { body: a.body }) };
  const res = await s.fetch(a.url, init);
  return { route: a.route, path: a.path, status: res.status, headers: res.headers, json: parsedBody(await res.text()) };
}

/** The first answer that is not a 503; ManagerUnavailableError once the retries are spent or a failure is unsafe to repeat. */
async function sendWithRetries(s: Sender, a: Attempt): Promise<Reply> {
  for (let retry = 0; ; retry += 1) {
    let lastStatus: number | undefined;
    let retryAfter: string | null = null;
    let cause: unknown;
    try {
      const reply = await attemptOnce(s, a);
      if (reply.status !== 503) return reply;
      lastStatus = 503;
      retryAfter = reply.headers.get('retry-after');
      cause = apiErrorOf(reply);
    } catch (err) {
      const code = networkCodeOf(err);
      cause = err;
      // A request that may have arrived is repeated only when repeating it is harmless.
      if (!(code !== undefined && NEVER_ARRIVED.has(code)) && !IDEMPOTENT.has(a.method)) {
        throw new ManagerUnavailableError(a.route, undefined, retry + 1, { cause: err });
      }
    }
    if (retry >= s.policy.maxRetries) throw new ManagerUnavailableError(a.route, lastStatus, retry + 1, { cause });
    const waitMs = delayMs(s.policy, retry, retryAfter);
    s.log.warn({ route: a.route, status: lastStatus, code: networkCodeOf(cause), retry: retry + 1, waitMs: Math.round(waitMs) }, 'manager unavailable, retrying');
    await sleep(waitMs);
  }
}

/** The token source for the options: a fixed token, or the client-credentials grant behind a cache. */
function tokenSourceOf(opts: ManagerClientOptions | ManagerTokenOptions, sender: Sender, base: string): { source: TokenSource; refreshable: boolean } {
  if ('token' in opts) return { source: { current: () => Promise.resolve(opts.token), invalidate: () => undefined }, refreshable: false };
  const tokenUrl = opts.tokenUrl ?? `${base}/oauth/token`;
  const tokenRoute = 'POST /oauth/token';
  const source = tokenCache({
    route: tokenRoute,
    log: opts.log,
    now: opts.now ?? (() => performance.now()),
    async fetchToken() {
      const body = JSON.stringify({ grant_type: 'client_credentials', client_id: opts.clientId, client_secret: opts.clientSecret });
      const headers = { ...JSON_HEADERS, 'content-type': 'application/json' };
      const reply = await sendWithRetries(sender, { route: tokenRoute, path: new URL(tokenUrl).pathname, url: tokenUrl, method: 'POST', headers, body });
      // A 401 here means wrong client credentials: a configuration error, not a reason to ask again.
      if (reply.status !== 200) throw apiErrorOf(reply);
      return reply;
    },
  });
  return { source, refreshable: true };
}

const JSON_HEADERS = { accept: 'application/json', 'user-agent': 'openaperture-manager-api' };

export function managerHttp(opts: ManagerClientOptions | ManagerTokenOptions): ManagerHttp {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const sender: Sender = {
    fetch: opts.fetch ?? globalThis.fetch,
    policy: { ...DEFAULT_RETRY, ...opts.retry },
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    log: opts.log,
  };
  const { source: tokens, refreshable } = tokenSourceOf(opts, sender, base);

  return {
    async send(call) {
      const path = pathOf(call);
      const body = call.body === undefined ? undefined : JSON.stringify(call.body);
      const attempt = {
        route: `${call.method} ${call.path}`,
        path,
        url: `${base}${path}${queryOf(call.query)}`,
        method: call.method,
        body,
      };
      for (let refreshed = false; ; refreshed = true) {
        const token = await tokens.current();
        const headers: Record<string, string> = { ...JSON_HEADERS, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
        const reply = await sendWithRetries(sender, { ...attempt, headers });
        if (reply.status !== 401 || refreshed || !refreshable) return reply;
        // Revoked, or the Manager restarted with a new signing secret: one new token, then the 401 stands.
        tokens.invalidate(token);
        opts.log.info({ route: attempt.route }, 'manager refused the token; fetching a new one');
      }
    },
  };
}
