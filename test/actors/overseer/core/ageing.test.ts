import { expect } from 'chai';
import { ageingPolicyProblem, planModuleAgeing, type AgeingAction, type ModuleSeen } from '../../../../actors/overseer/core/ageing.js';

const policy = { inactiveAfterMs: 600_000, deleteAfterMs: 1_200_000 };
const NOW = 10_000_000;
const mod = (status: string, silentMs: number): ModuleSeen => ({ hostname: 'h1', status, updatedAt: NOW - silentMs });

describe('overseer core: module ageing (reference §8.2)', () => {
  const cases: ReadonlyArray<[string, ModuleSeen, AgeingAction[]]> = [
    ['an active module heard from just now is left alone', mod('active', 0), []],
    ['an active module silent exactly inactive-after is left alone', mod('active', 600_000), []],
    ['an active module silent longer than inactive-after is marked inactive', mod('active', 600_001), [{ type: 'inactivate', hostname: 'h1' }]],
    ['a module silent far longer than delete-after but still active is only marked inactive first', mod('active', 5_000_000), [{ type: 'inactivate', hostname: 'h1' }]],
    ['a module of an unknown status ages as an active one', mod('busy', 600_001), [{ type: 'inactivate', hostname: 'h1' }]],
    ['an inactive module inactivated less than the remaining time ago is kept', mod('inactive', 599_999), []],
    ['an inactive module silent exactly the remaining time is kept', mod('inactive', 600_000), []],
    ['an inactive module silent longer than the remaining time (delete-after in all) is deleted', mod('inactive', 600_001), [{ type: 'delete', hostname: 'h1' }]],
  ];
  for (const [title, module, expected] of cases) {
    it(title, () => expect(planModuleAgeing([module], NOW, policy)).to.deep.equal(expected));
  }

  it('decides each module on its own, in list order', () => {
    const modules = [{ ...mod('active', 700_000), hostname: 'a' }, { ...mod('active', 1), hostname: 'b' }, { ...mod('inactive', 700_000), hostname: 'c' }];
    expect(planModuleAgeing(modules, NOW, policy)).to.deep.equal([{ type: 'inactivate', hostname: 'a' }, { type: 'delete', hostname: 'c' }]);
  });

  it('works in seconds as well as in minutes (tests configure 2 s / 4 s)', () => {
    const fast = { inactiveAfterMs: 2_000, deleteAfterMs: 4_000 };
    expect(planModuleAgeing([mod('active', 2_001)], NOW, fast)).to.deep.equal([{ type: 'inactivate', hostname: 'h1' }]);
    expect(planModuleAgeing([mod('inactive', 2_001)], NOW, fast)).to.deep.equal([{ type: 'delete', hostname: 'h1' }]);
    expect(planModuleAgeing([mod('inactive', 1_999)], NOW, fast)).to.deep.equal([]);
  });

  it('refuses a policy that would delete before inactivating', () => {
    expect(ageingPolicyProblem(policy)).to.equal(undefined);
    expect(ageingPolicyProblem({ inactiveAfterMs: 600_000, deleteAfterMs: 600_000 })).to.match(/must be longer than inactive-after/);
    expect(ageingPolicyProblem({ inactiveAfterMs: 0, deleteAfterMs: 10 })).to.match(/inactive-after must be above 0/);
  });
});
