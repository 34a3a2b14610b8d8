import { expect } from 'chai';
import { DEDUP_WINDOW_MS, dedupWindowStart, isDuplicateEvent, jsonEqual } from '../../../http/core/event-dedup.js';

const disk = { docker_disk_space_percent: 84, hostname: '10.0.0.5', etcd_token: 'abc123' };

// [title, new event's data, data of the same type's events in the last hour, duplicate?] (reference §3.8)
const cases: Array<[string, unknown, unknown[], boolean]> = [
  ['no recent event: new', disk, [], false],
  ['no recent event and no data: new', null, [], false],
  ['same data: duplicate', disk, [disk], true],
  ['same data, keys in another order: duplicate', { etcd_token: 'abc123', hostname: '10.0.0.5', docker_disk_space_percent: 84 }, [disk], true],
  ['different data: new', { ...disk, docker_disk_space_percent: 91 }, [disk], false],
  ['different from every recent one: new', { ...disk, hostname: 'c' }, [{ ...disk, hostname: 'a' }, { ...disk, hostname: 'b' }], false],
  ['same as one of several: duplicate', { ...disk, hostname: 'b' }, [{ ...disk, hostname: 'a' }, { ...disk, hostname: 'b' }], true],
  ['no data of its own, a recent event exists: duplicate', null, [disk], true],
  ['undefined data counts as none: duplicate', undefined, [disk], true],
  ['a recent event without data: duplicate', disk, [null], true],
  ['nested arrays compared in order: new', { units: ['a', 'b'] }, [{ units: ['b', 'a'] }], false],
  ['nested arrays equal: duplicate', { units: ['a', { n: 1 }] }, [{ units: ['a', { n: 1 }] }], true],
  ['an extra key makes it new', { ...disk, extra: true }, [disk], false],
  ['a missing key makes it new', { hostname: '10.0.0.5' }, [disk], false],
  ['number vs string makes it new', { n: 1 }, [{ n: '1' }], false],
  ['plain text stored by an older writer differs from an object: new', disk, ['{not json'], false],
];

describe('isDuplicateEvent', () => {
  for (const [title, data, recent, duplicate] of cases) {
    it(title, () => expect(isDuplicateEvent(data, recent)).to.equal(duplicate));
  }
});

describe('jsonEqual', () => {
  const table: Array<[unknown, unknown, boolean]> = [
    [1, 1, true],
    ['a', 'a', true],
    [null, null, true],
    [null, {}, false],
    [[], {}, false],
    [{}, [], false],
    [{ a: undefined }, { b: undefined }, false],
    [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, true],
    [[1, 2], [1, 2, 3], false],
  ];
  for (const [a, b, equal] of table) {
    it(`${JSON.stringify(a) ?? 'undefined'} vs ${JSON.stringify(b) ?? 'undefined'}: ${equal}`, () => expect(jsonEqual(a, b)).to.equal(equal));
  }
});

describe('dedupWindowStart', () => {
  it('is one hour before now by default', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(DEDUP_WINDOW_MS).to.equal(3_600_000);
    expect(dedupWindowStart(now).toISOString()).to.equal('2026-01-01T11:00:00.000Z');
    expect(dedupWindowStart(now, 1_000).toISOString()).to.equal('2026-01-01T11:59:59.000Z');
  });
});
