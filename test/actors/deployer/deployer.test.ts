import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { LABELS, NO_ROUTE } from '../../../actors/deployer/messages.js';
import { STEP_COMPLETED, STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import { containerOps, type ContainerSummary } from '../../../runtime/docker/containers.js';
import type { DockerHost } from '../../../runtime/docker/host.js';
import { connect, needsDockerHosts, testDockerHosts, threeHosts } from '../../helpers/docker-hosts.js';
import { managerClient, type ManagerClient } from '../../../http/client/manager-client.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { needs, services } from '../../helpers/services.js';
import { answering, buildWebImage, cleanHosts, seedCluster, startDeployer, startManager, type TestDeployer, type TestManager } from './fixtures.js';

type Hosted = ContainerSummary & { host: string };

const WEB = { name: 'web', ports: [8080], environment: { FROM_UNIT: 'unit', GREETING: 'from the unit file' }, health: { http: { path: '/health', timeout_seconds: 4, interval_seconds: 0.2 } } };

describe('Deployer: rolling deploys over three Docker hosts (one over ssh://), driven as the orchestrator', function () {
  this.timeout(240_000);
  needs('docker', 'registry', 'sshd');
  needsDockerHosts();
  const cluster = `deploy-${randomUUID().slice(0, 8)}`;
  const commits = { v1: 'a1'.repeat(20), v2: 'b2'.repeat(20), v3: 'c3'.repeat(20) };
  let repo: string;
  let images: Record<'v1' | 'v2' | 'v3', string>;
  let manager: TestManager;
  let deployer: TestDeployer;
  let workflowId: string;
  let hosts: DockerHost[];
  let client: ManagerClient;

  before(async () => {
    repo = `${services().registry}/oa-deployer-test-${cluster}/web`;
    images = { v1: await buildWebImage(repo, 'v1'), v2: await buildWebImage(repo, 'v2'), v3: await buildWebImage(repo, 'v3', false) };
    const three = threeHosts();
    hosts = three.map((h) => connect(h));
    manager = await startManager();
    workflowId = await seedCluster(manager, cluster, three);
    await manager.seed('POST', '/products', { name: `shop-${cluster}` });
    await manager.seed('POST', `/products/shop-${cluster}/environments`, { name: 'prod' });
    await manager.seed('POST', `/products/shop-${cluster}/environments/prod/variables`, { name: 'GREETING', value: 'hello from prod' });
    deployer = await startDeployer(manager);
    client = managerClient({ baseUrl: manager.baseUrl, ...manager.client, log: captureLogs().log });
  });
  after(async () => {
    await deployer?.stop();
    await manager?.close();
    await Promise.all((hosts ?? []).map((h) => h.close()));
    await cleanHosts(testDockerHosts().sockets, cluster, repo);
  });

  const request = (version: 'v1' | 'v2' | 'v3', instances: number | undefined = undefined) => ({
    id: workflowId,
    etcd_token: cluster,
    docker_image: images[version],
    source_commit_hash: commits[version],
    deployable_units: [{ ...WEB, ...(instances === undefined ? {} : { instances }) }],
    product_name: `shop-${cluster}`,
    environment_name: 'prod',
  });

  /** Every container of the cluster, on every host. */
  const containers = async (): Promise<Hosted[]> =>
    (await Promise.all(hosts.map(async (h) => (await containerOps(h).listByLabels({ [LABELS.cluster]: cluster })).map((c) => ({ ...c, host: h.name }))))).flat();
  const portOf = (c: ContainerSummary): number => (JSON.parse(c.labels[LABELS.ports]!) as Record<string, number>)['8080']!;
  const byInstance = (cs: Hosted[]) => [...cs].sort((a, b) => Number(a.labels[LABELS.instance]) - Number(b.labels[LABELS.instance]));

  it('[deploy] puts one instance per host, each answering on its own allocated port with the product environment', async () => {
    const reply = await deployer.deploy(request('v1'));
    expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    const running = byInstance(await containers());
    expect(running.map((c) => [c.host, c.labels[LABELS.instance], c.labels[LABELS.commit], c.state])).to.deep.equal([
      ['h1', '0', commits.v1, 'running'],
      ['h2', '1', commits.v1, 'running'],
      ['h3', '2', commits.v1, 'running'],
    ]);
    expect(running.map(portOf)).to.deep.equal([20_000, 20_001, 20_002]);
    expect(await answering()).to.deep.equal({ 'web@0.service': 'v1', 'web@1.service': 'v1', 'web@2.service': 'v1' });
    const env = await hosts[1]!.call('inspect', (api) => api.getContainer(running[1]!.id).inspect());
    expect(env.Config.Env).to.include.members(['GREETING=hello from prod', 'FROM_UNIT=unit', 'OA_UNIT=web@1.service', 'OA_HOST_PORT_8080=20001']);
    expect(env.HostConfig.RestartPolicy?.Name).to.equal('unless-stopped');
    expect(running[0]!.labels).to.include({ [LABELS.managed]: 'true', [LABELS.product]: `shop-${cluster}`, [LABELS.unit]: 'web', [LABELS.workflow]: workflowId });
    const log = (reply.payload.event_log as string[]).join('\n');
    expect(log).to.contain(`is being processed by Deployer`).and.to.contain('Preparing to deploy 3 instances of web onto 3 hosts');
    expect(log).to.contain('The units have been deployed: 3 started, 0 unchanged, 0 removed');
    expect((reply.payload.event_log as string[]).at(-1)).to.contain(NO_ROUTE);
  });

  it('a re-deploy of the same commit changes nothing', async () => {
    const before = (await containers()).map((c) => c.id).sort();
    const reply = await deployer.deploy(request('v1'));
    expect(reply.type).to.equal(STEP_COMPLETED);
    expect((await containers()).map((c) => c.id).sort()).to.deep.equal(before);
    expect((reply.payload.event_log as string[]).at(-2)).to.contain(`Nothing to change: every instance already runs commit ${commits.v1}`);
    expect((reply.payload.event_log as string[]).at(-1)).to.contain(NO_ROUTE);
  });

  it('a new commit replaces the instances one by one: at least N-1 answer at every moment', async () => {
    const samples: Array<Record<string, string>> = [];
    let probing = true;
    const probe = (async () => {
      while (probing) samples.push(await answering());
    })();
    const reply = await deployer.deploy(request('v2'));
    probing = false;
    await probe;
    expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
    expect(samples.length).to.be.greaterThan(5);
    const fewest = Math.min(...samples.map((s) => Object.keys(s).length));
    expect(fewest, JSON.stringify(samples.find((s) => Object.keys(s).length === fewest))).to.be.at.least(2);
    // The rollout was seen in between: some moment had both versions answering.
    expect(samples.some((s) => new Set(Object.values(s)).size === 2)).to.equal(true);
    const after = byInstance(await containers());
    expect(after.map((c) => [c.host, c.labels[LABELS.commit]])).to.deep.equal([
      ['h1', commits.v2],
      ['h2', commits.v2],
      ['h3', commits.v2],
    ]);
    // A fresh port while the old ones are held; a retired instance's port is free again for the next step.
    expect(after.map(portOf)).to.deep.equal([20_003, 20_000, 20_001]);
    expect(await answering()).to.deep.equal({ 'web@0.service': 'v2', 'web@1.service': 'v2', 'web@2.service': 'v2' });
  });

  it('a new image that fails its health check: the milestone fails with its log lines, the old instances keep answering, nothing of it remains', async () => {
    const before = (await containers()).map((c) => c.id).sort();
    const reply = await deployer.deploy(request('v3'));
    expect(reply.type).to.equal(STEP_FAILED);
    const reason = String(reply.payload.failure_reason);
    expect(reason).to.contain('web@0.service on host h1: not healthy after').and.to.contain('HTTP 404');
    expect(reason).to.contain('web v3: health endpoint disabled');
    expect((await containers()).map((c) => c.id).sort()).to.deep.equal(before);
    expect((await containers()).filter((c) => c.labels[LABELS.commit] === commits.v3)).to.deep.equal([]);
    expect(await answering()).to.deep.equal({ 'web@0.service': 'v2', 'web@1.service': 'v2', 'web@2.service': 'v2' });
    const red = deployer.chat.filter((c) => !c.is_success).map((c) => c.message);
    expect(red.some((m) => m.startsWith('Unit web@0.service has failed to startup') && m.includes('health endpoint disabled'))).to.equal(true);
    expect(red).to.include('The following unit(s) have failed to deploy: [web@0.service]');
  });

  it('scales 3 -> 1 -> 3: surplus removed and their ports released, then re-used; no two instances share a port', async () => {
    const down = await deployer.deploy(request('v2', 1));
    expect(down.type).to.equal(STEP_COMPLETED);
    const one = await containers();
    expect(one.map((c) => [c.labels[LABELS.instance], portOf(c)])).to.deep.equal([['0', 20_003]]);
    expect(await answering()).to.deep.equal({ 'web@0.service': 'v2' });

    const up = await deployer.deploy(request('v2', 3));
    expect(up.type).to.equal(STEP_COMPLETED);
    const three = byInstance(await containers());
    expect(three.map((c) => [c.labels[LABELS.instance], c.id === one[0]!.id ? 'kept' : 'new', portOf(c)])).to.deep.equal([
      ['0', 'kept', 20_003],
      ['1', 'new', 20_000],
      ['2', 'new', 20_001],
    ]);
    expect(new Set(three.map((c) => c.host)).size).to.equal(3);
    expect(await answering()).to.deep.equal({ 'web@0.service': 'v2', 'web@1.service': 'v2', 'web@2.service': 'v2' });
  });

  /** The cluster's allocations as `GET /clusters/:token/ports` lists them, and what the containers publish, alike. */
  const allocations = async () => (await client.clusters.ports(cluster)).items.map((p) => [p.holder, p.host, p.port]).sort();
  const published = async () => (await containers()).map((c) => [c.name, c.host, portOf(c)]).sort();

  it('GET /clusters/:token/ports lists every allocation after each deploy: one row per published port, none of removed containers', async () => {
    expect(await allocations()).to.deep.equal(await published());
    expect(await allocations()).to.have.length(3);
  });

  it('a re-run deploy releases what an earlier attempt allocated and never started', async () => {
    await client.clusters.allocatePorts(cluster, { holder: 'web-1-crashed-attempt', host: 'h2', workflow_id: workflowId, container_ports: [8080] });
    expect(await allocations()).to.have.length(4);
    const reply = await deployer.deploy(request('v2', 3));
    expect(reply.type).to.equal(STEP_COMPLETED);
    expect((reply.payload.event_log as string[]).join('\n')).to.contain('Released 1 host port of containers no longer in the cluster: 20002');
    expect(await allocations()).to.deep.equal(await published());
  });

  it('a host port held by another listener is skipped and the deploy succeeds; ports bind the cluster\'s address', async () => {
    // 20002 is the lowest free port now: a process on this machine (where all three engines publish) holds it.
    const listener: Server = createServer();
    await new Promise<void>((resolve) => listener.listen(20_002, '0.0.0.0', resolve));
    try {
      await manager.seed('PUT', `/clusters/${cluster}`, { bind_address: '127.0.0.1' });
      const reply = await deployer.deploy(request('v1'));
      expect(reply.type, String(reply.payload.failure_reason)).to.equal(STEP_COMPLETED);
      const log = (reply.payload.event_log as string[]).join('\n');
      // h1 and h2 each try it once (the lowest free port when their step starts); h3 gets a port freed before it.
      for (const host of ['h1', 'h2']) expect(log).to.contain(`Host port 20002 busy on host ${host} (another listener holds it): skipped`);
      const now = byInstance(await containers());
      expect(now.map((c) => [c.labels[LABELS.commit], c.state])).to.deep.equal(Array(3).fill([commits.v1, 'running']));
      expect(now.map(portOf)).to.not.include(20_002);
      expect(await allocations()).to.deep.equal(await published());
      const bound = await hosts[0]!.call('inspect', (api) => api.getContainer(now[0]!.id).inspect());
      expect(bound.HostConfig.PortBindings?.['8080/tcp']).to.deep.equal([{ HostIp: '127.0.0.1', HostPort: String(portOf(now[0]!)) }]);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('a request naming a cluster without hosts, or no units, fails the milestone saying why', async () => {
    const none = await deployer.deploy({ ...request('v2'), etcd_token: 'no-such-cluster' });
    expect([none.type, none.payload.failure_reason]).to.deep.equal([STEP_FAILED, 'Cluster no-such-cluster does not exist']);
    const empty = await deployer.deploy({ ...request('v2'), deployable_units: [] });
    expect([empty.type, empty.payload.failure_reason]).to.deep.equal([STEP_FAILED, 'There are no valid units to deploy!']);
  });
});
