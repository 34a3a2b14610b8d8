/**
 * A canary release (issue 15 item 4): the first new instance of a routed unit takes `weight`% of its authority's
 * requests beside the old release for `duration_seconds`, and the router's own counters for it decide: promote (the
 * rollout goes on) or abort (the canary leaves the route, the old release is untouched, the milestone fails naming the
 * figures). Pure: the shell (canary.ts) asks the router for its counters and carries the verdict out.
 */

/** `units.json` `route.canary`: the share in percent, the window, and the error rate (0-1) that aborts. */
export interface CanarySpec {
  readonly weight: number;
  readonly duration_seconds: number;
  readonly max_error_rate: number;
}

/** HAProxy's highest server weight; a backend the Deployer adds gets the Manager's default. */
export const MAX_WEIGHT = 256;
export const DEFAULT_WEIGHT = 100;

/** Below this many canary requests an error rate says little: only the window's end judges it then. */
export const MIN_REQUESTS_TO_ABORT_EARLY = 20;

/**
 * Weights that give a canary `percent`% of an authority whose other ready backends weigh `others`. The canary's share
 * is its weight over the sum; when that needs more than HAProxy's highest weight, the others are scaled down instead
 * (each keeping at least 1, so none stops serving).
 */
export function canaryWeights(others: readonly number[], percent: number): { readonly canary: number; readonly others: readonly number[] } {
  const total = others.reduce((sum, w) => sum + w, 0);
  const wanted = (percent * total) / (100 - percent);
  if (wanted <= MAX_WEIGHT) return { canary: Math.max(1, Math.round(wanted)), others };
  const scale = MAX_WEIGHT / wanted;
  return { canary: MAX_WEIGHT, others: others.map((w) => (w === 0 ? 0 : Math.max(1, Math.round(w * scale)))) };
}

/** One reading of the router's counters for the authority (counted since its HAProxy worker started). */
export interface CanarySample {
  /** The worker that counted: a reload starts the counters again under a new pid. */
  readonly worker: number;
  /** The canary's counters, or undefined when the router does not serve it. */
  readonly canary: { readonly status: string; readonly requests: number; readonly errors: number } | undefined;
  /** Requests every backend of the authority (the canary included) took. */
  readonly requests: number;
}

/** What the canary took and failed since it joined, and the whole authority's requests over the same time. */
export interface CanaryTally {
  readonly requests: number;
  readonly errors: number;
  readonly authorityRequests: number;
}

export interface CanaryWatch {
  readonly last: CanarySample;
  readonly tally: CanaryTally;
}

export const watchFrom = (first: CanarySample): CanaryWatch => ({ last: first, tally: { requests: 0, errors: 0, authorityRequests: 0 } });

/** Adds what happened since the last reading; after a reload the new worker's counters are all new. */
export function observe(watch: CanaryWatch, next: CanarySample): CanaryWatch {
  const reloaded = next.worker !== watch.last.worker;
  const since = (now: number, before: number): number => (reloaded ? now : Math.max(0, now - before));
  const canary = next.canary ?? { requests: 0, errors: 0 };
  const before = watch.last.canary ?? { requests: 0, errors: 0 };
  return {
    last: next,
    tally: {
      requests: watch.tally.requests + since(canary.requests, before.requests),
      errors: watch.tally.errors + since(canary.errors, before.errors),
      authorityRequests: watch.tally.authorityRequests + since(next.requests, watch.last.requests),
    },
  };
}

export type CanaryVerdict =
  | { readonly kind: 'watch' }
  | { readonly kind: 'promote'; readonly figures: string }
  | { readonly kind: 'abort'; readonly figures: string; readonly why: string };

const percentOf = (part: number, whole: number): string => `${whole === 0 ? '0.0' : ((100 * part) / whole).toFixed(1)}%`;

/** The tally in words: `error rate 12.5% (5 of 40 requests), 9.8% of the route's 410 requests, in 20.0 s`. */
export function figuresOf(tally: CanaryTally, elapsedMs: number): string {
  return (
    `error rate ${percentOf(tally.errors, tally.requests)} (${tally.errors} of ${tally.requests} requests), ` +
    `${percentOf(tally.requests, tally.authorityRequests)} of the route's ${tally.authorityRequests} requests, in ${(elapsedMs / 1_000).toFixed(1)} s`
  );
}

/** A canary the router no longer serves as up: its own check found it down, or it left the route. */
const downOf = (sample: CanarySample): string | undefined => {
  if (sample.canary === undefined) return 'the router no longer serves it';
  const status = sample.canary.status;
  return status.startsWith('DOWN') || status.startsWith('MAINT') ? `the router's health check finds it ${status}` : undefined;
};

/**
 * Aborts as soon as the canary is down, or its error rate is above the maximum over at least
 * MIN_REQUESTS_TO_ABORT_EARLY requests; at the window's end promotes unless the rate is above the maximum. A window
 * with no request promotes (the health check passed and nothing says otherwise); the figures say it took none.
 */
export function judge(spec: CanarySpec, watch: CanaryWatch, elapsedMs: number): CanaryVerdict {
  const { tally } = watch;
  const figures = figuresOf(tally, elapsedMs);
  const down = downOf(watch.last);
  if (down !== undefined) return { kind: 'abort', figures, why: down };
  const rate = tally.requests === 0 ? 0 : tally.errors / tally.requests;
  const over = rate > spec.max_error_rate;
  const max = `above the maximum ${percentOf(spec.max_error_rate, 1)}`;
  if (over && tally.requests >= MIN_REQUESTS_TO_ABORT_EARLY) return { kind: 'abort', figures, why: max };
  if (elapsedMs < spec.duration_seconds * 1_000) return { kind: 'watch' };
  return over ? { kind: 'abort', figures, why: max } : { kind: 'promote', figures };
}
