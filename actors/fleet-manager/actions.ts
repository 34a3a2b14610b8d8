/**
 * The FleetManager actions (reference §7.3) over a cluster's Docker hosts (design §2). Each asks the Manager for the
 * cluster's active hosts, then every host at once, each within the host deadline. What a dead host does to each:
 * - list_machines: nothing; it lists the registered hosts without dialling them (a dead one is what node_info reports);
 * - list_units, list_unit_states: an error naming every host that did not answer (a partial list would read as
 *   "those units are gone", which is worse than no answer);
 * - unit_logs: the logs from the first host (by name) that has the unit; an error naming the dead hosts only when no
 *   reachable host has it;
 * - restart_unit: restarts what the reachable hosts have, then answers an error naming the dead hosts and what was done;
 * - node_info: the dead host is in the reply with `docker_disk_space_percent: null` (the Overseer then raises "not
 *   reporting", reference §8.4).
 */
import type { FleetManagerArgs } from './config.js';
import { byUnitThenHost, hostsNamed, machineOf, unitOf, unitStateOf, type UnitContainer } from './core/units.js';
import { ClusterNotFoundError, FleetHostsError, UnitNotFoundError } from './errors.js';
import { failuresOf, mapLimited, onEachHost, type DockerHostPool, type HostOutcome } from './hosts.js';
import type { FleetReply, FleetRequest } from './messages.js';
import { LABELS, unitInstanceName } from '../deployer/messages.js';
import type { HostConnection, ManagerClient } from '../../http/client/manager-client.js';
import type { DockerHost } from '../../runtime/docker/host.js';
import {
  containerLogTail,
  dataRootUsePercent,
  hostInfo,
  inspectContainer,
  listLabelledContainers,
  restartContainer,
  type ContainerListing,
} from '../../runtime/docker/inspect.js';
import type { Logger } from '../../runtime/logger.js';

export interface FleetDeps {
  readonly clusters: Pick<ManagerClient['clusters'], 'hostConnections'>;
  readonly pool: DockerHostPool;
  readonly args: FleetManagerArgs;
  readonly log: Logger;
}

/** Runs one checked request; the value is the action's reply (messages.ts FleetReplies). */
export async function runAction(deps: FleetDeps, request: FleetRequest): Promise<FleetReply<FleetRequest['action']>> {
  const hosts = await hostsOf(deps, request.etcd_token);
  switch (request.action) {
    case 'list_machines':
      return hosts.map(machineOf);
    case 'list_units':
      return (await unitContainers(deps, request, hosts)).map(unitOf);
    case 'list_unit_states':
      return (await unitContainers(deps, request, hosts)).map(unitStateOf);
    case 'unit_logs':
      return unitLogs(deps, request.etcd_token, hosts, request.action_parameters.unit_name);
    case 'restart_unit':
      return restartUnit(deps, request.etcd_token, hosts, request.action_parameters.unit_name);
    case 'node_info':
      return nodeInfo(deps, hostsNamed(hosts, request.action_parameters?.nodes));
  }
}

async function hostsOf(deps: FleetDeps, etcdToken: string): Promise<HostConnection[]> {
  const hosts = await deps.clusters.hostConnections(etcdToken);
  if (hosts === undefined) throw new ClusterNotFoundError(etcdToken);
  return [...hosts].sort((a, b) => a.name.localeCompare(b.name));
}

/** Inspections in flight per host: enough to be quick, few enough not to flood a host (or one SSH connection). */
const INSPECTS_AT_ONCE = 8;

/** The Deployer's labels of a cluster's containers (actors/deployer/messages.ts). */
const clusterLabels = (etcdToken: string) => ({ [LABELS.managed]: 'true', [LABELS.cluster]: etcdToken });

/** `<unit>@<instance>.service` from the labels; a container without them keeps its own name. */
function unitNameOf(c: ContainerListing): string {
  const unit = c.labels[LABELS.unit];
  const instance = c.labels[LABELS.instance];
  if (unit && instance !== undefined && /^\d+$/.test(instance)) return unitInstanceName(unit, Number(instance));
  return `${c.name}.service`;
}

const fanOut = <T>(deps: FleetDeps, hosts: readonly HostConnection[], operation: string, work: (host: DockerHost, conn: HostConnection) => Promise<T>) =>
  onEachHost(hosts, { pool: deps.pool, deadlineMs: deps.args.hostTimeoutMs, operation }, work);

/** Every platform container of the cluster, inspected; any host that does not answer fails the action. */
async function unitContainers(deps: FleetDeps, request: FleetRequest, hosts: readonly HostConnection[]): Promise<UnitContainer[]> {
  const outcomes = await fanOut(deps, hosts, request.action, async (host, conn) => {
    const listed = await listLabelledContainers(host, clusterLabels(request.etcd_token));
    return mapLimited(listed, INSPECTS_AT_ONCE, async (c): Promise<UnitContainer> => ({ ...(await inspectContainer(host, c.id)), unitName: unitNameOf(c), host: conn.name }));
  });
  const failures = failuresOf(outcomes);
  if (failures.length > 0) throw new FleetHostsError(request.action, request.etcd_token, failures);
  return outcomes.flatMap((o) => (o.ok ? o.value : [])).sort(byUnitThenHost);
}

