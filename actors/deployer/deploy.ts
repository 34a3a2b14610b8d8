import { registryAuthFor, type DeployerArgs } from './config.js';
import { planDeployment, type DeployPlan, type HostedContainer } from './core/plan.js';
import { portsOfLabels } from './core/ports.js';
import { closeHosts, clusterHosts, type ClusterHost } from './hosts.js';
import { addressNotice, authorityUrl, LABELS, NO_ROUTE } from './messages.js';
import { rollout, type PortAllocator } from './rollout.js';
import { routeKeeper } from './routes.js';
import type { ManagerClient } from '../../http/client/manager-client.js';
import type { Cluster } from '../../http/client/schemas.js';
import type { Logger } from '../../runtime/logger.js';
import type { Messaging } from '../../runtime/messaging/transport.js';
import type { OrchestrationRequest } from '../orchestrator/messages.js';
import { DispatchSuperseded, rerunNotice } from '../shared/dispatch.js';
import { exchangeOf, milestoneReport, type MilestoneReport } from '../shared/milestone-report.js';

/**
 * One `deploy` / `deploy_oa` milestone (reference §7.1 over Docker hosts): notify, read the cluster (hosts, their
 * platform containers, the product environment's variables), reconcile the cluster's port allocations with its
 * containers, plan, roll out, and report `completed` or `failed` to the orchestrator. Every outcome, failures
 * included, ends in a report: the caller then acks.
 */

