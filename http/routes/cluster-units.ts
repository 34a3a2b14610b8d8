import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { BadGatewayError } from '../errors.js';
import { defineRoute, type AnyRoute, type Call } from '../route.js';
import { CONTROL_CHARACTERS } from '../schemas/common.js';
import { clusterOr404, inUse, TokenParams } from './clusters.js';
import {
  FLEET_ACTION_REQUESTED,
  FLEET_ACTION_TIMEOUT_MS,
  FLEET_MANAGER_QUEUE,
  FleetReplies,
  type FleetAction,
  type FleetReply,
  type FleetRequest,
} from '../../actors/fleet-manager/messages.js';

/**
 * The FleetManager-backed cluster routes (reference §3.2): the Manager asks the FleetManager of the cluster's exchange
 * by RPC and answers its reply, checked against the protocol. An unknown cluster is a 404, a cluster in no exchange a
 * 409; the FleetManager's error (it names the host) a 502; no answer in time a 504; no messaging a 503 (errors.ts).
 */

const UnitParams = TokenParams.extend({
  /** Kept for the original's path; the FleetManager finds the unit on whichever host has it (reference §3.2). */
  machine_id: z.string().trim().min(1).max(255),
  unit_name: z.string().trim().min(1).max(255).regex(new RegExp(`^[^${CONTROL_CHARACTERS}]+$`), 'must not contain control characters'),
});
type UnitParams = z.infer<typeof UnitParams>;

type Ask = <A extends FleetAction>(request: Extract<FleetRequest, { action: A }>) => Promise<FleetReply<A>>;

/** The FleetManager of the cluster's exchange, asked within `timeoutMs`. */
async function fleetOf<D extends BaseDeps>(call: Call<D>, etcdToken: string, timeoutMs: number): Promise<{ token: string; ask: Ask }> {
  const cluster = await clusterOr404(call.em, etcdToken);
  const exchangeId = cluster.messaging_exchange_id;
  if (exchangeId === null) {
    throw inUse('EtcdCluster', `EtcdCluster ${cluster.etcd_token} is in no exchange (messaging_exchange_id is null): no FleetManager can be asked`);
  }
  const ask: Ask = async (request) => {
    const to = { exchangeId, queue: FLEET_MANAGER_QUEUE };
    const reply = await call.deps.transport.request(to, FLEET_ACTION_REQUESTED, request, { timeoutMs });
    const parsed = FleetReplies[request.action].safeParse(reply);
    if (parsed.success) return parsed.data as FleetReply<typeof request.action>;
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(reply)'}: ${i.message}`).join('; ');
    call.log.warn({ action: request.action, etcdToken: cluster.etcd_token, problems }, 'FleetManager reply refused');
    throw new BadGatewayError(`the FleetManager of exchange ${exchangeId} answered ${request.action} with a malformed reply: ${problems}`);
  };
  return { token: cluster.etcd_token, ask };
}

const common = { tag: 'clusters', item: 'EtcdCluster' } as const;

/** The routes; `timeoutMs` is how long each waits for the FleetManager (tests shorten it). */
export function clusterUnitRoutesWith(timeoutMs: number): ReadonlyArray<AnyRoute<BaseDeps>> {
  const machines = defineRoute<BaseDeps, TokenParams>({
    ...common,
    method: 'get',
    path: '/clusters/:etcd_token/machines',
    summary: "List a cluster's machines (its Docker hosts) through the FleetManager",
    access: 'viewer',
    params: TokenParams,
    response: FleetReplies.list_machines,
    async handle({ params }, call) {
      const fleet = await fleetOf(call, params.etcd_token, timeoutMs);
      return { status: 200, body: await fleet.ask({ etcd_token: fleet.token, action: 'list_machines' }) };
    },
  });

  const units = defineRoute<BaseDeps, TokenParams>({
    ...common,
    method: 'get',
    path: '/clusters/:etcd_token/units',
    summary: "List a cluster's units (the platform's containers) through the FleetManager",
    access: 'viewer',
    params: TokenParams,
    response: FleetReplies.list_units,
    async handle({ params }, call) {
      const fleet = await fleetOf(call, params.etcd_token, timeoutMs);
      return { status: 200, body: await fleet.ask({ etcd_token: fleet.token, action: 'list_units' }) };
    },
  });

  const state = defineRoute<BaseDeps, TokenParams>({
    ...common,
    method: 'get',
    path: '/clusters/:etcd_token/state',
    summary: "List the states of a cluster's units through the FleetManager",
    access: 'viewer',
    params: TokenParams,
    response: FleetReplies.list_unit_states,
    async handle({ params }, call) {
      const fleet = await fleetOf(call, params.etcd_token, timeoutMs);
      return { status: 200, body: await fleet.ask({ etcd_token: fleet.token, action: 'list_unit_states' }) };
    },
  });

  // One request where the original made two (list_machines, then node_info by IP): node_info takes all hosts itself.
  const nodes = defineRoute<BaseDeps, TokenParams>({
    ...common,
    method: 'get',
    path: '/clusters/:etcd_token/nodes',
    summary: "Disk use, OS and Docker version of a cluster's hosts through the FleetManager",
    access: 'viewer',
    params: TokenParams,
    response: FleetReplies.node_info,
    async handle({ params }, call) {
      const fleet = await fleetOf(call, params.etcd_token, timeoutMs);
      return { status: 200, body: await fleet.ask({ etcd_token: fleet.token, action: 'node_info' }) };
    },
  });

  const logs = defineRoute<BaseDeps, UnitParams>({
    ...common,
    method: 'get',
    path: '/clusters/:etcd_token/machines/:machine_id/units/:unit_name/logs',
    summary: "A tail of a unit's logs (stdout, a blank line, stderr) through the FleetManager",
    access: 'viewer',
    params: UnitParams,
    response: FleetReplies.unit_logs,
    async handle({ params }, call) {
      const fleet = await fleetOf(call, params.etcd_token, timeoutMs);
      return { status: 200, body: await fleet.ask({ etcd_token: fleet.token, action: 'unit_logs', action_parameters: { unit_name: params.unit_name } }) };
    },
  });

  // POST only (issue 20): the original's GET restarted a unit (reference §3.2), which a prefetch or a crawler would do.
  // A GET is answered 405 naming the POST (app.ts).
  const restart = defineRoute<BaseDeps, UnitParams>({
    ...common,
    method: 'post',
    path: '/clusters/:etcd_token/machines/:machine_id/units/:unit_name/restart',
    summary: 'Restart a unit through the FleetManager',
    access: 'operator',
    transaction: false,
    params: UnitParams,
    response: FleetReplies.restart_unit,
    async handle({ params }, call) {
      const fleet = await fleetOf(call, params.etcd_token, timeoutMs);
      return { status: 200, body: await fleet.ask({ etcd_token: fleet.token, action: 'restart_unit', action_parameters: { unit_name: params.unit_name } }) };
    },
  });

  return [machines, units, state, nodes, logs, restart] as ReadonlyArray<AnyRoute<BaseDeps>>;
}

export const clusterUnitRoutes = clusterUnitRoutesWith(FLEET_ACTION_TIMEOUT_MS);
