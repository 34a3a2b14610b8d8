/**
 * The de-duplication of `unique` system events (reference §3.8, §10.2): modules post the same complaint on every
 * pass (disk nearly full, a failed unit), and the Manager keeps one per hour unless its data changed.
 */

/** How far back a `unique` event looks for its duplicates. */
export const DEDUP_WINDOW_MS = 60 * 60_000;

/** The oldest `inserted_at` a duplicate may have, for an event posted at `now`. */
export function dedupWindowStart(now: Date, windowMs = DEDUP_WINDOW_MS): Date {
  return new Date(now.getTime() - windowMs);
}

/**
 * Equality of decoded JSON: objects by their keys regardless of order (the original compared Elixir maps), arrays
 * in order, everything else by `===`.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const rb = b as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && jsonEqual((a as Record<string, unknown>)[k], rb[k]));
}

/**
 * Whether a `unique` event with `data` duplicates one of `recent` (the `data` of the same type's events inside the
 * window; null for none). As the original (reference §3.8): it is new only when every recent event has data that
 * differs from its own; without data of its own, any recent event of the type makes it a duplicate.
 */
export function isDuplicateEvent(data: unknown, recent: readonly unknown[]): boolean {
  return recent.some((old) => data === null || data === undefined || old === null || old === undefined || jsonEqual(old, data));
}
