import { runCanary } from './canary.js';
import { healthCheckOf } from './core/health.js';
import type { DeployPlan, HostedContainer, PlannedRoute, Step } from './core/plan.js';
import { busyPortsOf, portsOfLabels, publishPorts } from './core/ports.js';
import { waitHealthy } from './health-check.js';
import type { ClusterHost } from './hosts.js';
import { unitInstanceName } from './messages.js';
import type { Backend, RouteKeeper } from './routes.js';
import type { RegistryAuth } from '../../runtime/docker/containers.js';

/**
 * Carries a plan out, one step at a time, so at most one instance is ever down (design §2): a new container is
 * started, and only once it is healthy is the one it replaces stopped and removed. A new container that is not healthy
 * is removed, the one it was to replace is started again if it had stopped, and the rollout stops there. A new
 * container's host ports come from the Manager just before it starts; one Docker finds busy on the host (another
 * listener holds it) is skipped for the rest of the deploy on that host, and the container tried again on the next.
 * A removed container's ports go back to the Manager.
 */

/** The Manager's allocations of the cluster deployed to (http/client `clusters.allocatePorts` / `releasePorts`). */
export interface PortAllocator {
  /** Host ports for container `holder` (`{"8080": 20001}`), none of `avoid`; asked again, the same ones. */
  allocate(ask: { readonly holder: string; readonly host: string; readonly unit: string; readonly containerPorts: readonly number[]; readonly avoid: readonly number[] }): Promise<Record<string, number>>;
  release(holder: string): Promise<void>;
}

export interface RolloutDeps {
  readonly hosts: ReadonlyMap<string, ClusterHost>;
  readonly registryAuthFor: (image: string) => RegistryAuth | undefined;
  readonly defaultRunningSeconds: number;
  /** How many of a failed container's last log lines the milestone reports. */
  readonly logLines: number;
  readonly notify: (message: string, ok?: boolean) => Promise<void>;
  readonly ports: PortAllocator;
  /** The cluster's `bind_address`; null: each host's default. */
  readonly bindAddress: string | null;
  readonly routes: RouteKeeper;
}

export type RolloutResult =
  | { readonly ok: true; readonly started: number; readonly removed: number }
  | { readonly ok: false; readonly unit: string; readonly reason: string; readonly logs: readonly string[] };

type StartStep = Extract<Step, { kind: 'start' }>;
type StepFailure = Extract<RolloutResult, { ok: false }>;

const STOP_GRACE_SECONDS = 10;
/** Busy host ports skipped for one container before its start counts as failed. */
const MAX_BUSY_SKIPS = 20;

/** Per host, the host ports found busy during this deploy. */
type BusyPorts = Map<string, Set<number>>;

function hostOf(deps: RolloutDeps, name: string): ClusterHost {
  const host = deps.hosts.get(name);
  if (!host) throw new RangeError(`host ${name} is not one of the cluster's active hosts`);
  return host;
}

/** The backend of a container of the cluster, from its ports label; undefined when it publishes no such port. */
function backendOf(deps: RolloutDeps, c: HostedContainer, route: PlannedRoute): Backend | undefined {
  const port = portsOfLabels(c.labels)[String(route.container_port)];
  return port === undefined ? undefined : { host: hostOf(deps, c.host).address, port };
}

/** Takes the container out of its unit's route (drained) first, so no request reaches it while it stops. */
async function retire(deps: RolloutDeps, c: HostedContainer, route: PlannedRoute | undefined): Promise<void> {
  const backend = route === undefined ? undefined : backendOf(deps, c, route);
  if (route !== undefined && backend !== undefined) await deps.notify(await deps.routes.leave(route, backend));
  const { ops } = hostOf(deps, c.host);
  await ops.stop(c.id, STOP_GRACE_SECONDS);
  await ops.remove(c.id);
  await deps.ports.release(c.name);
}

/** Puts the replaced instance back if it is no longer running (it is normally untouched until the new one is healthy). */
async function restore(deps: RolloutDeps, old: HostedContainer | null): Promise<void> {
  if (old === null) return;
  const { ops } = hostOf(deps, old.host);
  const state = await ops.inspect(old.id);
  if (state !== undefined && !state.running) await ops.start(old.id);
}

async function abandon(deps: RolloutDeps, step: StartStep, id: string | undefined, reason: string): Promise<StepFailure> {
  const unit = unitInstanceName(step.unit, step.instance);
  const { ops } = hostOf(deps, step.host);
  const logs = id === undefined ? [] : await ops.logsTail(id, deps.logLines);
  if (id !== undefined) await ops.remove(id);
  await deps.ports.release(step.spec.name);
  await restore(deps, step.replaces);
  return { ok: false, unit, reason: `${unit} on host ${step.host}: ${reason}`, logs };
}

/** The step's container started with its ports; or why not, with the container left behind (to read and remove), if any. */
type Started = { readonly ok: true; readonly id: string; readonly ports: Record<string, number> } | { readonly ok: false; readonly id: string | undefined; readonly reason: string };

