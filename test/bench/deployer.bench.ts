import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { planDeployment, type HostedContainer } from '../../actors/deployer/core/plan.js';
import { portAllocator } from '../../actors/deployer/deploy.js';
import type { ClusterHost } from '../../actors/deployer/hosts.js';
import { LABELS } from '../../actors/deployer/messages.js';
import { rollout, type PortAllocator } from '../../actors/deployer/rollout.js';
import type { RouteKeeper } from '../../actors/deployer/routes.js';
import { DeployableUnit } from '../../actors/orchestrator/messages.js';
import { sleep } from '../../runtime/core/promises.js';
import { containerOps } from '../../runtime/docker/containers.js';
import { dockerHost, type DockerHost } from '../../runtime/docker/host.js';
import { managerClient } from '../../http/client/manager-client.js';
import { buildWebImage, cleanHosts, seedCluster, startManager } from '../actors/deployer/fixtures.js';
import { captureLogs } from '../helpers/log-capture.js';
import { connect, testDockerHosts, threeHosts } from '../helpers/docker-hosts.js';
import type { BenchResult } from './report.js';

/**
 * Issue 7: a rolling deploy of 6 instances over the 3 hosts (one over ssh://) through the Deployer's plan and rollout,
 * against a hand-written dockerode script doing the same steps (per instance: create, start, poll the HTTP health
 * path, stop and remove the old one) on the same hosts and images, in the same run (goal: <= 1.2x its wall time);
 * and one Docker API call over ssh:// against the unix socket of the same daemon (goal: <= 2x). Ours asks a real
 * Manager (PGlite) for each container's host ports, as a deploy does; the script numbers its ports itself.
 */
const INSTANCES = 6;
const POLL_MS = 200;
const CALLS = 200;

/** The bench's unit declares no route, so the rollout never asks a router. */
const noRoute = (): Promise<never> => Promise.reject(new Error('the bench unit has no route'));
const NO_ROUTES: RouteKeeper = { join: noRoute, leave: noRoute, peers: noRoute, weigh: noRoute, counters: noRoute };

const UNIT = DeployableUnit.parse({ name: 'bench', ports: [8080], instances: INSTANCES, health: { http: { path: '/health', timeout_seconds: 30, interval_seconds: POLL_MS / 1_000 } } });

async function ours(hosts: readonly ClusterHost[], cluster: string, ports: PortAllocator, image: string, commit: string): Promise<number> {
  const existing: HostedContainer[] = (
    await Promise.all(hosts.map(async (h) => (await h.ops.listByLabels({ [LABELS.cluster]: cluster })).map((c) => ({ ...c, host: h.name }))))
  ).flat();
  const started = performance.now();
  const planned = planDeployment({
    cluster, workflowId: 'bench', commit, defaultImage: image, product: null, units: [UNIT], fleetInstanceCount: null,
    hosts: hosts.map((h) => h.name), existing, environment: {}, nonce: randomUUID().slice(0, 6),
  });
  if (!planned.ok) throw new Error(planned.reason);
  const result = await rollout(planned.plan, { hosts: new Map(hosts.map((h) => [h.name, h])), registryAuthFor: () => undefined, defaultRunningSeconds: 1, logLines: 10, notify: async () => undefined, ports, bindAddress: null, routes: NO_ROUTES });
  if (!result.ok) throw new Error(result.reason);
  return performance.now() - started;
}

async function healthy(port: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(POLL_MS);
  }
}

/** The same steps, written by hand against dockerode: what a careful operator's script would do. */
async function baseline(apis: readonly Docker[], previous: Array<Docker.Container | undefined>, image: string, firstPort: number): Promise<{ ms: number; containers: Docker.Container[] }> {
  const started = performance.now();
  const containers: Docker.Container[] = [];
  for (let i = 0; i < INSTANCES; i += 1) {
    const api = apis[i % apis.length]!;
    const port = firstPort + i;
    const c = await api.createContainer({
      name: `bench-raw-${i}-${randomUUID().slice(0, 6)}`,
      Image: image,
      Labels: { 'io.openaperture.bench': 'raw' },
      Env: [`OA_UNIT=bench@${i}.service`],
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: String(port) }] }, RestartPolicy: { Name: 'unless-stopped' } },
    });
    await c.start();
    await healthy(port);
    const old = previous[i];
    if (old) {
      await old.stop({ t: 10 });
      await old.remove({ force: true });
    }
    containers.push(c);
  }
  return { ms: performance.now() - started, containers };
}

