/**
 * Cluster health as system events (reference §8.4), from the FleetManager's replies. Every event is `unique`, so the
 * Manager keeps one per type and data per hour (reference §3.8) however often the monitor passes. Deliberate
 * difference: the "no hosts" event also carries the cluster's token, so two empty clusters are two events.
 */

export type Severity = 'warning' | 'error';

/** A `POST /system_events` body. */
export interface HealthEvent {
  readonly unique: true;
  readonly type: 'docker_disk_space_percent' | 'failed_unit';
  readonly severity: Severity;
  readonly data: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** Docker disk use above these percentages is a warning, an error (reference §8.4). */
export const DISK_WARNING_ABOVE_PERCENT = 80;
export const DISK_ERROR_ABOVE_PERCENT = 90;

/** The parts of the FleetManager's replies the checks read (actors/fleet-manager/messages.ts). */
export interface MachineSeen {
  readonly id: string;
}
export type DiskUsage = Readonly<Record<string, { readonly docker_disk_space_percent: number | null }>>;
export interface UnitStateSeen {
  readonly name: string;
  readonly systemdActiveState: string;
}

/** `list_machines` answered no host. */
export function noHostsEvents(etcdToken: string, machines: readonly MachineSeen[]): HealthEvent[] {
  if (machines.length > 0) return [];
  return [{ unique: true, type: 'docker_disk_space_percent', severity: 'warning', data: { host_cnt: 0, etcd_token: etcdToken }, message: `EtcdCluster ${etcdToken} has no associated hosts` }];
}

/** Per host of `hosts`: missing from `node_info` (or without a percentage) is an error, above the thresholds a warning or error. */
export function diskEvents(etcdToken: string, hosts: readonly string[], usage: DiskUsage): HealthEvent[] {
  return hosts.flatMap((hostname): HealthEvent[] => {
    const percent = usage[hostname]?.docker_disk_space_percent ?? null;
    const data = { docker_disk_space_percent: percent, hostname, etcd_token: etcdToken };
    if (percent === null) {
      return [{ unique: true, type: 'docker_disk_space_percent', severity: 'error', data, message: `Host ${hostname} is not reporting the Docker disk space utilization %!` }];
    }
    const severity: Severity | undefined = percent > DISK_ERROR_ABOVE_PERCENT ? 'error' : percent > DISK_WARNING_ABOVE_PERCENT ? 'warning' : undefined;
    if (severity === undefined) return [];
    return [{ unique: true, type: 'docker_disk_space_percent', severity, data, message: `Host ${hostname} is reporting a Docker disk space utilization of ${percent}%!` }];
  });
}

/** The units in a failed state, by name. */
export function failedUnitsOf(states: readonly UnitStateSeen[]): string[] {
  return [...new Set(states.filter((s) => s.systemdActiveState === 'failed').map((s) => s.name))];
}

/** Of the `suspects`, those still failed in `states`: a unit that recovered between checks raises nothing. */
export function stillFailed(suspects: readonly string[], states: readonly UnitStateSeen[]): string[] {
  const failed = new Set(failedUnitsOf(states));
  return suspects.filter((name) => failed.has(name));
}

export function failedUnitEvents(etcdToken: string, units: readonly string[]): HealthEvent[] {
  return units.map((unit_name) => ({ unique: true, type: 'failed_unit', severity: 'warning', data: { unit_name, etcd_token: etcdToken }, message: `Unit ${unit_name} is in a failed state!` }));
}

/** `list_unit_states` gave no answer. */
export function unitStatesMissingEvent(etcdToken: string): HealthEvent {
  return { unique: true, type: 'failed_unit', severity: 'warning', data: { etcd_token: etcdToken }, message: `EtcdCluster ${etcdToken} failed to return unit states!` };
}
