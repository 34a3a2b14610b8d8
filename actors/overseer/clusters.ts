/**
 * Cluster monitoring (reference §8.4): per cluster of the exchange, asks the FleetManager of the exchange for its
 * machines, their disk use and the unit states, and posts what is wrong as `unique` system events. A failed unit is
 * checked again a few times before it is reported, so a unit caught mid-restart raises nothing.
 */
import {
  diskEvents,
  failedUnitEvents,
  failedUnitsOf,
  noHostsEvents,
  stillFailed,
  unitStatesMissingEvent,
  type HealthEvent,
} from './core/cluster-health.js';
import type { OverseerDeps } from './deps.js';
import { FleetReplyError } from './errors.js';
import { FLEET_ACTION_REQUESTED, FLEET_ACTION_TIMEOUT_MS, FLEET_MANAGER_QUEUE, FleetReplies, type FleetAction, type FleetReply, type FleetRequest } from '../fleet-manager/messages.js';
import { readAllPages } from '../../http/client/manager-client.js';

/** Asks the FleetManager of the Overseer's exchange; the reply is checked against the protocol. */
export async function askFleet<A extends FleetAction>(deps: OverseerDeps, request: Extract<FleetRequest, { action: A }>): Promise<FleetReply<A>> {
  const to = { exchangeId: deps.args.exchangeId, queue: FLEET_MANAGER_QUEUE };
  const reply = await deps.transport.request(to, FLEET_ACTION_REQUESTED, request, { timeoutMs: FLEET_ACTION_TIMEOUT_MS });
  const parsed = FleetReplies[request.action].safeParse(reply);
  if (!parsed.success) throw new FleetReplyError(request.action, request.etcd_token, parsed.error.issues.map((i) => `${i.path.join('.') || '(reply)'}: ${i.message}`));
  return parsed.data as FleetReply<A>;
}

/** The reply, or undefined when the FleetManager could not give one (logged: the FleetManager reports its own failures). */
async function tryFleet<A extends FleetAction>(deps: OverseerDeps, request: Extract<FleetRequest, { action: A }>): Promise<FleetReply<A> | undefined> {
  try {
    return await askFleet(deps, request);
  } catch (err) {
    deps.log.warn({ err, etcdToken: request.etcd_token, action: request.action }, 'FleetManager request failed');
    return undefined;
  }
}

export async function postEvents(deps: OverseerDeps, events: readonly HealthEvent[]): Promise<void> {
  for (const event of events) {
    const posted = await deps.client.systemEvents.create(event);
    if (posted.created) deps.log.info({ eventId: posted.id, type: event.type, severity: event.severity, data: event.data }, event.message);
    else deps.log.debug({ type: event.type, data: event.data }, 'event already raised within the hour');
  }
}

/** A later recheck of a cluster's failed units: a message the Overseer sends itself (overseer.actor.ts). */
export interface Recheck {
  readonly etcdToken: string;
  readonly suspects: readonly string[];
  /** Checks still to make before the units still failed are reported. */
  readonly remaining: number;
}

/** The cluster monitor of one Overseer: which clusters are being checked (a slow one is not checked twice at once). */
export class ClusterMonitor {
  private readonly busy = new Set<string>();

  constructor(
    private readonly deps: OverseerDeps,
    /** Delivers `recheck` to `recheck()` after `delayMs` (a timer message of the actor). */
    private readonly later: (delayMs: number, recheck: Recheck) => void,
  ) {}

  /** One pass over every cluster of the exchange. */
  async pass(): Promise<void> {
    const clusters = await readAllPages((w) => this.deps.client.clusters.listOfExchange(this.deps.args.exchangeId, w));
    const idle = clusters.map((c) => c.etcd_token).filter((token) => !this.busy.has(token));
    await Promise.all(idle.map((token) => this.check(token)));
  }

  /** A recheck come due: the units still failed are rechecked again later, or reported once none are left to make. */
  async recheck({ etcdToken, suspects, remaining }: Recheck): Promise<void> {
    if (remaining === 0) {
      this.busy.delete(etcdToken);
      await postEvents(this.deps, failedUnitEvents(etcdToken, suspects));
      return;
    }
    let failed: string[] = [];
    try {
      const states = await tryFleet(this.deps, { etcd_token: etcdToken, action: 'list_unit_states' });
      failed = states === undefined ? [] : stillFailed(suspects, states);
    } finally {
      this.followUp(etcdToken, failed, remaining - 1);
    }
  }

  private async check(etcdToken: string): Promise<void> {
    this.busy.add(etcdToken);
    let suspects: string[] = [];
    try {
      suspects = await this.checkOnce(etcdToken);
    } finally {
      this.followUp(etcdToken, suspects, this.deps.args.clusters.failedUnitRechecks);
    }
  }

  /** No suspects: the cluster is free for the next pass. Otherwise it stays busy until the rechecks are over. */
  private followUp(etcdToken: string, suspects: readonly string[], remaining: number): void {
    if (suspects.length === 0) this.busy.delete(etcdToken);
    else this.later(remaining === 0 ? 0 : this.deps.args.clusters.recheckDelayMs, { etcdToken, suspects, remaining });
  }

  /** Machines, disks, units; the units found failed are returned for rechecking. */
  private async checkOnce(etcdToken: string): Promise<string[]> {
    const machines = await tryFleet(this.deps, { etcd_token: etcdToken, action: 'list_machines' });
    if (machines === undefined) return [];
    const hosts = machines.map((m) => m.id);
    await postEvents(this.deps, noHostsEvents(etcdToken, machines));
    if (hosts.length > 0) {
      const usage = await tryFleet(this.deps, { etcd_token: etcdToken, action: 'node_info', action_parameters: { nodes: hosts } });
      await postEvents(this.deps, diskEvents(etcdToken, hosts, usage ?? {}));
    }
    const states = await tryFleet(this.deps, { etcd_token: etcdToken, action: 'list_unit_states' });
    if (states === undefined) {
      await postEvents(this.deps, [unitStatesMissingEvent(etcdToken)]);
      return [];
    }
    return failedUnitsOf(states);
  }
}
