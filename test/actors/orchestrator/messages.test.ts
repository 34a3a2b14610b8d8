import { expect } from 'chai';
import { checkMilestoneOrder, type MilestoneOrder } from '../../../actors/orchestrator/messages.js';

const OK: MilestoneOrder = { ok: true };
const deployFirst = (name: string): MilestoneOrder => ({
  ok: false,
  reason: `${name} needs a config or build milestone before it, which finds the cluster, the units and the image it deploys`,
});
const CONFIG_FIRST: MilestoneOrder = {
  ok: false,
  reason:
    'config comes before build: config verifies that the image is already in the registry, and the build after it is what makes it; put build first (it renders the templates too), or leave config out',
};

describe('checkMilestoneOrder (issue 14 item 3)', () => {
  const cases: Array<[string[], MilestoneOrder]> = [
    [['build', 'deploy'], OK],
    [['config', 'deploy'], OK],
    [['config', 'deploy_oa'], OK],
    [['build'], OK],
    [['config'], OK],
    [[], OK],
    [['scheduled', 'build', 'deploy'], OK],
    [['build', 'scheduled', 'deploy'], OK],
    [['config', 'deploy', 'scheduled', 'deploy_oa'], OK],
    [['build', 'config', 'deploy'], OK],
    [['build', 'config', 'build'], OK],
    [['build', 'deploy', 'build', 'deploy'], OK],
    [['config', 'build'], CONFIG_FIRST],
    [['config', 'deploy', 'build'], CONFIG_FIRST],
    [['scheduled', 'config', 'scheduled', 'build'], CONFIG_FIRST],
    [['deploy'], deployFirst('deploy')],
    [['deploy', 'build'], deployFirst('deploy')],
    [['scheduled', 'deploy_oa', 'config'], deployFirst('deploy_oa')],
    [['build', 'ship'], { ok: false, reason: 'unknown milestone "ship" (known: config, build, deploy, deploy_oa, scheduled)' }],
    [['deploy_ecs', 'deploy'], { ok: false, reason: 'unknown milestone "deploy_ecs" (known: config, build, deploy, deploy_oa, scheduled)' }],
  ];
  for (const [milestones, expected] of cases) it(`${JSON.stringify(milestones)}: ${expected.ok ? 'runs' : 'refused'}`, () => expect(checkMilestoneOrder(milestones)).to.deep.equal(expected));
});
