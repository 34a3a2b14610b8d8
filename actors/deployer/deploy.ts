import { registryAuthFor, type DeployerArgs } from './config.js';
import { planDeployment, type DeployPlan, type HostedContainer } from './core/plan.js';
import { closeHosts, clusterHosts, type ClusterHost } from './hosts.js';
import { LABELS } from './messages.js';
import { rollout } from './rollout.js';
import type { ManagerClient } from '../../http/client/manager-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Transport } from '../../runtime/messaging/transport.js';
import type { OrchestrationRequest } from '../orchestrator/messages.js';
import { milestoneReport, type MilestoneReport } from '../shared/milestone-report.js';

/**
 * One `deploy` / `deploy_oa` milestone (reference §7.1 over Docker hosts): notify, read the cluster (hosts, their
 * platform containers, the product environment's variables), plan, roll out, and report `completed` or `failed`
 * to the orchestrator. Every outcome, failures included, ends in a report: the caller then acks.
 */

export interface DeployDeps {
  readonly args: DeployerArgs;
  readonly client: ManagerClient;
  readonly transport: Pick<Transport, 'publish'>;
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

async function deployOn(deps: DeployDeps, report: MilestoneReport, token: string, hosts: readonly ClusterHost[]): Promise<void> {
  const r = report.request;
  const environment = await environmentOf(deps, r);
  if (typeof environment === 'string') return report.failed(environment);
  const planned = planDeployment({
    cluster: token,
    workflowId: r.id,
    commit: commitOf(r),
    defaultImage: r.docker_image ?? null,
    product: r.product_name ?? null,
    units: r.deployable_units ?? [],
    fleetInstanceCount: instanceCountOf(r.fleet_config),
    hosts: hosts.map((h) => h.name),
    existing: await clusterContainers(hosts, token),
    environment,
    nonce: deps.nonce(),
  });
  if (!planned.ok) return report.failed(planned.reason);
  const { plan } = planned;
  await report.notify(preparing(plan));
  if (plan.steps.length === 0) {
    await report.notify(`Nothing to change: every instance already runs commit ${commitOf(r)}`);
    return report.completed();
  }
  const result = await rollout(plan, {
    hosts: new Map(hosts.map((h) => [h.name, h])),
    registryAuthFor: (image) => registryAuthFor(deps.args.registries, image),
    defaultRunningSeconds: deps.args.defaultRunningSeconds,
    logLines: deps.args.logLines,
    notify: (message, ok) => report.notify(message, ok),
  });
  if (result.ok) {
    await report.notify(`The units have been deployed: ${result.started} started, ${plan.unchanged.length} unchanged, ${result.removed} removed`);
    return report.completed();
  }
  const logs = result.logs.length === 0 ? '(no log lines)' : result.logs.join('\n');
  await report.notify(`Unit ${result.unit} has failed to startup: ${result.reason}\n${logs}`, false);
  await report.notify(`The following unit(s) have failed to deploy: [${result.unit}]`, false);
  return report.failed(`${result.reason}; the rollout was stopped, the new container removed and the previous ones kept. Last log lines:\n${logs}`);
}

export async function runDeploy(deps: DeployDeps, request: OrchestrationRequest): Promise<void> {
  const report = milestoneReport({ transport: deps.transport, manager: deps.client, log: deps.log }, request);
  const token = request.etcd_token;
  await report.notify(`The ${request.current_step} milestone has been received and is being processed by Deployer ${deps.hostname} in cluster ${token ?? '(none)'}`);
  await report.save();
  if (!token) return report.failed('an invalid deployment cluster was provided (the request has no etcd_token)!');
  const connections = await deps.client.clusters.hostConnections(token);
  if (connections === undefined) return report.failed(`Cluster ${token} does not exist`);
  const hosts = clusterHosts(connections, deps.args.dockerTimeoutMs);
  try {
    await deployOn(deps, report, token, hosts);
  } catch (err) {
    // A host that cannot be reached, a Docker call that fails: the milestone fails with what and where (the error names the host).
    deps.log.error({ err }, 'deployment failed');
    await report.failed(`An error occurred during deployment: ${(err as Error).message}`);
  } finally {
    await closeHosts(hosts);
  }
}
