/**
 * The FleetManager's RPC protocol (reference §7.3) over Docker hosts (design §2): the actions keep their names and
 * reply shapes. A request goes to queue `fleet_manager` of the cluster's exchange with `transport.request`; the reply
 * is the action's `response_body`, and a failure comes back as an error reply naming the host.
 */
import { z } from 'zod';

export const FLEET_MANAGER_QUEUE = 'fleet_manager';
export const FLEET_ACTION_REQUESTED = 'fleet_manager.action_requested';

/** How long a caller waits for an action (reference §1.10: 300 s; ours answer or fail well before). */
export const FLEET_ACTION_TIMEOUT_MS = 60_000;

const UnitName = z.strictObject({ unit_name: z.string().min(1) });

/** `{etcd_token, action, action_parameters}` (reference §10A). */
export const FleetRequest = z.discriminatedUnion('action', [
  z.strictObject({ etcd_token: z.string().min(1), action: z.literal('list_machines'), action_parameters: z.unknown().optional() }),
  z.strictObject({ etcd_token: z.string().min(1), action: z.literal('list_units'), action_parameters: z.unknown().optional() }),
  z.strictObject({ etcd_token: z.string().min(1), action: z.literal('list_unit_states'), action_parameters: z.unknown().optional() }),
  z.strictObject({ etcd_token: z.string().min(1), action: z.literal('unit_logs'), action_parameters: UnitName }),
  z.strictObject({ etcd_token: z.string().min(1), action: z.literal('restart_unit'), action_parameters: UnitName }),
  /** `nodes`: host names of the cluster (our hosts have names, not Fleet IPs); all hosts when absent. */
  z.strictObject({
    etcd_token: z.string().min(1),
    action: z.literal('node_info'),
    action_parameters: z.strictObject({ nodes: z.array(z.string()).optional() }).optional(),
  }),
]);
export type FleetRequest = z.infer<typeof FleetRequest>;
export type FleetAction = FleetRequest['action'];

/** `list_machines`: one per active host; `id` is the host name, `primaryIP` the host part of its Docker URL. */
export const Machine = z.object({ id: z.string(), primaryIP: z.string(), metadata: z.record(z.string(), z.string()) });
/** `list_units`: one per container of the platform (labelled), named `<unit>@<instance>.service`. */
export const Unit = z.object({
  name: z.string(),
  options: z.array(z.object({ section: z.string(), name: z.string(), value: z.string() })),
  desiredState: z.string().nullable(),
  currentState: z.string().nullable(),
  machineID: z.string().nullable(),
});
/** `list_unit_states`: the container's state as systemd's load/active/sub states. */
export const UnitState = z.object({
  name: z.string(),
  hash: z.string(),
  machineID: z.string(),
  systemdLoadState: z.string(),
  systemdActiveState: z.string(),
  systemdSubState: z.string(),
});
/** `node_info`: per host name. `coreos_version` keeps the original key and carries the host's OS name and version. */
export const NodeInfo = z.record(
  z.string(),
  z.object({ docker_disk_space_percent: z.number().nullable(), coreos_version: z.string(), docker_version: z.string() }),
);

/** The reply of each action. `unit_logs` and `restart_unit` answer text, as the original. */
export const FleetReplies = {
  list_machines: z.array(Machine),
  list_units: z.array(Unit),
  list_unit_states: z.array(UnitState),
  unit_logs: z.string(),
  restart_unit: z.string(),
  node_info: NodeInfo,
} as const satisfies Record<FleetAction, z.ZodType>;
export type FleetReply<A extends FleetAction> = z.infer<(typeof FleetReplies)[A]>;
