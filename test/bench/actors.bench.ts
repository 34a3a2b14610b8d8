import { createSystem } from 'comedy';
import { fileURLToPath } from 'node:url';
import echo from './fixtures/echo.actor.js';
import { startActorSystem } from '../../runtime/actors/system.js';
import { createLogger } from '../../runtime/logger.js';
import type { BenchResult } from './report.js';

/**
 * Ask round trips per second through our facade (typed handle -> host mailbox -> behaviour, with timeout and error
 * envelope) against raw comedy `sendAndReceive` on a bare actor, in-memory and forked, in the same process and run.
 * In-memory, the facade calls the host comedy created directly (runtime/actors/comedy.ts, LocalRef): no Bluebird
 * promise per message, so it is faster than comedy's own in-memory path; forked, both go through comedy's IPC.
 */
const RAW_MODULE = '/' + fileURLToPath(new URL('./fixtures/echo-raw.ts', import.meta.url));
const MSG = { n: 1, text: 'x'.repeat(100) };

type Call = () => Promise<unknown>;

async function sequential(call: Call, n: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function inFlight(call: Call, n: number, window: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let done = 0; done < n; done += window) await Promise.all(Array.from({ length: window }, call));
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Both paths, in alternating rounds after a warm-up each, medians kept: a 2-vCPU machine drifts by 20-30 % within a
 * minute, and a fixed order would charge the drift to whichever ran second.
 */
async function measurePair(base: Call, ours: Call, n: number): Promise<{ base: Figures; ours: Figures }> {
  await sequential(base, Math.min(n, 1_000));
  await sequential(ours, Math.min(n, 1_000));
  const rounds = { base: { seq: [] as number[], par: [] as number[] }, ours: { seq: [] as number[], par: [] as number[] } };
  for (let run = 0; run < 3; run++) {
    for (const [side, call] of [['base', base], ['ours', ours]] as const) {
      rounds[side].seq.push(await sequential(call, n));
      rounds[side].par.push(await inFlight(call, n * 2, 100));
    }
  }
  const figures = (r: { seq: number[]; par: number[] }): Figures => ({ sequential: median(r.seq), inFlight: median(r.par) });
  return { base: figures(rounds.base), ours: figures(rounds.ours) };
}

interface Figures {
  readonly sequential: number;
  readonly inFlight: number;
}

export async function benchActors(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const raw = createSystem({ config: {} });
  (raw.getLog() as { setLevel(level: number): void }).setLevel(1);
  const rawRoot = await raw.rootActor();
  const system = await startActorSystem({
    spec: { strategy: 'one_for_one', intensity: { maxRestarts: 1, withinMs: 1_000 }, backoff: { initialMs: 10, maxMs: 10, factor: 1 }, children: [] },
    log: createLogger({ level: 'silent' }),
    logLevel: 'silent',
    askTimeoutMs: 10_000,
    onFailure: () => undefined,
  });
  try {
    for (const [mode, n] of [['in-memory', 20_000], ['forked', 5_000]] as const) {
      const bare = await rawRoot.createChild(RAW_MODULE, { mode });
      const handle = await system.root.startChild({ name: `echo-${mode}`, actor: echo, mode });
      const { base, ours } = await measurePair(() => bare.sendAndReceive('echo', MSG), () => handle.ask('echo', MSG), n);
      for (const shape of ['sequential', 'inFlight'] as const) {
        results.push({
          name: `actor ask, ${mode}, ${shape === 'sequential' ? 'sequential' : '100 in flight'}`,
          unit: 'asks/s',
          baseline: { label: 'raw comedy', value: base[shape] },
          ours: { label: 'facade', value: ours[shape] },
        });
      }
      await bare.destroy();
      await system.root.terminateChild(`echo-${mode}`);
    }
  } finally {
    await system.shutdown(2_000);
    await raw.destroy();
  }
  return results;
}
