/**
 * What can go wrong when a worker talks to the Manager (design §6), as three errors a caller can tell apart by `name`
 * (style R8): the Manager refused (`ManagerApiError`), could not be reached (`ManagerUnavailableError`), or answered
 * something this client does not understand (`ManagerResponseError`, a Manager bug or a version skew).
 */

/** The Manager answered with an error status; `messages` are its `errors[].message` (reference §3.1). */
export class ManagerApiError extends Error {
  override readonly name = 'ManagerApiError';
  /** A 5xx may pass; a 4xx will not change by asking again. */
  readonly retryable: boolean;
  constructor(
    /** The route as declared, `GET /workflows/:id`. */
    readonly route: string,
    readonly status: number,
    readonly messages: readonly string[],
    options?: ErrorOptions & { readonly path?: string },
  ) {
    const said = messages.length === 0 ? '' : `: ${messages.join('; ')}`;
    super(`${route}${options?.path === undefined ? '' : ` (${options.path})`} answered ${status}${said}`, options);
    this.retryable = status >= 500;
  }
}

/** The Manager could not be reached, or kept answering 503, after the client's retries. */
export class ManagerUnavailableError extends Error {
  override readonly name = 'ManagerUnavailableError';
  readonly retryable = true;
  constructor(
    readonly route: string,
    /** The status of the last answer; undefined when no answer came (connection refused, timeout). */
    readonly lastStatus: number | undefined,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    const last = lastStatus === undefined ? `no answer (${networkCodeOf(options?.cause) ?? 'network error'})` : `status ${lastStatus}`;
    super(`${route}: Manager unavailable after ${attempts} attempt${attempts === 1 ? '' : 's'}, last ${last}`, options);
  }
}

/** The Manager's answer does not have the shape this client expects; each problem names its field. */
export class ManagerResponseError extends Error {
  override readonly name = 'ManagerResponseError';
  readonly retryable = false;
  constructor(
    readonly route: string,
    readonly status: number,
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`${route} answered ${status} with a response the client does not accept:\n${problems.map((p) => `  ${p}`).join('\n')}`, options);
  }
}

/** True for a ManagerApiError, also after a process hop has dropped its prototype (style R8). */
export const isManagerApiError = (e: unknown): e is ManagerApiError => e instanceof Error && e.name === 'ManagerApiError';
export const isManagerUnavailableError = (e: unknown): e is ManagerUnavailableError => e instanceof Error && e.name === 'ManagerUnavailableError';
export const isManagerResponseError = (e: unknown): e is ManagerResponseError => e instanceof Error && e.name === 'ManagerResponseError';

/**
 * The system error code (`ECONNREFUSED`, ...) behind a failed fetch: undici wraps it as `TypeError('fetch failed')`
 * with the socket error as `cause`, an AggregateError when several addresses were tried.
 */
export function networkCodeOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const at = queue.shift();
    if (typeof at !== 'object' || at === null || seen.has(at)) continue;
    seen.add(at);
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    queue.push((at as { cause?: unknown }).cause);
    const inner = (at as { errors?: unknown }).errors;
    if (Array.isArray(inner)) queue.push(...(inner as unknown[]));
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return err.name;
  return undefined;
}
