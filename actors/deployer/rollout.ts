import { healthCheckOf } from './core/health.js';
import type { DeployPlan, HostedContainer, Step } from './core/plan.js';
import { waitHealthy } from './health-check.js';
import type { ClusterHost } from './hosts.js';
import { unitInstanceName } from './messages.js';
import type { RegistryAuth } from '../../runtime/docker/containers.js';

/**
 * Carries a plan out, one step at a time, so at most one instance is ever down (design §2): a new container is
 * started, and only once it is healthy is the one it replaces stopped and removed. A new container that is not healthy
 * is removed, the one it was to replace is started again if it had stopped, and the rollout stops there.
 */

export interface RolloutDeps {
  readonly hosts: ReadonlyMap<string, ClusterHost>;
  readonly registryAuthFor: (image: string) => RegistryAuth | undefined;
  readonly defaultRunningSeconds: number;
  /** How many of a failed container's last log lines the milestone reports. */
  readonly logLines: number;
  readonly notify: (message: string, ok?: boolean) => Promise<void>;
}

export type RolloutResult =
  | { readonly ok: true; readonly started: number; readonly removed: number }
  | { readonly ok: false; readonly unit: string; readonly reason: string; readonly logs: readonly string[] };

type StartStep = Extract<Step, { kind: 'start' }>;
type StepFailure = Extract<RolloutResult, { ok: false }>;

const STOP_GRACE_SECONDS = 10;

function hostOf(deps: RolloutDeps, name: string): ClusterHost {
  const host = deps.hosts.get(name);
  if (!host) throw new RangeError(`host ${name} is not one of the cluster's active hosts`);
  return host;
}

async function retire(deps: RolloutDeps, c: HostedContainer): Promise<void> {
  const { ops } = hostOf(deps, c.host);
  await ops.stop(c.id, STOP_GRACE_SECONDS);
  await ops.remove(c.id);
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
  await restore(deps, step.replaces);
  return { ok: false, unit, reason: `${unit} on host ${step.host}: ${reason}`, logs };
}

async function startOne(deps: RolloutDeps, step: StartStep): Promise<StepFailure | undefined> {
  const { ops } = hostOf(deps, step.host);
  let id: string | undefined;
  try {
    await ops.ensureImage(step.spec.image, deps.registryAuthFor(step.spec.image));
    id = await ops.create(step.spec);
    await ops.start(id);
  } catch (err) {
    return abandon(deps, step, id, (err as Error).message);
  }
  const check = healthCheckOf(step.health, step.spec.ports.map((p) => p.container), deps.defaultRunningSeconds);
  const verdict = await waitHealthy(hostOf(deps, step.host), id, check, step.ports);
  if (verdict.kind === 'failed') return abandon(deps, step, id, verdict.reason);
  if (step.replaces !== null) await retire(deps, step.replaces);
  return undefined;
}

const portsText = (ports: Readonly<Record<string, number>>): string => {
  const list = Object.values(ports);
  return list.length === 0 ? 'no ports' : `port${list.length > 1 ? 's' : ''} ${list.join(', ')}`;
};

function doneText(step: Step, done: number, total: number): string {
  const unit = unitInstanceName(step.unit, step.instance);
  if (step.kind === 'remove') return `Removed ${step.why === 'surplus' ? 'surplus instance' : 'leftover container of'} ${unit} from host ${step.container.host} (${done} of ${total} steps)`;
  const replaced = step.replaces === null ? 'new instance' : `replaced container ${step.replaces.name}`;
  return `${unit} is healthy on host ${step.host} (${portsText(step.ports)}; ${replaced}) (${done} of ${total} steps)`;
}

export async function rollout(plan: DeployPlan, deps: RolloutDeps): Promise<RolloutResult> {
  let started = 0;
  let removed = 0;
  for (const [i, step] of plan.steps.entries()) {
    if (step.kind === 'start') {
      const failure = await startOne(deps, step);
      if (failure) return failure;
      started += 1;
    } else {
      await retire(deps, step.container);
      removed += 1;
    }
    await deps.notify(doneText(step, i + 1, plan.steps.length));
  }
  return { ok: true, started, removed };
}
