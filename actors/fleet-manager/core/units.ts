/**
 * The reply rows of the list actions (reference §7.3), built from what the hosts report (design §2: a unit instance
 * is a labelled container; a machine is a Docker host of the cluster).
 */
import { fleetCurrentStateOf, systemdStateOf } from './unit-state.js';
import type { FleetReply } from '../messages.js';

type Machine = FleetReply<'list_machines'>[number];
type Unit = FleetReply<'list_units'>[number];
type UnitState = FleetReply<'list_unit_states'>[number];
type UnitOption = Unit['options'][number];

/** A host as the Manager lists it (`host_connections`, secrets not needed here). */
export interface HostRow {
  readonly name: string;
  readonly docker_url: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A container of the platform on a host, already named as a unit by the shell. */
export interface UnitContainer {
  readonly unitName: string;
  readonly host: string;
  readonly id: string;
  readonly image: string;
  readonly state: string;
  readonly exitCode: number;
  readonly health: string;
  readonly command: readonly string[];
  readonly env: readonly string[];
  readonly ports: ReadonlyArray<{ readonly containerPort: string; readonly hostPort: string }>;
}

/** The address part of a Docker URL; a unix socket is this machine. */
export function primaryIpOf(dockerUrl: string): string {
  const url = new URL(dockerUrl);
  if (url.protocol === 'unix:') return '127.0.0.1';
  return url.hostname.replace(/^\[|\]$/g, '');
}

export const machineOf = (host: HostRow): Machine => ({ id: host.name, primaryIP: primaryIpOf(host.docker_url), metadata: { ...host.labels } });

/**
 * The unit's make-up as Fleet-style option rows (image, Docker health, command, `host:container` ports). Environment rows carry variable names only: the route is open to
 * viewers, and a product environment's private values must never reach them (design §2, secrets).
 */
export function unitOptions(c: UnitContainer): UnitOption[] {
  const row = (section: string, name: string, value: string): UnitOption => ({ section, name, value });
  return [
    row('X-Docker', 'Image', c.image),
    // Docker's health of the container: healthy, unhealthy or starting under the image's HEALTHCHECK, `none` without.
    row('X-Docker', 'Health', c.health),
    ...(c.command.length > 0 ? [row('Service', 'ExecStart', c.command.join(' '))] : []),
    ...c.ports.map((p) => row('X-Docker', 'Port', `${p.hostPort}:${p.containerPort}`)),
    ...c.env.map((e) => row('Service', 'Environment', e.split('=', 1)[0] ?? e)),
  ];
}

export const unitOf = (c: UnitContainer): Unit => ({
  name: c.unitName,
  options: unitOptions(c),
  desiredState: 'launched',
  currentState: fleetCurrentStateOf(c.state),
  machineID: c.host,
});

export function unitStateOf(c: UnitContainer): UnitState {
  const s = systemdStateOf(c);
  return { name: c.unitName, hash: c.id, machineID: c.host, systemdLoadState: s.load, systemdActiveState: s.active, systemdSubState: s.sub };
}

/** Units in a stable order: by name, then machine. */
export const byUnitThenHost = (a: UnitContainer, b: UnitContainer): number => a.unitName.localeCompare(b.unitName) || a.host.localeCompare(b.host);

/** The hosts `node_info` asks about: the named ones (by name or address, as the original's IP list), or all. */
export function hostsNamed<H extends HostRow>(hosts: readonly H[], nodes: readonly string[] | undefined): H[] {
  if (nodes === undefined) return [...hosts];
  const wanted = new Set(nodes);
  return hosts.filter((h) => wanted.has(h.name) || wanted.has(primaryIpOf(h.docker_url)));
}
