import type { ContainerSpec, ContainerSummary } from '../../../runtime/docker/containers.js';
import type { CanarySpec } from './canary.js';
import type { DeployableUnit, UnitHealth, UnitRoute } from '../../orchestrator/messages.js';
import { LABELS, unitInstanceName } from '../messages.js';

/**
 * The deploy plan (reference §7.1 over Docker hosts, design §2): how many instances of each unit, on which host,
 * with which container spec, and the ordered steps that get the cluster there. Pure: the shell lists the cluster's
 * containers and carries the steps out (rollout.ts), asking the Manager for each new container's host ports then.
 */

/** A platform container of the cluster, and the host it is on. */
export interface HostedContainer extends ContainerSummary {
  readonly host: string;
}

export interface DeployInput {
  readonly cluster: string;
  readonly workflowId: string;
  /** The source commit the image was built from: an instance on it with the same image is left alone. */
  readonly commit: string;
  /** The built image (`docker_image`), for units that name none. */
  readonly defaultImage: string | null;
  readonly product: string | null;
  readonly units: readonly DeployableUnit[];
  /** `fleet.json` `instance_cnt`, for units that do not say. */
  readonly fleetInstanceCount: number | null;
  /** The cluster's active hosts, by name, in a stable order. */
  readonly hosts: readonly string[];
  /** Every platform container of the cluster, on every host. */
  readonly existing: readonly HostedContainer[];
  /** The product environment's coalesced variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** Makes container names unique per deploy (a replacement may run the same commit as the container it replaces). */
  readonly nonce: string;
}

/** A unit's route with the container port it serves settled: the one it names, else the unit's first. */
export type PlannedRoute = UnitRoute & { readonly container_port: number };

/** Start a container (and, once it is healthy, remove the one it replaces); or remove one. */
export type Step =
  | {
      readonly kind: 'start';
      readonly unit: string;
      readonly instance: number;
      readonly host: string;
      /** Without published ports: the rollout publishes the host ports the Manager allocates (core/ports.ts). */
      readonly spec: ContainerSpec;
      /** The unit's container ports, each to get a host port. */
      readonly containerPorts: readonly number[];
      readonly health: UnitHealth | undefined;
      readonly replaces: HostedContainer | null;
      /** The unit's route: the new instance joins it once healthy, the one it replaces leaves it (drained) first. */
      readonly route?: PlannedRoute;
      /** The unit's first start when its route has a canary: this instance is judged before the rollout goes on. */
      readonly canary?: CanarySpec;
    }
  | {
      readonly kind: 'remove';
      readonly unit: string;
      readonly instance: number;
      readonly container: HostedContainer;
      readonly why: 'surplus' | 'duplicate';
      /** The unit's route, which the container leaves (drained) before it stops. */
      readonly route?: PlannedRoute;
    };

export interface DeployPlan {
  readonly steps: readonly Step[];
  /** Instances already on the commit: nothing to do but, for a unit with a route, make sure they are in it. */
  readonly unchanged: ReadonlyArray<{ readonly unit: string; readonly instance: number; readonly host: string; readonly route?: PlannedRoute; readonly container?: HostedContainer }>;
  readonly instances: Readonly<Record<string, number>>;
  readonly hosts: number;
}

export type PlanResult = { readonly ok: true; readonly plan: DeployPlan } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): PlanResult => ({ ok: false, reason });

/** Why the request cannot be deployed at all (reference §7.1 step 2), or undefined. */
function refusal(input: DeployInput): string | undefined {
  if (input.hosts.length === 0) return `Unable to find accessible hosts in cluster ${input.cluster}!`;
  if (input.units.length === 0) return 'There are no valid units to deploy!';
  if (input.fleetInstanceCount === 0) return 'Cannot specify 0 instances in fleet.json (instance_cnt)!';
  for (const unit of input.units) {
    if (!unit.image && !input.defaultImage) return `Unit ${unit.name} names no image and the request carries no docker_image`;
    const http = unit.health && 'http' in unit.health ? unit.health.http : undefined;
    if (http && unit.ports.length === 0) return `Unit ${unit.name}: health.http needs a port, and the unit publishes none`;
    if (http?.port !== undefined && !unit.ports.includes(http.port)) return `Unit ${unit.name}: health.http.port ${http.port} is not one of its ports (${unit.ports.join(', ')})`;
  }
  const names = input.units.map((u) => u.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  return twice === undefined ? undefined : `Unit ${twice} is declared twice`;
}

export const instanceCountOf = (unit: DeployableUnit, input: Pick<DeployInput, 'fleetInstanceCount' | 'hosts'>): number =>
  unit.instances ?? input.fleetInstanceCount ?? input.hosts.length;

const instanceOf = (c: HostedContainer): number => Number(c.labels[LABELS.instance]);

/**
 * Per instance: the container that counts (a running one first; with `establishedOver`, a running one not on that
 * commit first) and any others, which are leftovers.
 */
function instancesOf(unit: string, existing: readonly HostedContainer[], establishedOver?: string): Map<number, { current: HostedContainer; extra: HostedContainer[] }> {
  const byInstance = new Map<number, HostedContainer[]>();
  for (const c of existing) {
    if (c.labels[LABELS.unit] !== unit || !Number.isInteger(instanceOf(c))) continue;
    byInstance.set(instanceOf(c), [...(byInstance.get(instanceOf(c)) ?? []), c]);
  }
  const result = new Map<number, { current: HostedContainer; extra: HostedContainer[] }>();
  for (const [instance, all] of byInstance) {
    const running = all.filter((c) => c.state === 'running');
    const current = running.find((c) => establishedOver !== undefined && c.labels[LABELS.commit] !== establishedOver) ?? running[0] ?? all[0]!;
    result.set(instance, { current, extra: all.filter((c) => c !== current) });
  }
  return result;
}

/** The active host with the fewest instances of the unit, then of the cluster; ties go to the first in order. */
function leastLoaded(hosts: readonly string[], unitLoad: Map<string, number>, clusterLoad: Map<string, number>): string {
  const load = (h: string): [number, number] => [unitLoad.get(h) ?? 0, clusterLoad.get(h) ?? 0];
  return hosts.reduce((best, h) => {
    const [a, b] = [load(h), load(best)];
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]) ? h : best;
  });
}

