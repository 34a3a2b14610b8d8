import { expect } from 'chai';
import { coalesceVariables, decideValueChange, type ValueChange } from '../../../http/core/variables.js';

interface Row {
  id: number;
  product_environment_id: number | null;
  name: string;
  value: string;
}

const row = (id: number, env: number | null, name: string, value = `${name}${id}`): Row => ({ id, product_environment_id: env, name, value });

describe('coalesceVariables (reference §3.5 ?coalesced=true)', () => {
  const cases: Array<[string, Row[], number, Array<[string, string]>]> = [
    ['nothing', [], 1, []],
    ['defaults only', [row(1, null, 'A', '1'), row(2, null, 'B', '2')], 7, [['A', '1'], ['B', '2']]],
    ['the environment overrides a default', [row(1, null, 'A', '1'), row(2, null, 'B', '2'), row(3, 7, 'B', '23')], 7, [['A', '1'], ['B', '23']]],
    ['the override wins whatever the row order', [row(3, 7, 'B', '23'), row(2, null, 'B', '2')], 7, [['B', '23']]],
    ['an environment-only variable is kept', [row(1, null, 'A', '1'), row(2, 7, 'C', '3')], 7, [['A', '1'], ['C', '3']]],
    ['other environments are ignored', [row(1, null, 'A', '1'), row(2, 8, 'A', 'eight'), row(3, 8, 'Z', 'z')], 7, [['A', '1']]],
    ['names match exactly, as distinct on (name) did', [row(1, null, 'foo', 'lower'), row(2, 7, 'FOO', 'upper')], 7, [['FOO', 'upper'], ['foo', 'lower']]],
    ['sorted by name', [row(1, null, 'b', 'x'), row(2, 7, 'a', 'y'), row(3, null, 'c', 'z')], 7, [['a', 'y'], ['b', 'x'], ['c', 'z']]],
  ];
  for (const [title, rows, environmentId, expected] of cases) {
    it(title, () => expect(coalesceVariables(rows, environmentId).map((r) => [r.name, r.value])).to.deep.equal(expected));
  }

  it('returns the rows themselves, not copies', () => {
    const override = row(2, 7, 'A');
    expect(coalesceVariables([row(1, null, 'A'), override], 7)[0]).to.equal(override);
  });
});

describe('decideValueChange (design §2: private values sealed)', () => {
  type Current = { private: boolean } | undefined;
  type Change = { value?: string | null; private?: boolean };
  const cases: Array<[string, Current, Change, ValueChange]> = [
    ['create in clear', undefined, { value: 'v' }, { kind: 'write', plaintext: 'v', seal: false }],
    ['create private', undefined, { value: 'v', private: true }, { kind: 'write', plaintext: 'v', seal: true }],
    ['create private without a value: nothing to seal', undefined, { private: true }, { kind: 'write', plaintext: null, seal: false }],
    ['create with a null value', undefined, { value: null }, { kind: 'write', plaintext: null, seal: false }],
    ['update nothing', { private: true }, {}, { kind: 'keep' }],
    ['update the privacy to what it is', { private: false }, { private: false }, { kind: 'keep' }],
    ['new value of a private variable stays sealed', { private: true }, { value: 'n' }, { kind: 'write', plaintext: 'n', seal: true }],
    ['new value of a public variable stays clear', { private: false }, { value: 'n' }, { kind: 'write', plaintext: 'n', seal: false }],
    ['make private: reseal the stored value', { private: false }, { private: true }, { kind: 'rewrite', seal: true }],
    ['make public: open the stored value', { private: true }, { private: false }, { kind: 'rewrite', seal: false }],
    ['make public with a new value', { private: true }, { private: false, value: 'n' }, { kind: 'write', plaintext: 'n', seal: false }],
    ['clear a private value', { private: true }, { value: null }, { kind: 'write', plaintext: null, seal: false }],
  ];
  for (const [title, current, change, expected] of cases) {
    it(title, () => expect(decideValueChange(current, change)).to.deep.equal(expected));
  }
});
