import { expect } from 'chai';
import type { ComponentFields, ComponentRefFields, UpgradeStatus } from '../../../../actors/overseer/core/component.js';
import {
  componentAfter,
  decideUpgradeProgress,
  failedUpgrade,
  planUpgradeWorkflows,
  upgradingComponent,
  type UpgradeDecision,
  type WorkflowProgress,
} from '../../../../actors/overseer/core/upgrade.js';

const component: ComponentFields = {
  messaging_exchange_id: 1,
  type: 'builder',
  source_repo: 'OpenAperture/builder',
  source_repo_git_ref: 'v1',
  deployment_repo: 'acme/builder_docker',
  deployment_repo_git_ref: 'master',
  upgrade_strategy: 'manual',
  status: null,
  upgrade_status: null,
};
const ref: ComponentRefFields = { source_repo: 'OpenAperture/builder', source_repo_git_ref: 'v2', auto_upgrade_enabled: true };
const NOW = new Date('2015-06-23T19:39:11Z');

const wf = (id: string, p: Partial<WorkflowProgress> = {}): WorkflowProgress => ({
  id,
  current_step: null,
  elapsed_step_time: null,
  execute_requested_at: null,
  workflow_completed: false,
  workflow_error: null,
  ...p,
});
const queued = { execute_requested_at: '2015-06-23T19:39:12Z' };
const running = { ...queued, current_step: 'deploy_oa' };
const done = { ...running, current_step: 'workflow_completed', workflow_completed: true, workflow_error: false };
const failed = { ...running, workflow_completed: true, workflow_error: true };

describe('overseer core: upgrade workflows and monitoring (reference §8.3)', () => {
  describe('planUpgradeWorkflows', () => {
    it('one [config, deploy_oa] workflow on the component\'s deployment repo, at the ref\'s source', () => {
      expect(planUpgradeWorkflows(component, ref)).to.deep.equal([
        { deployment_repo: 'acme/builder_docker', deployment_repo_git_ref: 'master', source_repo: 'OpenAperture/builder', source_repo_git_ref: 'v2', milestones: ['config', 'deploy_oa'] },
      ]);
    });

    it('for a deployer, a second [config, deploy] workflow on <deployment_repo>_oa', () => {
      const plan = planUpgradeWorkflows({ ...component, type: 'deployer', deployment_repo: 'acme/deployer_docker' }, ref);
      expect(plan.map((w) => [w.deployment_repo, w.milestones])).to.deep.equal([
        ['acme/deployer_docker', ['config', 'deploy_oa']],
        ['acme/deployer_docker_oa', ['config', 'deploy']],
      ]);
    });
  });

  it('upgradingComponent: upgrade_in_progress with the §10A upgrade_status, repos untouched until completion', () => {
    const next = upgradingComponent(component, ref, ['w1', 'w2'], NOW);
    expect(next).to.deep.equal({
      ...component,
      status: 'upgrade_in_progress',
      upgrade_status: {
        workflows: ['w1', 'w2'],
        current_workflow: 'w1',
        upgrade_start_time: 'Tue, 23 Jun 2015 19:39:11 GMT',
        failure_reason: '',
        target_source_repo: 'OpenAperture/builder',
        target_source_repo_git_ref: 'v2',
        target_deployment_repo: 'acme/builder_docker',
        target_deployment_repo_git_ref: 'master',
      },
    });
  });

  describe('decideUpgradeProgress', () => {
    const cases: ReadonlyArray<[string, string[], WorkflowProgress[], UpgradeDecision]> = [
      ['the first workflow never executed: execute it', ['w1'], [wf('w1')], { type: 'execute', workflowId: 'w1' }],
      ['queued but not started: keep waiting', ['w1'], [wf('w1', queued)], { type: 'wait', workflowId: 'w1' }],
      ['running: keep waiting', ['w1'], [wf('w1', running)], { type: 'wait', workflowId: 'w1' }],
      ['the only workflow failed: upgrade_failed with its id', ['w1'], [wf('w1', failed)], { type: 'failed', reason: 'Workflow w1 has failed' }],
      ['every workflow completed without error: upgrade_completed', ['w1', 'w2'], [wf('w1', done), wf('w2', done)], { type: 'completed' }],
      ['first done, second never executed: execute the second', ['w1', 'w2'], [wf('w1', done), wf('w2')], { type: 'execute', workflowId: 'w2' }],
      ['first done, second running: wait on the second', ['w1', 'w2'], [wf('w1', done), wf('w2', running)], { type: 'wait', workflowId: 'w2' }],
      ['a failed one wins over one still running', ['w1', 'w2'], [wf('w1', running), wf('w2', failed)], { type: 'failed', reason: 'Workflow w2 has failed' }],
      ['a workflow deleted meanwhile fails the upgrade', ['w1', 'w2'], [wf('w1', done)], { type: 'failed', reason: 'Workflow w2 no longer exists' }],
      ['no workflows listed fails the upgrade', [], [], { type: 'failed', reason: 'upgrade_status lists no workflows' }],
      ['completed with workflow_error null counts as success', ['w1'], [wf('w1', { ...done, workflow_error: null })], { type: 'completed' }],
    ];
    for (const [title, ids, rows, expected] of cases) it(title, () => expect(decideUpgradeProgress(ids, rows)).to.deep.equal(expected));
  });

  describe('componentAfter', () => {
    const upgrading = upgradingComponent(component, ref, ['w1', 'w2'], NOW);
    const status = upgrading.upgrade_status as unknown as UpgradeStatus;

    it('completed: the component takes the target repos and refs, upgrade_completed, upgrade_status null', () => {
      expect(componentAfter(upgrading, status, { type: 'completed' })).to.deep.equal({
        ...component,
        source_repo_git_ref: 'v2',
        status: 'upgrade_completed',
        upgrade_status: null,
      });
    });

    it('failed: upgrade_failed, the reason in upgrade_status, repos untouched', () => {
      const next = componentAfter(upgrading, status, { type: 'failed', reason: 'Workflow w1 has failed' });
      expect(next?.status).to.equal('upgrade_failed');
      expect(next?.source_repo_git_ref).to.equal('v1');
      expect(next?.upgrade_status).to.deep.equal({ ...status, failure_reason: 'Workflow w1 has failed' });
    });

    it('waiting on the same workflow changes nothing; on the next one, current_workflow moves', () => {
      expect(componentAfter(upgrading, status, { type: 'wait', workflowId: 'w1' })).to.equal(undefined);
      expect(componentAfter(upgrading, status, { type: 'execute', workflowId: 'w2' })?.upgrade_status).to.deep.equal({ ...status, current_workflow: 'w2' });
    });

    it('a start that failed part-way keeps what upgrade_status had and adds the reason', () => {
      expect(failedUpgrade(upgrading, 'boom')).to.deep.equal({ ...upgrading, status: 'upgrade_failed', upgrade_status: { ...status, failure_reason: 'boom' } });
      expect(failedUpgrade(component, 'boom').upgrade_status).to.deep.equal({ failure_reason: 'boom' });
    });
  });
});