async function apiCalls(host: DockerHost): Promise<number> {
  await host.call('version', (api) => api.version());
  const started = performance.now();
  for (let i = 0; i < CALLS; i += 1) await host.call('version', (api) => api.version());
  return (CALLS * 1_000) / (performance.now() - started);
}

/** The baseline script talks to dockerode directly, over the same kinds of connection (the ssh one included). */
async function rawApis(): Promise<{ apis: Docker[]; hosts: DockerHost[] }> {
  const hosts = threeHosts('raw').map((h) => connect(h));
  const apis: Docker[] = [];
  for (const h of hosts) await h.call('grab client', async (api) => void apis.push(api));
  return { apis, hosts };
}

export async function benchDeployer(): Promise<BenchResult[]> {
  const cluster = `bench-${randomUUID().slice(0, 8)}`;
  const repo = `${process.env.OA_TEST_REGISTRY ?? '127.0.0.1:5000'}/oa-deployer-bench/web`;
  const images = { v1: await buildWebImage(repo, 'v1'), v2: await buildWebImage(repo, 'v2') };
  const specs = threeHosts();
  const hosts: ClusterHost[] = specs.map((s) => ({ name: s.spec.name, ops: containerOps(connect(s)), address: '127.0.0.1' }));
  const { apis, hosts: rawHosts } = await rawApis();
  const manager = await startManager();
  try {
    const workflowId = await seedCluster(manager, cluster, specs);
    const client = managerClient({ baseUrl: manager.baseUrl, ...manager.client, log: captureLogs().log });
    const ports = portAllocator(client, cluster, { id: workflowId, product_name: null });
    // Warm-up (not measured): each side's first deploy pulls the images and starts the 6 instances it then replaces.
    await ours(hosts, cluster, ports, images.v1, 'v1');
    let raw = await baseline(apis, [], images.v1, 47_000);
    const oursMs = await ours(hosts, cluster, ports, images.v2, 'v2');
    raw = await baseline(apis, raw.containers, images.v2, 47_100);
    process.stderr.write(`deployer bench: rolling deploy of ${INSTANCES} instances over 3 hosts: ours ${(oursMs / 1_000).toFixed(2)} s, hand-written dockerode ${(raw.ms / 1_000).toFixed(2)} s (${(oursMs / raw.ms).toFixed(2)}x wall)\n`);
    for (const c of raw.containers) await c.remove({ force: true });

    const t = testDockerHosts();
    const unix = dockerHost({ name: 'unix', url: `unix://${t.sshSocket}` });
    const ssh = connect(specs[1]!);
    const [unixRate, sshRate] = [await apiCalls(unix), await apiCalls(ssh)];
    await Promise.all([unix.close(), ssh.close()]);
    return [
      { name: `rolling deploy, ${INSTANCES} instances / 3 hosts`, unit: 'deploys/min', baseline: { label: 'hand-written dockerode', value: 60_000 / raw.ms }, ours: { label: 'Deployer plan + rollout', value: 60_000 / oursMs } },
      { name: 'Docker API call (GET /version)', unit: 'calls/s', baseline: { label: 'unix socket', value: unixRate }, ours: { label: 'ssh://, one kept connection', value: sshRate } },
    ];
  } finally {
    await cleanHosts(testDockerHosts().sockets, cluster, repo);
    await manager.close();
    await Promise.all([...hosts.map((h) => h.ops.host.close()), ...rawHosts.map((h) => h.close())]);
  }
}
