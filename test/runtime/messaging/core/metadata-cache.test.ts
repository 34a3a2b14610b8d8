import { expect } from 'chai';
import { METADATA_TTL_MS, isStale } from '../../../../runtime/messaging/core/metadata-cache.js';

describe('isStale (reference §4.1: cached 5 min)', () => {
  it('defaults to five minutes', () => expect(METADATA_TTL_MS).to.equal(300_000));

  const cases: Array<[string, number, number, number | undefined, boolean]> = [
    ['just fetched', 1_000, 1_000, undefined, false],
    ['one ms before the TTL ends', 0, 299_999, undefined, false],
    ['exactly at the TTL', 0, 300_000, undefined, false],
    ['one ms past the TTL', 0, 300_001, undefined, true],
    ['long past', 0, 3_600_000, undefined, true],
    ['a custom TTL, inside', 500, 1_000, 1_000, false],
    ['a custom TTL, past', 500, 1_501, 1_000, true],
    ['TTL 0, same instant', 7, 7, 0, false],
    ['TTL 0, one ms later', 7, 8, 0, true],
    ['the clock went backwards', 10_000, 9_999, undefined, true],
  ];
  for (const [title, fetchedAt, now, ttlMs, stale] of cases) {
    it(`${title}: fetched ${fetchedAt}, now ${now}, ttl ${ttlMs ?? 'default'} -> ${stale}`, () => {
      expect(isStale(fetchedAt, now, ttlMs)).to.equal(stale);
    });
  }
});