export interface DeployDeps {
  readonly args: DeployerArgs;
  readonly client: ManagerClient;
  readonly transport: Pick<Messaging, 'publish' | 'request'>;
  readonly log: Logger;
  readonly hostname: string;
  /** A short random text making this deploy's container names unique. */
  readonly nonce: () => string;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

async function clusterContainers(hosts: readonly ClusterHost[], token: string): Promise<HostedContainer[]> {
  const lists = await Promise.all(
    hosts.map(async (h) => (await h.ops.listByLabels({ [LABELS.managed]: 'true', [LABELS.cluster]: token })).map((c) => ({ ...c, host: h.name }))),
  );
  return lists.flat();
}

/** The commit the deployed containers are labelled with: the source commit, else the image's tag. */
const commitOf = (r: OrchestrationRequest): string => r.source_commit_hash ?? r.docker_image?.split(':').pop() ?? 'unknown';

const instanceCountOf = (fleet: OrchestrationRequest['fleet_config']): number | null => {
  const n = fleet?.['instance_cnt'];
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null;
};

function preparing(plan: DeployPlan): string {
  const units = Object.entries(plan.instances).map(([unit, n]) => `${plural(n, 'instance')} of ${unit}`);
  return `Preparing to deploy ${units.join(', ')} onto ${plural(plan.hosts, 'host')}: ${plural(plan.steps.length, 'step')}, ${plan.unchanged.length} instance(s) already on this commit...`;
}

async function environmentOf(deps: DeployDeps, r: OrchestrationRequest): Promise<Record<string, string> | string> {
  if (!r.product_name || !r.environment_name) return {};
  const variables = await deps.client.products.environmentVariables(r.product_name, r.environment_name);
  return variables ?? `Product ${r.product_name} has no environment ${r.environment_name}`;
}

/**
 * Gives back the ports of containers that are gone (a removed one, or one an earlier attempt of this deploy
 * allocated for and never started) and records those live containers hold unrecorded, before anything is allocated.
 */
async function reconcilePorts(deps: DeployDeps, report: MilestoneReport, found: { token: string; hosts: readonly ClusterHost[]; existing: readonly HostedContainer[] }): Promise<void> {
  const { token, hosts, existing } = found;
  const live = existing.map((c) => ({ holder: c.name, host: c.host, ports: portsOfLabels(c.labels) }));
  const { released, adopted } = await deps.client.clusters.reconcilePorts(token, { workflow_id: report.request.id, hosts: hosts.map((h) => h.name), live });
  if (released.length > 0) await report.notify(`Released ${plural(released.length, 'host port')} of containers no longer in the cluster: ${released.map((p) => p.port).join(', ')}`);
  if (adopted.length > 0) deps.log.info({ ports: adopted.map((p) => p.port) }, 'recorded host ports that running containers held unrecorded');
}

/** The Manager's port allocations of cluster `token`, for the containers workflow `r` starts. */
export function portAllocator(client: ManagerClient, token: string, r: Pick<OrchestrationRequest, 'id' | 'product_name'>): PortAllocator {
  return {
    allocate: (ask) =>
      client.clusters.allocatePorts(token, {
        holder: ask.holder,
        host: ask.host,
        workflow_id: r.id,
        container_ports: ask.containerPorts,
        avoid: ask.avoid,
        product_name: r.product_name ?? null,
        unit: ask.unit,
      }),
    release: (holder) => client.clusters.releasePorts(token, holder),
  };
}

/** Where a deploy goes: the request's token (as the containers are labelled), the cluster's bind address, its hosts. */
interface Target {
  readonly token: string;
  readonly cluster: Cluster;
  readonly hosts: readonly ClusterHost[];
}

async function deployOn(deps: DeployDeps, report: MilestoneReport, { token, cluster, hosts }: Target): Promise<void> {
  const r = report.request;
  const environment = await environmentOf(deps, r);
  if (typeof environment === 'string') return report.failed(environment);
  const existing = await clusterContainers(hosts, token);
  await reconcilePorts(deps, report, { token, hosts, existing });
  const planned = planDeployment({
    cluster: token,
    workflowId: r.id,
    commit: commitOf(r),
    defaultImage: r.docker_image ?? null,
    product: r.product_name ?? null,
    units: r.deployable_units ?? [],
    fleetInstanceCount: instanceCountOf(r.fleet_config),
    hosts: hosts.map((h) => h.name),
    existing,
    environment,
    nonce: deps.nonce(),
  });
  if (!planned.ok) return report.failed(planned.reason);
  const { plan } = planned;
  await report.notify(preparing(plan));
  if (plan.steps.length === 0) {
    await report.notify(`Nothing to change: every instance already runs commit ${commitOf(r)}`);
    await reportAddresses(report, r.deployable_units);
    return report.completed();
  }
  const result = await rollout(plan, {
    hosts: new Map(hosts.map((h) => [h.name, h])),
    registryAuthFor: (image) => registryAuthFor(deps.args.registries, image),
    defaultRunningSeconds: deps.args.defaultRunningSeconds,
    logLines: deps.args.logLines,
    notify: (message, ok) => report.notify(message, ok),
    ports: portAllocator(deps.client, token, r),
    bindAddress: cluster.bind_address,
    // The router of the exchange the deploy runs in, which serves the cluster's instances.
    routes: routeKeeper(deps.client, deps.transport, {
      exchangeId: r.deploy_messaging_exchange_id ? exchangeOf(r.deploy_messaging_exchange_id, 'deploy_messaging_exchange_id') : cluster.messaging_exchange_id,
      product: r.product_name ?? null,
      environment: r.environment_name ?? null,
    }),
  });
  if (result.ok) {
    await report.notify(`The units have been deployed: ${result.started} started, ${plan.unchanged.length} unchanged, ${result.removed} removed`);
    await reportAddresses(report, r.deployable_units);
    return report.completed();
  }
  const logs = result.logs.length === 0 ? '(no log lines)' : result.logs.join('\n');
  await report.notify(`Unit ${result.unit} has failed to startup: ${result.reason}\n${logs}`, false);
  await report.notify(`The following unit(s) have failed to deploy: [${result.unit}]`, false);
  return report.failed(`${result.reason}; the rollout was stopped, the new container removed and the previous ones kept. Last log lines:\n${logs}`);
}

/** What a successful deploy says last: where clients reach the app, or that they cannot (issue 15). */
async function reportAddresses(report: MilestoneReport, units: OrchestrationRequest['deployable_units']): Promise<void> {
  const urls = [...new Set((units ?? []).flatMap((u) => (u.route === undefined ? [] : [authorityUrl(u.route)])))];
  if (urls.length === 0) return report.notify(NO_ROUTE);
  for (const url of urls) await report.notify(addressNotice(url));
}

/** Runs `request`; `rerun` when the broker delivered it before (an earlier attempt did not finish). */
export async function runDeploy(deps: DeployDeps, request: OrchestrationRequest, rerun = false): Promise<void> {
  const report = milestoneReport({ transport: deps.transport, manager: deps.client, log: deps.log }, request);
  const token = request.etcd_token;
  if (rerun) await report.notify(rerunNotice(request.current_step));
  await report.notify(`The ${request.current_step} milestone has been received and is being processed by Deployer ${deps.hostname} in cluster ${token ?? '(none)'}`);
  await report.save();
  if (!token) return report.failed('an invalid deployment cluster was provided (the request has no etcd_token)!');
  const cluster = await deps.client.clusters.get(token);
  const connections = cluster === undefined ? undefined : await deps.client.clusters.hostConnections(token);
  if (cluster === undefined || connections === undefined) return report.failed(`Cluster ${token} does not exist`);
  const hosts = clusterHosts(connections, deps.args.dockerTimeoutMs);
  try {
    await deployOn(deps, report, { token, cluster, hosts });
  } catch (err) {
    if (err instanceof DispatchSuperseded) throw err;
    // A host that cannot be reached, a Docker call that fails: the milestone fails with what and where (the error names the host).
    deps.log.error({ err }, 'deployment failed');
    await report.failed(`An error occurred during deployment: ${(err as Error).message}`);
  } finally {
    await closeHosts(hosts);
  }
}
