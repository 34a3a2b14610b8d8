import { healthVerdict, type HealthCheck, type HealthObservation, type HealthVerdict } from './core/health.js';
import type { ClusterHost } from './hosts.js';
import { sleep } from '../../runtime/core/promises.js';

/** Polls a new container until core/health.ts calls it healthy or failed (design §2: the gate of each replacement). */

const PROBE_TIMEOUT_MS = 2_000;

async function probe(url: string): Promise<NonNullable<HealthObservation['http']>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'manual' });
    await res.body?.cancel();
    return { status: res.status };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { error: e.cause?.code ?? e.message };
  }
}

/** When the poll first saw the container running: the host's clock may differ from ours, so its StartedAt is not used. */
interface Watch {
  readonly startedAt: number;
  runningSince: number | null;
}

async function observe(host: ClusterHost, id: string, check: HealthCheck, hostPorts: Readonly<Record<string, number>>, watch: Watch): Promise<HealthObservation> {
  const { startedAt } = watch;
  const state = await host.ops.inspect(id);
  if (state === undefined) return { elapsedMs: Date.now() - startedAt, state: 'dead', restartCount: 0, exitCode: -1, dockerHealth: null, runningForMs: null };
  const running = state.running;
  watch.runningSince = running ? (watch.runningSince ?? Date.now()) : null;
  const observation: HealthObservation = {
    elapsedMs: Date.now() - startedAt,
    state: state.state,
    restartCount: state.restartCount,
    exitCode: state.exitCode,
    dockerHealth: state.health,
    runningForMs: watch.runningSince === null ? null : Date.now() - watch.runningSince,
  };
  if (check.kind !== 'http' || !running) return observation;
  const url = `http://${host.address.includes(':') ? `[${host.address}]` : host.address}:${hostPorts[String(check.containerPort)]}${check.path}`;
  return { ...observation, http: await probe(url) };
}

export async function waitHealthy(host: ClusterHost, id: string, check: HealthCheck, hostPorts: Readonly<Record<string, number>>): Promise<HealthVerdict> {
  const watch: Watch = { startedAt: Date.now(), runningSince: null };
  for (;;) {
    const verdict = healthVerdict(check, await observe(host, id, check, hostPorts, watch));
    if (verdict.kind !== 'waiting') return verdict;
    await sleep(check.intervalMs);
  }
}
