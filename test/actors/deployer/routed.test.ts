import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressesReported } from '../../../actors/deployer/messages.js';
import { STEP_COMPLETED, STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import { managerClient, type ManagerClient } from '../../../http/client/manager-client.js';
import { sleep } from '../../../runtime/core/promises.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import { needsDockerHosts, testDockerHosts, threeHosts } from '../../helpers/docker-hosts.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { closedPort } from '../../helpers/ports.js';
import { needs, services } from '../../helpers/services.js';
import { get } from '../../runtime/haproxy/harness.js';
import { routerArgs, startRouter, type TestRouter } from '../router/harness.js';
import { buildWebImage, cleanHosts, seedCluster, startDeployer, startManager, type TestDeployer, type TestManager } from './fixtures.js';

/** What a client at 50 requests a second through the router saw: each answer's status and body. */
interface Probe {
  readonly answers: Array<{ readonly status: number; readonly body: string }>;
  stop(): Promise<void>;
}

function probeAt50PerSecond(port: number, host: string): Probe {
  const answers: Array<{ status: number; body: string }> = [];
  let probing = true;
  const loop = (async () => {
    while (probing) {
      const started = Date.now();
      answers.push(await get(port, host).catch((err: Error) => ({ status: 0, body: err.message })));
      await sleep(Math.max(0, 20 - (Date.now() - started)));
    }
  })();
  return {
    answers,
    async stop() {
      probing = false;
      await loop;
    },
  };
}

const failedOf = (p: Probe) => p.answers.filter((a) => a.status !== 200);
const versionsOf = (p: Probe) => new Set(p.answers.filter((a) => a.status === 200).map((a) => a.body.split(' ')[0]));

describe('Deployer and Router: a unit with a route keeps one address across re-deploys (real HAProxy, three Docker hosts, one over ssh://)', function () {
  this.timeout(600_000);
  needs('docker', 'registry', 'sshd', 'haproxy');
  needsDockerHosts();
  const cluster = `routed-${randomUUID().slice(0, 8)}`;
  const hostname = `web-${cluster}.example.test`;
  const commits = ['a1', 'b2', 'c3', 'd4', 'e5'].map((c) => c.repeat(20));
  let repo: string;
  let images: Record<'v1' | 'v2' | 'broken', string>;
  let manager: TestManager;
  let deployer: TestDeployer;
  let router: TestRouter;
  let client: ManagerClient;
  let workflowId: string;
  let port: number;
  let dir: string;

  before(async () => {
    repo = `${services().registry}/oa-routed-test-${cluster}/web`;
    images = { v1: await buildWebImage(repo, 'v1'), v2: await buildWebImage(repo, 'v2'), broken: await buildWebImage(repo, 'broken', false) };
    manager = await startManager();
    workflowId = await seedCluster(manager, cluster, threeHosts());
    const broker = new MemoryBroker();
    dir = mkdtempSync(join(tmpdir(), 'oa-routed-'));
    router = await startRouter(routerArgs({ baseUrl: manager.baseUrl, ...manager.client }, join(dir, 'router')), broker);
    deployer = await startDeployer(manager, {}, broker);
    client = managerClient({ baseUrl: manager.baseUrl, ...manager.client, log: captureLogs().log });
    port = await closedPort();
  });
  after(async () => {
    await deployer?.stop();
    await router?.stop();
    await manager?.close();
    await cleanHosts(testDockerHosts().sockets, cluster, repo);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const request = (image: string, commit: string, drainSeconds = 5) => ({
    id: workflowId,
    etcd_token: cluster,
    docker_image: image,
    source_commit_hash: commit,
    deploy_messaging_exchange_id: '1',
    deployable_units: [
      {
        name: 'web',
        ports: [8080],
        instances: 6,
        health: { http: { path: '/health', timeout_seconds: 4, interval_seconds: 0.2 } },
        route: { hostname, port, drain_seconds: drainSeconds },
      },
    ],
  });

  const backends = async () => (await client.router.authority(hostname, port))?.routes.map((r) => `${r.hostname}:${r.port} ${r.state}`).sort() ?? [];

  it('the first deploy creates the authority and adds each instance once healthy; the router serves it', async () => {
    const reply = await deployer.deploy(request(images.v1, commits[0]!));
    expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    expect(await backends()).to.have.length(6).and.satisfy((all: string[]) => all.every((b) => b.endsWith(' ready')));
    const answer = await get(port, hostname);
    expect([answer.status, answer.body.split(' ')[0]]).to.deep.equal([200, 'v1']);
    expect(addressesReported(reply.payload.event_log as string[])).to.deep.equal([`http://${hostname}:${port}/`]);
  });

  it('three consecutive re-deploys of 6 instances under 50 requests/s through the router: 0 failed requests', async () => {
    const probe = probeAt50PerSecond(port, hostname);
    const rounds: Array<[string, string]> = [
      [images.v2, commits[1]!],
      [images.v1, commits[2]!],
      [images.v2, commits[3]!],
    ];
    for (const [image, commit] of rounds) {
      const reply = await deployer.deploy(request(image, commit));
      expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    }
    await probe.stop();
    process.stdout.write(`      three re-deploys through the router: ${probe.answers.length} requests, ${failedOf(probe).length} failed\n`);
    expect(failedOf(probe), JSON.stringify(failedOf(probe).slice(0, 3))).to.deep.equal([]);
    expect(probe.answers.length).to.be.greaterThan(100);
    expect([...versionsOf(probe)].sort()).to.deep.equal(['v1', 'v2']);
    expect(await backends(), 'six backends, the drained ones removed').to.have.length(6);
    expect(deployer.chat.some((c) => /left route .*: drained in \d+\.\d s/.test(c.message)), 'the event log says each drain').to.equal(true);
  });

  it('a release that fails its health check gets no request; the old release keeps serving', async () => {
    const before = await backends();
    const probe = probeAt50PerSecond(port, hostname);
    const reply = await deployer.deploy(request(images.broken, commits[4]!));
    await sleep(500);
    await probe.stop();
    expect(reply.type).to.equal(STEP_FAILED);
    expect(failedOf(probe)).to.deep.equal([]);
    expect([...versionsOf(probe)], 'only the old release answered').to.deep.equal(['v2']);
    expect(await backends()).to.deep.equal(before);
  });
});
