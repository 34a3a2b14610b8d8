/** What can go wrong in the Router's own logic (style R8); runtime/haproxy and the Manager client name theirs. */

/** The Router cannot serve at all (no haproxy executable); `reason` names the variable to set. */
export class RouterIdleError extends Error {
  override readonly name = 'RouterIdleError';
  readonly retryable = false;
  constructor(reason: string) {
    super(`the router is idle: ${reason}`);
  }
}

/** HAProxy exited without being asked: the Router crashes, and its restart rebuilds the proxy from the Manager. */
export class ProxyExitedError extends Error {
  override readonly name = 'ProxyExitedError';
  readonly retryable = true;
  constructor(pid: number, how: string, output: string) {
    super(`haproxy (master pid ${pid}) exited unasked (${how})${output === '' ? '' : `; it said last:\n${output}`}`);
  }
}

/** A drain named a backend that is not in the routes the proxy serves, or one that is not set to drain. */
export class DrainRefusedError extends Error {
  override readonly name = 'DrainRefusedError';
  readonly retryable = false;
}

/** A request named an authority the proxy does not serve (not in the Manager's routes, or left out of them). */
export class UnservedAuthorityError extends Error {
  override readonly name = 'UnservedAuthorityError';
  readonly retryable = false;
}

/** Another live router process serves ROUTER_DIR: two routers on one directory would fight over one HAProxy. */
export class RouterDirLockedError extends Error {
  override readonly name = 'RouterDirLockedError';
  readonly retryable = false;
  constructor(dir: string, pid: number, options?: ErrorOptions) {
    super(`ROUTER_DIR ${dir} is in use by the router of process ${pid}; stop that process or give this router another ROUTER_DIR`, options);
  }
}
