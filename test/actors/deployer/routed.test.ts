import { expect } from 'chai';
import { addressesReported } from '../../../actors/deployer/messages.js';
import { STEP_COMPLETED, STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import { sleep } from '../../../runtime/core/promises.js';
import { needsDockerHosts } from '../../helpers/docker-hosts.js';
import { needs } from '../../helpers/services.js';
import { get } from '../../runtime/haproxy/harness.js';
import { buildWebImage, startProbe, type Probe } from './fixtures.js';
import { startRoutedWorld, type RoutedWorld } from './routed-world.js';

const failedOf = (p: Probe) => p.answers.filter((a) => a.status !== 200);
const versionsOf = (p: Probe) => new Set(p.answers.filter((a) => a.status === 200).map((a) => a.body.split(' ')[0]));

describe('Deployer and Router: a unit with a route keeps one address across re-deploys (real HAProxy, three Docker hosts, one over ssh://)', function () {
  this.timeout(600_000);
  needs('docker', 'registry', 'sshd', 'haproxy');
  needsDockerHosts();
  const commits = ['a1', 'b2', 'c3', 'd4', 'e5'].map((c) => c.repeat(20));
  let world: RoutedWorld;
  let images: Record<'v1' | 'v2' | 'broken', string>;

  before(async () => {
    world = await startRoutedWorld('routed');
    images = { v1: await buildWebImage(world.repo, 'v1'), v2: await buildWebImage(world.repo, 'v2'), broken: await buildWebImage(world.repo, 'broken', false) };
  });
  after(() => world?.close());

  const request = (image: string, commit: string) => world.request(image, commit, { instances: 6, route: { drain_seconds: 5 } });
  const backends = () => world.backends();

  it('the first deploy creates the authority and adds each instance once healthy; the router serves it', async () => {
    const reply = await world.deployer.deploy(request(images.v1, commits[0]!));
    expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    expect(await backends()).to.have.length(6).and.satisfy((all: string[]) => all.every((b) => b.endsWith(' ready 100')));
    const answer = await get(world.port, world.hostname);
    expect([answer.status, answer.body.split(' ')[0]]).to.deep.equal([200, 'v1']);
    expect(addressesReported(reply.payload.event_log as string[])).to.deep.equal([`http://${world.hostname}:${world.port}/`]);
  });

  it('three consecutive re-deploys of 6 instances under 50 requests/s through the router: 0 failed requests', async () => {
    const probe = startProbe(world.port, world.hostname);
    const rounds: Array<[string, string]> = [
      [images.v2, commits[1]!],
      [images.v1, commits[2]!],
      [images.v2, commits[3]!],
    ];
    for (const [image, commit] of rounds) {
      const reply = await world.deployer.deploy(request(image, commit));
      expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    }
    await probe.stop();
    process.stdout.write(`      three re-deploys through the router: ${probe.answers.length} requests, ${failedOf(probe).length} failed\n`);
    expect(failedOf(probe), JSON.stringify(failedOf(probe).slice(0, 3))).to.deep.equal([]);
    expect(probe.answers.length).to.be.greaterThan(100);
    expect([...versionsOf(probe)].sort()).to.deep.equal(['v1', 'v2']);
    expect(await backends(), 'six backends, the drained ones removed').to.have.length(6);
    expect(world.deployer.chat.some((c) => /left route .*: drained in \d+\.\d s/.test(c.message)), 'the event log says each drain').to.equal(true);
  });

  it('a release that fails its health check gets no request; the old release keeps serving', async () => {
    const before = await backends();
    const probe = startProbe(world.port, world.hostname);
    const reply = await world.deployer.deploy(request(images.broken, commits[4]!));
    await sleep(500);
    await probe.stop();
    expect(reply.type).to.equal(STEP_FAILED);
    expect(failedOf(probe)).to.deep.equal([]);
    expect([...versionsOf(probe)], 'only the old release answered').to.deep.equal(['v2']);
    expect(await backends()).to.deep.equal(before);
  });
});
