import { expect } from 'chai';
import { isStale, overrideOf, planBuildTarget, planDeployTarget, requireActiveWorker, type ClusterSeen, type DispatchTarget } from '../../../../actors/orchestrator/core/dispatch.js';

const c = (etcd_token: string, messaging_exchange_id: number | null): ClusterSeen => ({ etcd_token, messaging_exchange_id });
const first = () => 0;

describe('dispatch rules (reference §5.4)', () => {
  describe('build clusters', () => {
    const cases: Array<[string, Parameters<typeof planBuildTarget>[0], DispatchTarget]> = [
      ['own exchange first', { milestone: 'build', own: [c('own', 1)], global: [c('far', 9)], override: null, pick: first }, { ok: true, exchangeId: 1, clusterToken: 'own', notices: ['Dispatching a build request to exchange 1, docker build cluster own...'] }],
      ['then any exchange', { milestone: 'config', own: [], global: [c('far', 9)], override: null, pick: first }, { ok: true, exchangeId: 9, clusterToken: 'far', notices: ['Dispatching a config request to exchange 9, docker build cluster far...'] }],
      ['the one `pick` chooses', { milestone: 'build', own: [c('a', 1), c('b', 2)], global: [], override: null, pick: (n) => n - 1 }, { ok: true, exchangeId: 2, clusterToken: 'b', notices: ['Dispatching a build request to exchange 2, docker build cluster b...'] }],
      ['in the override exchange when execute_options name one', { milestone: 'build', own: [c('own', 1)], global: [], override: 4, pick: first }, { ok: true, exchangeId: 4, clusterToken: 'own', notices: ['The Workflow request has overriden the default build messaging_exchange_id to 4', 'Dispatching a build request to exchange 4, docker build cluster own...'] }],
      ['none at all', { milestone: 'build', own: [], global: [], override: null, pick: first }, { ok: false, reason: 'Unable to request build - no build clusters are available!' }],
      ['a cluster without an exchange', { milestone: 'build', own: [c('x', null)], global: [], override: null, pick: first }, { ok: false, reason: 'Unable to request build - build cluster x is not associated with an exchange!' }],
    ];
    for (const [what, input, expected] of cases) it(what, () => expect(planBuildTarget(input)).to.deep.equal(expected));
  });

  describe('deployment cluster', () => {
    const cases: Array<[string, Parameters<typeof planDeployTarget>[0], DispatchTarget]> = [
      ['the exchange of the cluster the builder named', { milestone: 'deploy', etcdToken: 'tok', cluster: c('tok', 3), override: null }, { ok: true, exchangeId: 3, clusterToken: 'tok', notices: ['Dispatching a deploy request to exchange 3, deployment cluster tok...'] }],
      ['the override exchange', { milestone: 'deploy_oa', etcdToken: 'tok', cluster: c('tok', 3), override: 5 }, { ok: true, exchangeId: 5, clusterToken: 'tok', notices: ['The Workflow request has overriden the default deploy messaging_exchange_id to 5', 'Dispatching a deploy_oa request to exchange 5, deployment cluster tok...'] }],
      ['no etcd token', { milestone: 'deploy', etcdToken: ' ', cluster: undefined, override: null }, { ok: false, reason: 'Unable to request deploy - an invalid deployment cluster was provided!' }],
      ['an unknown cluster', { milestone: 'deploy', etcdToken: 'gone', cluster: undefined, override: null }, { ok: false, reason: 'Unable to request deploy - deployment cluster gone does not exist!' }],
      ['a cluster without an exchange', { milestone: 'deploy', etcdToken: 'tok', cluster: c('tok', null), override: null }, { ok: false, reason: 'Unable to request deploy - deployment cluster tok is not associated with an exchange!' }],
    ];
    for (const [what, input, expected] of cases) it(what, () => expect(planDeployTarget(input)).to.deep.equal(expected));
  });

  describe('an active worker must be registered (fix of reference §10.1 item 10)', () => {
    const target: DispatchTarget = { ok: true, exchangeId: 2, clusterToken: 't', notices: [] };
    const cases: Array<[string, 'build' | 'deploy' | 'deploy_oa', Array<{ type: string; status: string }>, boolean]> = [
      ['an active builder', 'build', [{ type: 'builder', status: 'active' }], true],
      ['only an inactive builder', 'build', [{ type: 'builder', status: 'inactive' }], false],
      ['a deployer is no builder', 'build', [{ type: 'deployer', status: 'active' }], false],
      ['deploy_oa needs a deployer', 'deploy_oa', [{ type: 'deployer', status: 'active' }], true],
      ['no modules', 'deploy', [], false],
    ];
    for (const [what, milestone, modules, ok] of cases) {
      it(what, () => {
        const checked = requireActiveWorker(milestone, target, modules);
        expect(checked.ok).to.equal(ok);
        if (!checked.ok) expect(checked.reason).to.match(new RegExp(`^Unable to request ${milestone} - no active (builder|deployer) module is registered in exchange 2!$`));
      });
    }
  });

  it('the build-cluster cache is stale after 5 minutes (or when the clock went back)', () => {
    expect([isStale(0, 299_999), isStale(0, 300_000), isStale(1_000, 0)]).to.deep.equal([false, true, true]);
  });

  it('reads overrides from the request, then from execute_options', () => {
    expect(overrideOf({ build_messaging_exchange_id: '3' }, 'build')).to.equal(3);
    expect(overrideOf({ execute_options: { deploy_messaging_exchange_id: 4 } }, 'deploy')).to.equal(4);
    expect(overrideOf({ build_messaging_exchange_id: null, execute_options: { build_messaging_exchange_id: null } }, 'build')).to.equal(null);
  });
});
