import { httpFailure, unreachable } from './core/failures.js';
import { DeliveryFailed } from './errors.js';

/**
 * One HTTP request to a chat service, answered or turned into a DeliveryFailed. `what` names the service in the
 * reason (`the webhook of room Ops`); URLs are never in a reason or a log line, since webhook URLs and HipChat's
 * query carry secrets.
 */
export async function callChatService(opts: {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: unknown;
  readonly what: string;
  readonly timeoutMs: number;
  /** The statuses that count as success; any 2xx when absent. */
  readonly expect?: readonly number[];
}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(opts.url, {
      method: opts.method,
      signal: AbortSignal.timeout(opts.timeoutMs),
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body), headers: { 'content-type': 'application/json' } }),
    });
  } catch (err) {
    throw new DeliveryFailed(unreachable(opts.what, causeOf(err, opts.timeoutMs)), { cause: err });
  }
  const ok = opts.expect ? opts.expect.includes(res.status) : res.status >= 200 && res.status < 300;
  if (!ok) {
    await res.body?.cancel();
    throw new DeliveryFailed(httpFailure(res.status, opts.what, opts.expect?.join(' or ') ?? '2xx'));
  }
  return res;
}

/** fetch says only "fetch failed"; the useful part (ECONNREFUSED, a timeout) is in the cause. */
function causeOf(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return err instanceof Error ? err.message : String(err);
}
