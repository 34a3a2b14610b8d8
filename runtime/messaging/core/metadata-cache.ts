/** When cached messaging metadata must be fetched again (reference §4.1, §4.2: cached 5 min, flushed when stale). */

/** How long messaging metadata is trusted (reference §4.1, §4.2). */
export const METADATA_TTL_MS = 5 * 60_000;

/**
 * True when metadata fetched at `fetchedAt` must not be used at `now` (same clock, ms). Unlike the reference's
 * `cache_stale?` this reads no clock (style R2). A clock that went backwards also counts as stale, so a jump back
 * cannot stretch the life of a cache.
 */
export function isStale(fetchedAt: number, now: number, ttlMs: number = METADATA_TTL_MS): boolean {
  const ageMs = now - fetchedAt;
  return ageMs < 0 || ageMs > ttlMs;
}
