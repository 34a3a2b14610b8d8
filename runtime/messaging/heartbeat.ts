/** The heartbeat publisher (reference §8.1): tells the Overseer of its exchange that this module is alive. */
import type { Logger } from '../logger.js';
import {
  MODULE_STATUS_REPORTED,
  SYSTEM_MODULES_QUEUE,
  heartbeatPayload,
  type ModuleStatus,
} from './core/heartbeat.js';
import type { Destination, Transport } from './transport.js';

/** Default beat period (reference §8.1, design §8). */
export const HEARTBEAT_INTERVAL_MS = 30_000;

/** What `startHeartbeat` needs; `status` and `workload` are read at every beat. */
export interface HeartbeatOptions {
  readonly transport: Pick<Transport, 'publish'>;
  /** The module's own exchange (`EXCHANGE_ID`): heartbeats never cross exchanges (reference §8.1). */
  readonly exchangeId: number;
  readonly intervalMs?: number;
  readonly hostname: string;
  /** The module type, e.g. `builder`. */
  readonly type: string;
  /** Defaults to `active`, as every module of the reference reports (§8.1). */
  readonly status?: () => ModuleStatus;
  /** Defaults to `[]`, what the reference sends in practice (§8.1). */
  readonly workload?: () => readonly unknown[];
  readonly log: Logger;
}

/** A running heartbeat. */
export interface Heartbeat {
  /** Stops the timer and waits for a beat in flight; no beat starts afterwards. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Publishes a heartbeat at once and then every `intervalMs`. Deliberate difference: the reference waits 30 s before
 * the first beat (§8.1); ours goes out at start so a new module is visible to the Overseer immediately.
 * A failed beat is logged and the next one tries again; a beat still pending when the next tick comes skips that tick,
 * so a slow broker never piles up heartbeats.
 */
export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const intervalMs = opts.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  // Caller bugs, reported at start rather than as a heartbeat the Overseer rejects every 30 s.
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError(`intervalMs must be a whole number >= 1, got ${intervalMs}`);
  if (opts.hostname === '') throw new RangeError('hostname must not be empty');
  if (opts.type === '') throw new RangeError('type must not be empty');

  const to: Destination = { exchangeId: opts.exchangeId, queue: SYSTEM_MODULES_QUEUE };
  const log = opts.log.child({ exchangeId: opts.exchangeId, queue: SYSTEM_MODULES_QUEUE });
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  // Never rejects: every failure, including one from `status()` or `workload()`, ends as a warning.
  const beat = async (): Promise<void> => {
    try {
      const payload = heartbeatPayload({
        status: opts.status?.() ?? 'active',
        workload: opts.workload?.() ?? [],
        hostname: opts.hostname,
        type: opts.type,
      });
      await opts.transport.publish(to, MODULE_STATUS_REPORTED, payload);
    } catch (err) {
      log.warn({ err }, 'heartbeat failed; the next beat will try again');
    }
  };

  const tick = (): void => {
    if (stopped) return;
    if (inFlight !== undefined) {
      log.debug({ intervalMs }, 'previous heartbeat still pending; skipping this beat');
      return;
    }
    const current = beat().finally(() => {
      if (inFlight === current) inFlight = undefined;
    });
    inFlight = current;
  };

  tick();
  const timer = setInterval(tick, intervalMs);

  return {
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