/** Pulls, allocates, creates and starts the step's container, skipping host ports busy on its host. */
async function startContainer(deps: RolloutDeps, step: StartStep, busy: BusyPorts): Promise<Started> {
  const { ops } = hostOf(deps, step.host);
  const skipped = busy.get(step.host) ?? new Set<number>();
  busy.set(step.host, skipped);
  let id: string | undefined;
  try {
    await ops.ensureImage(step.spec.image, deps.registryAuthFor(step.spec.image));
    for (let attempt = 0; ; attempt += 1) {
      const ask = { holder: step.spec.name, host: step.host, unit: step.unit, containerPorts: step.containerPorts, avoid: [...skipped] };
      const ports = step.containerPorts.length === 0 ? {} : await deps.ports.allocate(ask);
      id = await ops.create(publishPorts(step.spec, ports, deps.bindAddress));
      const refusal = await ops.start(id).then(() => undefined, (err: unknown) => err as Error);
      if (refusal === undefined) return { ok: true, id, ports };
      const taken = busyPortsOf(refusal.message, Object.values(ports));
      if (taken === undefined || attempt >= MAX_BUSY_SKIPS) return { ok: false, id, reason: refusal.message };
      await ops.remove(id);
      id = undefined;
      for (const p of taken) skipped.add(p);
      await deps.notify(`Host port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} busy on host ${step.host} (another listener holds it): skipped`);
    }
  } catch (err) {
    return { ok: false, id, reason: (err as Error).message };
  }
}

async function startOne(deps: RolloutDeps, step: StartStep, busy: BusyPorts): Promise<StepFailure | { readonly ports: Record<string, number> }> {
  const started = await startContainer(deps, step, busy);
  if (!started.ok) return abandon(deps, step, started.id, started.reason);
  const check = healthCheckOf(step.health, step.containerPorts, deps.defaultRunningSeconds);
  const verdict = await waitHealthy(hostOf(deps, step.host), started.id, check, started.ports);
  if (verdict.kind === 'failed') return abandon(deps, step, started.id, verdict.reason);
  if (step.route !== undefined) {
    const refused = await joinRoute(deps, step, step.route, started.ports);
    if (refused !== undefined) return abandon(deps, step, started.id, refused);
  }
  if (step.replaces !== null) await retire(deps, step.replaces, step.route);
  return { ports: started.ports };
}

/** The healthy new instance in its unit's route, judged first when it is the unit's canary; why not, when it is not. */
async function joinRoute(deps: RolloutDeps, step: StartStep, route: PlannedRoute, ports: Readonly<Record<string, number>>): Promise<string | undefined> {
  const cannot = (why: string) => `could not join route ${route.hostname}:${route.port}: ${why}`;
  const port = ports[String(route.container_port)];
  if (port === undefined) return cannot('no host port for its container port');
  const backend = { host: hostOf(deps, step.host).address, port };
  try {
    if (step.canary === undefined) {
      await deps.routes.join(route, backend);
      return undefined;
    }
    const outcome = await runCanary(deps, unitInstanceName(step.unit, step.instance), route, step.canary, backend);
    if (outcome.promoted) return undefined;
    await deps.notify(await deps.routes.leave(route, backend), false);
    return outcome.reason;
  } catch (err) {
    return cannot((err as Error).message);
  }
}

const portsText = (ports: Readonly<Record<string, number>>): string => {
  const list = Object.values(ports);
  return list.length === 0 ? 'no ports' : `port${list.length > 1 ? 's' : ''} ${list.join(', ')}`;
};

function doneText(step: Step, ports: Readonly<Record<string, number>>, progress: string): string {
  const unit = unitInstanceName(step.unit, step.instance);
  if (step.kind === 'remove') return `Removed ${step.why === 'surplus' ? 'surplus instance' : 'leftover container of'} ${unit} from host ${step.container.host} (${progress})`;
  const replaced = step.replaces === null ? 'new instance' : `replaced container ${step.replaces.name}`;
  return `${unit} is healthy on host ${step.host} (${portsText(ports)}; ${replaced}) (${progress})`;
}

/**
 * Instances a deploy leaves alone are put in their unit's route too (a route new in units.json, or one a failed
 * deploy left out); joining a route twice is harmless.
 */
async function joinUnchanged(plan: DeployPlan, deps: RolloutDeps): Promise<void> {
  for (const u of plan.unchanged) {
    const backend = u.route === undefined || u.container === undefined ? undefined : backendOf(deps, u.container, u.route);
    if (u.route !== undefined && backend !== undefined) await deps.routes.join(u.route, backend);
  }
}

export async function rollout(plan: DeployPlan, deps: RolloutDeps): Promise<RolloutResult> {
  let started = 0;
  let removed = 0;
  const busy: BusyPorts = new Map();
  await joinUnchanged(plan, deps);
  for (const [i, step] of plan.steps.entries()) {
    let ports: Readonly<Record<string, number>> = {};
    if (step.kind === 'start') {
      const outcome = await startOne(deps, step, busy);
      if ('ok' in outcome) return outcome;
      ports = outcome.ports;
      started += 1;
    } else {
      await retire(deps, step.container, step.route);
      removed += 1;
    }
    await deps.notify(doneText(step, ports, `${i + 1} of ${plan.steps.length} steps`));
  }
  return { ok: true, started, removed };
}
