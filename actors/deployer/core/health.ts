import type { UnitHealth } from '../../orchestrator/messages.js';

/**
 * When a new container counts as healthy (design §2: the health check gates each replacement), decided from what the
 * shell observed; the shell polls until this says `healthy` or `failed`.
 */

/** A unit's check with its defaults applied; a unit without one is healthy once running `defaultRunningSeconds`. */
export type HealthCheck =
  | { readonly kind: 'http'; readonly path: string; readonly containerPort: number; readonly timeoutMs: number; readonly intervalMs: number }
  | { readonly kind: 'docker'; readonly timeoutMs: number; readonly intervalMs: number }
  | { readonly kind: 'running'; readonly forMs: number; readonly timeoutMs: number; readonly intervalMs: number };

/** How long a check may take on top of its own wait: starting a process and a slow first answer. */
const GRACE_MS = 30_000;
const POLL_MS = 500;

export function healthCheckOf(health: UnitHealth | undefined, ports: readonly number[], defaultRunningSeconds: number): HealthCheck {
  if (health === undefined) return { kind: 'running', forMs: defaultRunningSeconds * 1_000, timeoutMs: defaultRunningSeconds * 1_000 + GRACE_MS, intervalMs: POLL_MS };
  if ('http' in health) {
    const { http } = health;
    return { kind: 'http', path: http.path, containerPort: http.port ?? ports[0]!, timeoutMs: http.timeout_seconds * 1_000, intervalMs: http.interval_seconds * 1_000 };
  }
  if ('docker' in health) return { kind: 'docker', timeoutMs: health.timeout_seconds * 1_000, intervalMs: POLL_MS };
  return { kind: 'running', forMs: health.running_seconds * 1_000, timeoutMs: health.running_seconds * 1_000 + GRACE_MS, intervalMs: POLL_MS };
}

/** One look at the container: its state, and for an HTTP check whether the last request succeeded. */
export interface HealthObservation {
  /** Milliseconds since the container was started by the deployer. */
  readonly elapsedMs: number;
  readonly state: string;
  readonly restartCount: number;
  readonly exitCode: number;
  /** The image HEALTHCHECK's status, null when it has none. */
  readonly dockerHealth: string | null;
  /** Milliseconds it has been running, null when not running. */
  readonly runningForMs: number | null;
  /** The last HTTP probe: a status code, or the error text when it got none. */
  readonly http?: { readonly status: number } | { readonly error: string };
}

export type HealthVerdict = { readonly kind: 'healthy' } | { readonly kind: 'waiting' } | { readonly kind: 'failed'; readonly reason: string };

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function stillStarting(check: HealthCheck, o: HealthObservation): HealthVerdict {
  if (o.elapsedMs < check.timeoutMs) return { kind: 'waiting' };
  const last = o.http === undefined ? '' : 'status' in o.http ? ` (last answer: HTTP ${o.http.status})` : ` (last error: ${o.http.error})`;
  return { kind: 'failed', reason: `not healthy after ${seconds(o.elapsedMs)}${last}` };
}

export function healthVerdict(check: HealthCheck, o: HealthObservation): HealthVerdict {
  // A container that exits (or is being restarted by its policy) will not become healthy by waiting.
  if (o.state === 'exited' || o.state === 'dead') return { kind: 'failed', reason: `the container exited with code ${o.exitCode}` };
  if (o.state === 'restarting' || o.restartCount > 0) return { kind: 'failed', reason: `the container keeps exiting (last exit code ${o.exitCode}, ${o.restartCount} restart(s))` };
  if (o.dockerHealth === 'unhealthy') return { kind: 'failed', reason: 'the image HEALTHCHECK reports unhealthy' };
  switch (check.kind) {
    case 'http':
      if (o.http !== undefined && 'status' in o.http && o.http.status >= 200 && o.http.status < 400) return { kind: 'healthy' };
      return stillStarting(check, o);
    case 'docker':
      if (o.dockerHealth === null) return { kind: 'failed', reason: 'health.docker is set but the image has no HEALTHCHECK' };
      return o.dockerHealth === 'healthy' ? { kind: 'healthy' } : stillStarting(check, o);
    case 'running':
      return o.runningForMs !== null && o.runningForMs >= check.forMs ? { kind: 'healthy' } : stillStarting(check, o);
  }
}