const bump = (m: Map<string, number>, key: string, by = 1) => m.set(key, (m.get(key) ?? 0) + by);

/** The container of instance `instance` of `unit` (style R4): name, labels, environment, restart policy; no ports yet. */
export function containerSpec(input: DeployInput, unit: DeployableUnit, instance: number): ContainerSpec {
  const image = unit.image ?? input.defaultImage ?? '';
  const short = input.commit.replace(/[^A-Za-z0-9]/g, '').slice(0, 7) || 'none';
  return {
    name: `${unit.name}-${instance}-${short}-${input.nonce}`,
    image,
    labels: {
      [LABELS.managed]: 'true',
      [LABELS.cluster]: input.cluster,
      [LABELS.product]: input.product ?? '',
      [LABELS.unit]: unit.name,
      [LABELS.instance]: String(instance),
      [LABELS.commit]: input.commit,
      [LABELS.workflow]: input.workflowId,
    },
    // The product environment's variables win over the unit file's defaults: they are what an operator set for it.
    env: { ...unit.environment, ...input.environment, OA_UNIT: unitInstanceName(unit.name, instance), OA_COMMIT: input.commit },
    ports: [],
    restartPolicy: 'unless-stopped',
    command: unit.command,
  };
}

/**
 * Every unit in order; per unit, instances 0..n-1 in order, each left alone when it already runs the commit and
 * image, else started (replacing the old one once healthy); then the surplus and leftovers removed (a canary unit's
 * unjudged leftovers first). A replacement
 * gets fresh host ports (the Manager's, at start), since the old container still holds its own until the new one is healthy.
 */
export function planDeployment(input: DeployInput): PlanResult {
  const refused = refusal(input);
  if (refused !== undefined) return fail(refused);
  const active = new Set(input.hosts);
  const clusterLoad = new Map<string, number>();
  for (const c of input.existing) bump(clusterLoad, c.host);
  const starts: Step[] = [];
  const removals: Step[] = [];
  const leftovers: Step[] = [];
  const unchanged: Array<DeployPlan['unchanged'][number]> = [];
  const instances: Record<string, number> = {};
  for (const unit of input.units) {
    // units.json checks that a unit with a route has a port, and that the one it names is among them.
    const planned = unit.route === undefined ? undefined : { ...unit.route, container_port: unit.route.container_port ?? unit.ports[0] ?? 0 };
    const route = planned === undefined ? {} : { route: planned };
    const count = instanceCountOf(unit, input);
    instances[unit.name] = count;
    const image = unit.image ?? input.defaultImage ?? '';
    // A container on a host that is no longer active cannot be reached: its instance is started elsewhere. A unit
    // with a canary keeps no instance its interrupted rollout left beside the old one: that one would skip the
    // judgement, so it leaves first and the canary is started and judged again.
    const canaryUnit = planned?.canary !== undefined;
    const current = instancesOf(unit.name, input.existing.filter((c) => active.has(c.host)), canaryUnit ? input.commit : undefined);
    const unitLoad = new Map<string, number>();
    for (const { current: c } of current.values()) if (instanceOf(c) < count) bump(unitLoad, c.host);
    for (let instance = 0; instance < count; instance += 1) {
      const old = current.get(instance)?.current ?? null;
      const keep = old !== null && old.state === 'running' && old.labels[LABELS.commit] === input.commit && old.image === image;
      if (keep) {
        unchanged.push({ unit: unit.name, instance, host: old.host, ...(planned === undefined ? {} : { route: planned, container: old }) });
        continue;
      }
      let host = old?.host;
      if (host === undefined) {
        host = leastLoaded(input.hosts, unitLoad, clusterLoad);
        bump(unitLoad, host);
        bump(clusterLoad, host);
      }
      const canary = planned?.canary !== undefined && !starts.some((s) => s.unit === unit.name) ? { canary: planned.canary } : {};
      starts.push({ kind: 'start', unit: unit.name, instance, host, spec: containerSpec(input, unit, instance), containerPorts: unit.ports, health: unit.health, replaces: old, ...route, ...canary });
    }
    for (const [instance, { current: c, extra }] of [...current].sort(([a], [b]) => a - b)) {
      if (instance >= count) removals.push({ kind: 'remove', unit: unit.name, instance, container: c, why: 'surplus', ...route });
      for (const e of extra) {
        const unjudged = canaryUnit && e.state === 'running' && e.labels[LABELS.commit] === input.commit;
        (unjudged ? leftovers : removals).push({ kind: 'remove', unit: unit.name, instance, container: e, why: 'duplicate', ...route });
      }
    }
  }
  return { ok: true, plan: { steps: [...leftovers, ...starts, ...removals], unchanged, instances, hosts: input.hosts.length } };
}
