import { expect } from 'chai';
import { STEP_COMPLETED, STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import { sleep } from '../../../runtime/core/promises.js';
import { needsDockerHosts } from '../../helpers/docker-hosts.js';
import { needs } from '../../helpers/services.js';
import { buildWebImage, startProbe, type Probe } from './fixtures.js';
import { startRoutedWorld, type RoutedWorld } from './routed-world.js';

const versionOf = (a: Probe['answers'][number]) => a.body.split(' ')[0];

describe('Deployer and Router: canary releases judged by the router counters (real HAProxy, three Docker hosts)', function () {
  this.timeout(600_000);
  needs('docker', 'registry', 'sshd', 'haproxy');
  needsDockerHosts();
  const commits = ['a1', 'b2', 'c3'].map((c) => c.repeat(20));
  const canary = { weight: 10, duration_seconds: 20, max_error_rate: 0.05 };
  let world: RoutedWorld;
  let images: Record<'v1' | 'v2' | 'failing', string>;

  before(async () => {
    world = await startRoutedWorld('canary');
    const { repo } = world;
    images = { v1: await buildWebImage(repo, 'v1'), v2: await buildWebImage(repo, 'v2'), failing: await buildWebImage(repo, 'failing', true, 500) };
    const first = await world.deployer.deploy(request(images.v1, commits[0]!));
    expect(first.type, String(first.payload.failure_reason)).to.equal(STEP_COMPLETED);
  });
  after(() => world?.close());

  const request = (image: string, commit: string, withCanary = false) => world.request(image, commit, { instances: 3, route: { drain_seconds: 5, ...(withCanary ? { canary } : {}) } });
  const backends = () => world.backends();
  const said = (pattern: RegExp) => world.deployer.chat.some((c) => pattern.test(c.message));

  it('at 10%, the canary takes 7-13% of 2,000+ requests through its window, is promoted, and the rollout goes on', async () => {
    const probe = startProbe(world.port, world.hostname, { everyMs: 0, clients: 4 });
    // The answers between the Deployer saying the canary took its share and saying it was promoted.
    const window = { from: -1, to: -1 };
    const deploy = world.deployer.deploy(request(images.v2, commits[1]!, true));
    const marking = (async () => {
      while (window.to < 0 && !(await Promise.race([deploy.then(() => true), sleep(5).then(() => false)]))) {
        if (window.from < 0 && said(/^Canary of web@0\.service: .* takes 10% of route/)) window.from = probe.answers.length;
        if (window.from >= 0 && said(/^Canary of web@0\.service promoted: /)) window.to = probe.answers.length;
      }
    })();
    const reply = await deploy;
    await marking;
    await probe.stop();
    expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    expect(window.from, 'the canary took its share').to.be.at.least(0);
    expect(window.to, 'the canary was promoted').to.be.above(window.from);
    const during = probe.answers.slice(window.from, window.to);
    const share = during.filter((a) => versionOf(a) === 'v2').length / during.length;
    process.stdout.write(`      canary at 10%: ${(100 * share).toFixed(1)}% of ${during.length} requests in its window\n`);
    expect(during.length).to.be.at.least(2_000);
    expect(share).to.be.within(0.07, 0.13);
    expect(probe.answers.filter((a) => a.status !== 200)).to.deep.equal([]);
    expect(world.deployer.chat.find((c) => /promoted/.test(c.message))?.message).to.match(/promoted: error rate 0\.0% \(0 of \d+ requests\), \d+\.\d% of the route's \d+ requests, in 2\d\.\d s$/);
    expect(await backends(), 'three v2 backends at the default weight').to.have.length(3).and.satisfy((all: string[]) => all.every((b) => b.endsWith(' ready 100')));
    expect(new Set(probe.answers.slice(-20).map(versionOf))).to.deep.equal(new Set(['v2']));
  });

  it('a canary answering 5xx is aborted within its window, naming the error rate; the old release keeps serving, untouched', async () => {
    const before = await backends();
    const probe = startProbe(world.port, world.hostname, { everyMs: 0, clients: 4 });
    const startedAt = Date.now();
    const reply = await world.deployer.deploy(request(images.failing, commits[2]!, true));
    const tookMs = Date.now() - startedAt;
    await sleep(500);
    await probe.stop();
    expect(reply.type).to.equal(STEP_FAILED);
    process.stdout.write(`      failing canary, after ${tookMs} ms: ${String(reply.payload.failure_reason)}\n`);
    expect(String(reply.payload.failure_reason)).to.match(/canary aborted, above the maximum 5\.0%: error rate 100\.0% \(\d+ of \d+ requests\)/);
    expect(tookMs, 'aborted before its 20 s window ended').to.be.below(canary.duration_seconds * 1_000);
    expect(await backends(), 'the old backends, weights and states as before').to.deep.equal(before);
    const failed = probe.answers.filter((a) => a.status !== 200);
    expect(failed.length, 'the canary answered some requests with 500').to.be.above(0);
    expect(new Set(failed.map((a) => `${a.status} ${versionOf(a)}`)), 'only the canary failed any').to.deep.equal(new Set(['500 failing']));
    expect(new Set(probe.answers.slice(-20).map(versionOf))).to.deep.equal(new Set(['v2']));
  });
});
