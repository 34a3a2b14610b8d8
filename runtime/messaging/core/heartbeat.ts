/** The module heartbeat (reference §8.1): what every component publishes to `system_modules` in its own exchange. */
import { z } from 'zod';

/** The queue of the Overseer's listener in each exchange (reference §1.16, §8.1). */
export const SYSTEM_MODULES_QUEUE = 'system_modules';

/** Envelope `type` of a heartbeat: a fact, so `<subject>.<past-tense>` (style R14). */
export const MODULE_STATUS_REPORTED = 'module.status_reported';

/** The statuses a module row can have (reference §2.1); a live module always reports `active`. */
export const MODULE_STATUSES = ['active', 'inactive'] as const;
/** Liveness status of a module (reference §2.1). */
export type ModuleStatus = (typeof MODULE_STATUSES)[number];

// The wire keeps the reference's snake_case `event_type` (§8.1, §10A), so an Overseer of either age can read it.
// Unknown keys are stripped, not rejected, so a newer module can add one during a rolling upgrade (reference §8.3).
/** Schema of a heartbeat payload, for the Overseer to check what arrives on `system_modules`. */
export const HeartbeatPayload = z.object({
  status: z.enum(MODULE_STATUSES),
  // JSON text in the module row, "settable by the module but always [] in practice" (§8.1): any JSON array.
  workload: z.array(z.unknown()),
  hostname: z.string().min(1),
  // The module type, e.g. `builder`, `deployer` (reference §2.1 `messaging_exchange_modules.type`).
  type: z.string().min(1),
  event_type: z.literal('status'),
});

/** One heartbeat on the wire (reference §10A: `{"status":"active","workload":[],...,"event_type":"status"}`). */
export interface HeartbeatPayload {
  readonly status: ModuleStatus;
  readonly workload: readonly unknown[];
  readonly hostname: string;
  readonly type: string;
  readonly event_type: 'status';
}

/** What a module says about itself in one beat. */
export interface HeartbeatFacts {
  readonly status: ModuleStatus;
  readonly workload: readonly unknown[];
  readonly hostname: string;
  readonly type: string;
}

/** The status event payload of reference §8.1; `workload` is copied so a later change by the module cannot leak in. */
export function heartbeatPayload(facts: HeartbeatFacts): HeartbeatPayload {
  return {
    status: facts.status,
    workload: [...facts.workload],
    hostname: facts.hostname,
    type: facts.type,
    event_type: 'status',
  };
}
