/** Pure supervision decisions: which children a failure affects, whether to restart, intensity and backoff. */

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** Why a child stopped: `normal` when it exited on purpose, `crash` for every other reason. */
export type ExitReason = 'normal' | 'crash';

/** At most `maxRestarts` restarts within `withinMs`; one more and the supervisor gives up and escalates. */
export interface Intensity {
  readonly maxRestarts: number;
  readonly withinMs: number;
}

/** Delay before the n-th recent restart of one child: initialMs * factor^(n-1), capped at maxMs. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

/** OTP semantics: permanent always, transient only after a crash, temporary never. */
export function shouldRestart(type: RestartType, reason: ExitReason): boolean {
  switch (type) {
    case 'permanent':
      return true;
    case 'transient':
      return reason === 'crash';
    case 'temporary':
      return false;
  }
}

/**
 * The children a failure takes down with it, in start order. `order` is the supervisor's start order;
 * the failed child is always included.
 */
export function affectedChildren(strategy: Strategy, order: readonly string[], failed: string): string[] {
  const at = order.indexOf(failed);
  if (at < 0) return [failed];
  switch (strategy) {
    case 'one_for_one':
      return [failed];
    case 'one_for_all':
      return [...order];
    case 'rest_for_one':
      return order.slice(at);
  }
}

/** Restart timestamps still inside the intensity window. */
export function recentRestarts(history: readonly number[], now: number, withinMs: number): number[] {
  return history.filter((at) => now - at < withinMs);
}

/**
 * Records one restart at `now`. `exceeded` is true when this restart would be restart number maxRestarts + 1
 * inside the window: the supervisor must not perform it and escalates instead.
 */
export function recordRestart(
  history: readonly number[],
  now: number,
  intensity: Intensity,
): { history: number[]; exceeded: boolean } {
  const next = [...recentRestarts(history, now, intensity.withinMs), now];
  return { history: next, exceeded: next.length > intensity.maxRestarts };
}

/** Delay before a restart, given how many restarts of this child happened recently (this one included). */
export function backoffDelayMs(recent: number, backoff: Backoff): number {
  if (recent <= 0) return 0;
  const delay = backoff.initialMs * backoff.factor ** (recent - 1);
  return Math.min(Math.round(delay), backoff.maxMs);
}
