import { expect } from 'chai';
import { planDeployment, type DeployInput, type HostedContainer, type Step } from '../../../../actors/deployer/core/plan.js';
import { busyPortsOf, portsOfLabels, publishPorts } from '../../../../actors/deployer/core/ports.js';
import { LABELS } from '../../../../actors/deployer/messages.js';
import { DeployableUnit } from '../../../../actors/orchestrator/messages.js';

const unit = (over: Record<string, unknown> = {}) => DeployableUnit.parse({ name: 'web', ports: [8080], ...over });
const base: DeployInput = {
  cluster: 'c1',
  workflowId: 'wf',
  commit: 'abcdef1234',
  defaultImage: 'reg/web:abcdef1234',
  product: null,
  units: [unit()],
  fleetInstanceCount: null,
  hosts: ['h1', 'h2', 'h3'],
  existing: [],
  environment: {},
  nonce: 'n0',
};
const running = (host: string, instance: number, port: number, commit = 'abcdef1234', state = 'running', id = `${host}-${instance}-${commit}`): HostedContainer => ({
  id,
  host,
  name: id,
  image: `reg/web:${commit}`,
  state,
  labels: { [LABELS.unit]: 'web', [LABELS.instance]: String(instance), [LABELS.commit]: commit, [LABELS.ports]: JSON.stringify({ 8080: port }) },
});
const plan = (over: Partial<DeployInput>) => {
  const r = planDeployment({ ...base, ...over });
  if (!r.ok) throw new Error(r.reason);
  return r.plan;
};
const brief = (s: Step) => (s.kind === 'start' ? `start ${s.instance}@${s.host}${s.replaces ? ` replaces ${s.replaces.id}` : ''}` : `remove ${s.container.id} (${s.why})`);

describe('deployer core: the deploy plan', () => {
  const refusals: Array<[string, Partial<DeployInput>, string]> = [
    ['no hosts', { hosts: [] }, 'Unable to find accessible hosts in cluster c1!'],
    ['no units', { units: [] }, 'There are no valid units to deploy!'],
    ['instance_cnt 0', { fleetInstanceCount: 0 }, 'Cannot specify 0 instances in fleet.json (instance_cnt)!'],
    ['no image', { defaultImage: null }, 'Unit web names no image and the request carries no docker_image'],
    ['http check without ports', { units: [unit({ ports: [], health: { http: { path: '/' } } })] }, 'Unit web: health.http needs a port, and the unit publishes none'],
    ['http check on another port', { units: [unit({ health: { http: { path: '/', port: 9 } } })] }, 'Unit web: health.http.port 9 is not one of its ports (8080)'],
    ['a unit twice', { units: [unit(), unit()] }, 'Unit web is declared twice'],
  ];
  for (const [what, over, reason] of refusals) {
    it(`refuses: ${what}`, () => expect(planDeployment({ ...base, ...over })).to.deep.equal({ ok: false, reason }));
  }

  const cases: Array<[string, Partial<DeployInput>, string[], number]> = [
    ['one per host by default, spread', {}, ['start 0@h1', 'start 1@h2', 'start 2@h3'], 0],
    ['fleet instance_cnt', { fleetInstanceCount: 2 }, ['start 0@h1', 'start 1@h2'], 0],
    ['the unit count wins over fleet.json', { fleetInstanceCount: 2, units: [unit({ instances: 4 })] }, ['start 0@h1', 'start 1@h2', 'start 2@h3', 'start 3@h1'], 0],
    ['same commit: nothing', { existing: [running('h1', 0, 45000), running('h2', 1, 45001), running('h3', 2, 45002)] }, [], 3],
    [
      'new commit: same hosts, old replaced after',
      { commit: 'ffff', defaultImage: 'reg/web:ffff', existing: [running('h1', 0, 45000, 'old'), running('h2', 1, 45001, 'old')] },
      ['start 0@h1 replaces h1-0-old', 'start 1@h2 replaces h2-1-old', 'start 2@h3'],
      0,
    ],
    ['an exited instance on the commit is replaced', { existing: [running('h2', 0, 45000, 'abcdef1234', 'exited')] }, ['start 0@h2 replaces h2-0-abcdef1234', 'start 1@h1', 'start 2@h3'], 0],
    [
      'scale down: surplus removed after',
      { units: [unit({ instances: 1 })], existing: [running('h1', 0, 45000), running('h2', 1, 45001), running('h3', 2, 45002)] },
      ['remove h2-1-abcdef1234 (surplus)', 'remove h3-2-abcdef1234 (surplus)'],
      1,
    ],
    ['scale up starts the missing instances', { existing: [running('h2', 0, 45003)] }, ['start 1@h1', 'start 2@h3'], 1],
    [
      'a leftover second container of an instance is removed',
      { existing: [running('h1', 0, 45000), running('h1', 0, 45007, 'abcdef1234', 'exited', 'stale'), running('h2', 1, 45001), running('h3', 2, 45002)] },
      ['remove stale (duplicate)'],
      3,
    ],
    ['a host gone from the cluster: its instance moves to the least loaded host', { hosts: ['h1', 'h3'], existing: [running('h2', 0, 45000)] }, ['start 0@h1', 'start 1@h3'], 0],
  ];
  for (const [what, over, steps, unchanged] of cases) {
    it(what, () => {
      const p = plan(over);
      expect(p.steps.map(brief)).to.deep.equal(steps);
      expect(p.unchanged).to.have.length(unchanged);
    });
  }

  it('builds the container spec: name, labels, env (product environment over the unit file), restart policy, command; ports come at start', () => {
    const p = plan({ product: 'shop', environment: { GREETING: 'env', EXTRA: 'x' }, units: [unit({ environment: { GREETING: 'unit', A: '1' }, command: ['run'] })], hosts: ['h1'] });
    const step = p.steps[0]!;
    if (step.kind !== 'start') throw new Error('expected a start');
    expect(step.spec).to.deep.equal({
      name: 'web-0-abcdef1-n0',
      image: 'reg/web:abcdef1234',
      labels: {
        [LABELS.managed]: 'true',
        [LABELS.cluster]: 'c1',
        [LABELS.product]: 'shop',
        [LABELS.unit]: 'web',
        [LABELS.instance]: '0',
        [LABELS.commit]: 'abcdef1234',
        [LABELS.workflow]: 'wf',
      },
      env: { GREETING: 'env', A: '1', EXTRA: 'x', OA_UNIT: 'web@0.service', OA_COMMIT: 'abcdef1234' },
      ports: [],
      restartPolicy: 'unless-stopped',
      command: ['run'],
    });
    expect(step.containerPorts).to.deep.equal([8080]);
  });

  it("a route's canary goes with its unit's first start only; a unit without one has none", () => {
    const canary = { weight: 10, duration_seconds: 30, max_error_rate: 0.05 };
    const routed = unit({ route: { hostname: 'web.example.test', port: 8000, canary } });
    const other = DeployableUnit.parse({ name: 'api', ports: [9000], route: { hostname: 'api.example.test', port: 8000 } });
    const existing = [running('h1', 0, 20000, 'old'), running('h2', 1, 20001, 'old')];
    const steps = plan({ commit: 'ffff', defaultImage: 'reg/web:ffff', units: [routed, other], existing }).steps;
    const canaries = steps.map((s) => `${s.unit}@${s.instance}: ${s.kind === 'start' && s.canary !== undefined ? s.canary.weight : '-'}`);
    expect(canaries).to.deep.equal(['web@0: 10', 'web@1: -', 'web@2: -', 'api@0: -', 'api@1: -', 'api@2: -']);
  });

  it('a canary unit redelivered mid-window: the unjudged new container leaves first and the canary starts again; without a canary the new one is kept', () => {
    const canary = { weight: 10, duration_seconds: 30, max_error_rate: 0.05 };
    const route = { hostname: 'web.example.test', port: 8000 };
    const existing = [running('h1', 0, 20003, 'ffff'), running('h1', 0, 20000, 'old'), running('h2', 1, 20001, 'old')];
    const over = { commit: 'ffff', defaultImage: 'reg/web:ffff', existing, hosts: ['h1', 'h2'] };
    const judged = plan({ ...over, units: [unit({ instances: 2, route: { ...route, canary } })] });
    expect(judged.steps.map(brief)).to.deep.equal(['remove h1-0-ffff (duplicate)', 'start 0@h1 replaces h1-0-old', 'start 1@h2 replaces h2-1-old']);
    expect(judged.steps[1]).to.deep.include({ canary });
    const plain = plan({ ...over, units: [unit({ instances: 2, route })] });
    expect(plain.steps.map(brief)).to.deep.equal(['start 1@h2 replaces h2-1-old', 'remove h1-0-old (duplicate)']);
  });
});