/** Per host, the cluster's containers of one unit. */
async function findUnit(deps: FleetDeps, operation: string, etcdToken: string, hosts: readonly HostConnection[], unitName: string) {
  return fanOut(deps, hosts, operation, async (host) => (await listLabelledContainers(host, clusterLabels(etcdToken))).filter((c) => unitNameOf(c) === unitName));
}

const withUnit = (outcomes: ReadonlyArray<HostOutcome<ContainerListing[]>>) =>
  outcomes.flatMap((o) => (o.ok && o.value.length > 0 ? [{ conn: o.host, containers: o.value }] : []));

/** stdout, a blank line, stderr (reference §7.3), of the unit on the first host that has it. */
async function unitLogs(deps: FleetDeps, etcdToken: string, hosts: readonly HostConnection[], unitName: string): Promise<string> {
  const outcomes = await findUnit(deps, 'unit_logs', etcdToken, hosts, unitName);
  const found = withUnit(outcomes)[0];
  const container = found?.containers[0];
  if (found === undefined || container === undefined) throw notFound('unit_logs', etcdToken, unitName, failuresOf(outcomes));
  const [read] = await fanOut(deps, [found.conn], 'unit_logs', async (host) => {
    const details = await inspectContainer(host, container.id);
    return containerLogTail(host, details.id, { lines: deps.args.logLines, tty: details.tty });
  });
  if (read === undefined || !read.ok) throw new FleetHostsError('unit_logs', etcdToken, read ? failuresOf([read]) : []);
  return `${read.value.stdout.replace(/\n$/, '')}\n\n${read.value.stderr.replace(/\n$/, '')}`;
}

function notFound(action: string, etcdToken: string, unitName: string, failures: ReadonlyArray<{ host: string; error: string }>): Error {
  if (failures.length === 0) return new UnitNotFoundError(unitName, etcdToken);
  return new FleetHostsError(action, etcdToken, failures, `unit ${unitName} is not on any host that answered`);
}

/** How long Docker lets a container stop on a restart before it kills it (Docker's own default). */
const RESTART_STOP_SECONDS = 10;

/**
 * Restarts every container of the unit, host by host at once; the text says what was restarted where. A restart may
 * take a container's whole stop grace on top of an API call, so each gets the host deadline plus that grace: a live
 * host whose container stops slowly is not reported dead (the unit was found within the host deadline already).
 */
async function restartUnit(deps: FleetDeps, etcdToken: string, hosts: readonly HostConnection[], unitName: string): Promise<string> {
  const outcomes = await findUnit(deps, 'restart_unit', etcdToken, hosts, unitName);
  const found = withUnit(outcomes);
  const failures = failuresOf(outcomes);
  if (found.length === 0) throw notFound('restart_unit', etcdToken, unitName, failures);
  const perRestartMs = deps.args.hostTimeoutMs + RESTART_STOP_SECONDS * 1_000;
  const mostOnOneHost = Math.max(...found.map((f) => f.containers.length));
  const restarts = await onEachHost(
    found.map((f) => f.conn),
    { pool: deps.pool, deadlineMs: perRestartMs * mostOnOneHost, operation: 'restart_unit' },
    async (host, conn) => {
      const lines: string[] = [];
      for (const c of found.find((f) => f.conn === conn)?.containers ?? []) {
        await restartContainer(host, c.id, { timeoutSeconds: RESTART_STOP_SECONDS, timeoutMs: perRestartMs });
        lines.push(`Restarted ${unitName} (container ${c.name}, ${c.id.slice(0, 12)}) on host ${conn.name}`);
      }
      return lines;
    },
  );
  const done = restarts.flatMap((o) => (o.ok ? o.value : []));
  const allFailures = [...failures, ...failuresOf(restarts)];
  deps.log.info({ etcdToken, unitName, restarted: done.length, failed: allFailures.map((f) => f.host) }, 'restart_unit');
  if (allFailures.length > 0) throw new FleetHostsError('restart_unit', etcdToken, allFailures, done.length > 0 ? done.join('; ') : 'nothing was restarted');
  return `${done.join('\n')}\n`;
}

type NodeInfo = FleetReply<'node_info'>;

/** Per host: disk use of the Docker data root, OS and Docker version; a host that does not answer reports null. */
async function nodeInfo(deps: FleetDeps, hosts: readonly HostConnection[]): Promise<NodeInfo> {
  const outcomes = await fanOut(deps, hosts, 'node_info', async (host) => {
    const info = await hostInfo(host);
    const percent = await dataRootUsePercent(host, { image: deps.args.diskProbeImage, rootDir: info.dockerRootDir }).catch((err: unknown) => {
      // The versions are still worth answering; null is what makes the Overseer report the host (reference §8.4).
      deps.log.warn({ host: host.name, err }, 'node_info: cannot measure the Docker data root');
      return null;
    });
    return { docker_disk_space_percent: percent, coreos_version: info.operatingSystem, docker_version: info.dockerVersion };
  });
  const reply: NodeInfo = {};
  for (const o of outcomes) {
    if (!o.ok) deps.log.warn({ host: o.host.name, error: o.error }, 'node_info: host did not answer');
    reply[o.host.name] = o.ok ? o.value : { docker_disk_space_percent: null, coreos_version: '', docker_version: '' };
  }
  return reply;
}
