import { expect } from 'chai';
import type { ComponentFields, ComponentRefFields } from '../../../../actors/overseer/core/component.js';
import { assessUpgrade, ineligibleComponent, type Eligibility, type UpgradeTrigger } from '../../../../actors/overseer/core/eligibility.js';

const component: ComponentFields = {
  messaging_exchange_id: 1,
  type: 'builder',
  source_repo: 'OpenAperture/builder',
  source_repo_git_ref: 'v1',
  deployment_repo: 'acme/builder_docker',
  deployment_repo_git_ref: 'master',
  upgrade_strategy: 'hourly',
  status: null,
  upgrade_status: null,
};
const ref: ComponentRefFields = { source_repo: 'OpenAperture/builder', source_repo_git_ref: 'v2', auto_upgrade_enabled: true };

const no = (reason: string | RegExp, record = true) => ({ reason, record });

describe('overseer core: upgrade eligibility (reference §8.3, §10.1 item 13)', () => {
  const cases: ReadonlyArray<[string, Partial<ComponentFields>, Partial<ComponentRefFields> | undefined, UpgradeTrigger, ReturnType<typeof no> | 'eligible']> = [
    ['eligible: hourly, behind its ref, explicit request', {}, {}, 'requested', 'eligible'],
    ['eligible: hourly, behind its ref, hourly timer', {}, {}, 'scheduled', 'eligible'],
    ['eligible: a component built from another source repo', { source_repo: 'old/builder', source_repo_git_ref: 'v2' }, {}, 'scheduled', 'eligible'],
    ['no ref for the type', {}, undefined, 'requested', no('no system component ref exists for type builder')],
    ['an upgrade already in progress, and the component is not rewritten', { status: 'upgrade_in_progress' }, {}, 'requested', no('an upgrade is already in progress', false)],
    ['manual strategy: the hourly timer leaves it alone, without rewriting it', { upgrade_strategy: 'manual' }, {}, 'scheduled', no(/strategy manual is not upgraded on a schedule/, false)],
    ['manual strategy: an explicit request IS honoured (fixed)', { upgrade_strategy: 'manual' }, {}, 'requested', 'eligible'],
    ['an unknown strategy behaves like manual on the timer', { upgrade_strategy: 'weekly' }, {}, 'scheduled', no(/strategy weekly/, false)],
    ['no deployment repo', { deployment_repo: '' }, {}, 'requested', no('the component has no deployment repo or ref')],
    ['no deployment repo ref', { deployment_repo_git_ref: '  ' }, {}, 'requested', no('the component has no deployment repo or ref')],
    ['auto upgrade disabled on the ref', {}, { auto_upgrade_enabled: false }, 'requested', no('automatic upgrades are disabled for type builder')],
    ['ref without source repo', {}, { source_repo: '' }, 'requested', no('the ref of type builder has no source repo or ref')],
    ['ref without source ref', {}, { source_repo_git_ref: '' }, 'requested', no('the ref of type builder has no source repo or ref')],
    ['already running the ref\'s repo and ref: an explicit request is told why', { source_repo_git_ref: 'v2' }, {}, 'requested', no('the component is already running the latest version')],
    ['already running the ref\'s repo and ref: the hourly timer records nothing', { source_repo_git_ref: 'v2' }, {}, 'scheduled', no('the component is already running the latest version', false)],
    ['a previous failure does not block a new attempt', { status: 'upgrade_failed' }, {}, 'requested', 'eligible'],
  ];
  for (const [title, c, r, trigger, expected] of cases) {
    it(title, () => {
      const got: Eligibility = assessUpgrade({ ...component, ...c }, r === undefined ? undefined : { ...ref, ...r }, trigger);
      if (expected === 'eligible') return expect(got).to.deep.equal({ eligible: true, ref: { ...ref, ...r } });
      if (got.eligible) throw new Error(`expected ineligible, got eligible`);
      expect(got.record).to.equal(expected.record);
      if (typeof expected.reason === 'string') expect(got.reason).to.equal(expected.reason);
      else expect(got.reason).to.match(expected.reason);
    });
  }

  it('an ineligible component keeps its source repo and ref; only status and reason change (fixed quirk)', () => {
    const saved = ineligibleComponent(component, 'the ref of type builder has no source repo or ref');
    expect(saved).to.deep.equal({ ...component, status: 'ineligible_for_upgrade', upgrade_status: { failure_reason: 'the ref of type builder has no source repo or ref' } });
    expect([saved.source_repo, saved.source_repo_git_ref]).to.deep.equal(['OpenAperture/builder', 'v1']);
  });
});
