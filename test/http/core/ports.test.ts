import { expect } from 'chai';
import { allocatePort, FIRST_CLUSTER_PORT, LAST_PORT } from '../../../http/core/ports.js';

const cases: Array<[string, Array<number | null>, number | undefined, number | undefined]> = [
  ['none used', [], undefined, 45_000],
  ['the first taken', [45_000], undefined, 45_001],
  ['a gap is filled first', [45_000, 45_001, 45_003], undefined, 45_002],
  ['unsorted input', [45_002, 45_000, 45_001], undefined, 45_003],
  ['duplicates', [45_000, 45_000, 45_001], undefined, 45_002],
  ['rows without a port', [null, 45_000, null], undefined, 45_001],
  ['ports below the start are ignored', [80, 8080, 44_999], undefined, 45_000],
  ['a gap before the used ports', [45_005, 45_006], undefined, 45_000],
  ['another start', [10, 11], 10, 12],
  ['the last port', [65_534], 65_534, 65_535],
  ['exhausted', [65_534, 65_535], 65_534, undefined],
];

describe('allocatePort', () => {
  for (const [title, used, from, expected] of cases) {
    it(`${title}: ${expected ?? 'none'}`, () => expect(allocatePort(used, from)).to.equal(expected));
  }

  it('starts at 45000 and fills the whole range before giving up', () => {
    const all = Array.from({ length: LAST_PORT - FIRST_CLUSTER_PORT + 1 }, (_, i) => FIRST_CLUSTER_PORT + i);
    expect(allocatePort(all)).to.equal(undefined);
    expect(allocatePort(all.filter((p) => p !== 60_000))).to.equal(60_000);
  });
});