describe('deployer core: cluster ports', () => {
  const spec = { name: 'web-0-abc-n0', image: 'i', labels: { [LABELS.unit]: 'web' }, env: { A: '1' }, ports: [], restartPolicy: 'no' as const };

  it('publishes the allocated host ports on the bind address, in the label and the environment', () => {
    expect(publishPorts(spec, { 8080: 20_001, 9090: 20_002 }, '127.0.0.1')).to.deep.equal({
      ...spec,
      labels: { [LABELS.unit]: 'web', [LABELS.ports]: '{"8080":20001,"9090":20002}' },
      env: { A: '1', OA_HOST_PORT_8080: '20001', OA_HOST_PORT_9090: '20002' },
      ports: [{ container: 8080, host: 20_001, hostIp: '127.0.0.1' }, { container: 9090, host: 20_002, hostIp: '127.0.0.1' }],
    });
    expect(publishPorts(spec, { 8080: 20_001 }, null).ports).to.deep.equal([{ container: 8080, host: 20_001 }]);
  });

  const refusals: Array<[string, number[], number[] | undefined]> = [
    ['Bind for 0.0.0.0:20002 failed: port is already allocated', [20_001, 20_002], [20_002]],
    ['Error starting userland proxy: listen tcp4 127.0.0.1:20001: bind: address already in use', [20_001, 20_002], [20_001]],
    ['listen tcp6 [::]:20003: bind: address already in use', [20_003], [20_003]],
    ['address already in use', [20_001, 20_002], [20_001, 20_002]],
    ['no such image', [20_001], undefined],
  ];
  for (const [message, tried, busy] of refusals) {
    it(`reads which port Docker found busy: ${message}`, () => expect(busyPortsOf(message, tried)).to.deep.equal(busy));
  }

  it('reads the ports a container label holds', () => {
    expect(portsOfLabels({ [LABELS.ports]: '{"80":"x","81":20009}' })).to.deep.equal({ 81: 20009 });
    expect(portsOfLabels({ [LABELS.ports]: '[1]' })).to.deep.equal({});
    expect(portsOfLabels({ [LABELS.ports]: 'not json' })).to.deep.equal({});
  });
});
