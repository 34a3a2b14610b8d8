/**
 * What the FleetManager takes from queue `fleet_manager`: a request (messages.ts), checked here once (style R6). Every
 * payload is let through the transport's decode so that a bad request is refused in the original's words (reference
 * §7.3): the actor dead-letters it with the reason, which its caller gets as a `DeadLettered` error.
 */
import { FLEET_ACTION_REQUESTED, FLEET_ACTION_TIMEOUT_MS, FLEET_MANAGER_QUEUE, FleetRequest } from './messages.js';
import { intake, reasonOf, type QueueTopic } from '../../runtime/messaging/intake.js';
import type { Decoded } from '../../runtime/messaging/transport.js';

export interface RawRequest {
  readonly type: string;
  readonly payload: unknown;
}

export const decodeRaw = (payload: unknown, type: string): Decoded<RawRequest> => ({ ok: true, value: { type, payload } });

export type ParsedRequest = { readonly ok: true; readonly request: FleetRequest } | { readonly ok: false; readonly reason: string };

const ACTIONS = new Set<string>(FleetRequest.options.map((o) => o.shape.action.value));

/** The request, or why not: unknown action (the original's message, reference §7.3), or each field that is wrong. */
export function parseRequest(raw: RawRequest): ParsedRequest {
  if (raw.type !== FLEET_ACTION_REQUESTED) return { ok: false, reason: `unexpected message type ${JSON.stringify(raw.type)} (expected ${FLEET_ACTION_REQUESTED})` };
  const action = (raw.payload as { action?: unknown } | null)?.action;
  if (typeof action === 'string' && !ACTIONS.has(action)) return { ok: false, reason: `The following FleetManager action is not supported: ${action}` };
  const parsed = FleetRequest.safeParse(raw.payload);
  if (parsed.success) return { ok: true, request: parsed.data };
  return { ok: false, reason: reasonOf(parsed.error) };
}

export interface FleetManagerProtocol {
  request: QueueTopic<RawRequest>;
}

/** Requests answered at once by one FleetManager. */
const REQUESTS_AT_ONCE = 10;

export const FLEET_MANAGER_INTAKE = [
  intake({ queue: FLEET_MANAGER_QUEUE, topic: 'request', decode: decodeRaw, concurrency: { parallel: REQUESTS_AT_ONCE }, timeoutMs: FLEET_ACTION_TIMEOUT_MS }),
];
