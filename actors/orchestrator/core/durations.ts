/**
 * Durations as the original wrote them (reference §5.3, `timex_extensions`): the elapsed time in the largest unit it
 * fills, `N second(s)` up to `N week(s)`, and `<unknown>` when the start is not known.
 */

interface Unit {
  readonly name: string;
  readonly seconds: number;
  /** The unit is used below this many seconds. */
  readonly below: number;
}
const WEEK: Unit = { name: 'week', seconds: 7 * 24 * 60 * 60, below: Number.POSITIVE_INFINITY };
const UNITS: readonly Unit[] = [
  { name: 'second', seconds: 1, below: 60 },
  { name: 'minute', seconds: 60, below: 60 * 60 },
  { name: 'hour', seconds: 60 * 60, below: 24 * 60 * 60 },
  { name: 'day', seconds: 24 * 60 * 60, below: 7 * 24 * 60 * 60 },
  WEEK,
];

export const UNKNOWN_DURATION = '<unknown>';

/** Whole seconds elapsed between two instants (epoch ms), never negative (a clock step back is not time travel). */
export function secondsBetween(startMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - startMs) / 1_000));
}

/** `90` -> `2 minute(s)`: the largest unit the duration fills, rounded in that unit. */
export function humanSeconds(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const unit = UNITS.find((u) => whole < u.below) ?? WEEK;
  return `${Math.round(whole / unit.seconds)} ${unit.name}(s)`;
}

/** An instant from the request's text (ISO 8601 or RFC 1123), or undefined when absent or unreadable. */
export function instantOf(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text === '') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The human duration since `start` (request text), `<unknown>` without one. */
export function elapsedSince(start: string | null | undefined, nowMs: number): string {
  const startMs = instantOf(start);
  return startMs === undefined ? UNKNOWN_DURATION : humanSeconds(secondsBetween(startMs, nowMs));
}
