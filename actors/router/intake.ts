/** What the Router takes from queue `router`: a sync, drain or counters request (messages.ts), told apart by envelope type. */
import {
  COUNTERS_REQUESTED,
  CountersRequested,
  DRAIN_REQUESTED,
  DrainRequested,
  MAX_DRAIN_TIMEOUT_MS,
  ROUTER_QUEUE,
  SYNC_REQUESTED,
  SYNC_TIMEOUT_MS,
  SyncRequested,
} from './messages.js';
import { decodeWith, intake, type QueueTopic } from '../../runtime/messaging/intake.js';
import type { Decoded } from '../../runtime/messaging/transport.js';

export type RouterRequest = { readonly kind: 'sync' } | ({ readonly kind: 'drain' } & DrainRequested) | ({ readonly kind: 'counters' } & CountersRequested);

const decodeSync = decodeWith(SyncRequested, SYNC_REQUESTED);
const decodeDrain = decodeWith(DrainRequested, DRAIN_REQUESTED);
const decodeCounters = decodeWith(CountersRequested, COUNTERS_REQUESTED);

export function decodeRequest(payload: unknown, type: string): Decoded<RouterRequest> {
  if (type === DRAIN_REQUESTED) {
    const drain = decodeDrain(payload, type);
    return drain.ok ? { ok: true, value: { kind: 'drain', ...drain.value } } : drain;
  }
  if (type === COUNTERS_REQUESTED) {
    const counters = decodeCounters(payload, type);
    return counters.ok ? { ok: true, value: { kind: 'counters', ...counters.value } } : counters;
  }
  if (type === SYNC_REQUESTED) {
    const sync = decodeSync(payload, type);
    return sync.ok ? { ok: true, value: { kind: 'sync' } } : sync;
  }
  return { ok: false, reason: `unexpected message type ${JSON.stringify(type)} (expected ${SYNC_REQUESTED}, ${DRAIN_REQUESTED} or ${COUNTERS_REQUESTED})` };
}

export interface RouterProtocol {
  request: QueueTopic<RouterRequest>;
}

/** Side by side: a drain waits for sessions to end, and must not hold up a sync behind it (syncs queue in the actor). */
const REQUESTS_AT_ONCE = 16;

export const ROUTER_INTAKE = [
  intake({ queue: ROUTER_QUEUE, topic: 'request', decode: decodeRequest, concurrency: { parallel: REQUESTS_AT_ONCE }, timeoutMs: SYNC_TIMEOUT_MS + MAX_DRAIN_TIMEOUT_MS }),
];
