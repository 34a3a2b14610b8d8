/**
 * The chaos suite's plan, a pure function of a seed (issue 14 item 7): which fault each trial injects, into which
 * milestone of its workflow and how long after that milestone started, so a failing run is replayed with its seed.
 */
import { seededRandom } from '../helpers/random.js';

/** The seed: OA_CHAOS_SEED when set (a replay), else a fresh one. */
export function chaosSeed(env: NodeJS.ProcessEnv, fresh: () => number): number {
  const given = env.OA_CHAOS_SEED;
  if (given === undefined || given === '') return fresh() >>> 0;
  const seed = Number(given);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError(`OA_CHAOS_SEED: expected an integer from 0 to 4294967295 (got ${JSON.stringify(given)})`);
  return seed;
}

/** OA_CHAOS_TRIALS: how many of the plan's trials to run (all when unset). */
export function trialCount(env: NodeJS.ProcessEnv): number | undefined {
  const given = env.OA_CHAOS_TRIALS;
  if (given === undefined || given === '') return undefined;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`OA_CHAOS_TRIALS: expected a whole number of trials, at least 1 (got ${JSON.stringify(given)})`);
  return n;
}

export type FaultKind = 'kill management' | 'kill build' | 'kill deploy' | 'kill builder child' | 'broker failover' | 'database outage' | 'republish milestone';
export type Milestone = 'config' | 'build' | 'deploy';

export interface TrialPlan {
  /** 1-based. */
  readonly n: number;
  readonly fault: FaultKind;
  /** The workflow's milestones: `[build, deploy]` from a new source commit, or `[config, deploy]` of one built before. */
  readonly milestones: readonly [Milestone, Milestone];
  /** The milestone during which the fault comes, and when: `at` of its usual length (measured by the trials) after it started. */
  readonly milestone: Milestone;
  readonly at: number;
  /** How long the broker or the database stays away (outages only). */
  readonly downMs: number;
}

/**
 * Trials per fault, in the order the plan shuffles them; 33 in all by default (issue 14: >= 30), the slow outages fewest.
 * `republish milestone` is an operator's: a finished workflow's milestone request sent again by hand (issue 14, Must show).
 */
export const DEFAULT_COUNTS: Readonly<Record<FaultKind, number>> = {
  'kill management': 6,
  'kill build': 7,
  'kill deploy': 6,
  'kill builder child': 6,
  'broker failover': 3,
  'database outage': 3,
  'republish milestone': 2,
};

/** The milestone each process runs: a kill lands there two times in three, elsewhere the third time. */
const OWN_MILESTONES: Readonly<Record<FaultKind, readonly Milestone[]>> = {
  'kill management': ['config', 'build', 'deploy'],
  'kill build': ['build', 'config'],
  'kill deploy': ['deploy'],
  'kill builder child': ['build', 'config'],
  'broker failover': ['config', 'build', 'deploy'],
  'database outage': ['config', 'build', 'deploy'],
  'republish milestone': ['config', 'build', 'deploy'],
};
const ALL: readonly Milestone[] = ['config', 'build', 'deploy'];

const pick = <T>(random: () => number, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

/** The trials of a seed; the first one builds, so that a later `[config, deploy]` has an image to configure. */
export function planTrials(seed: number, counts: Readonly<Record<FaultKind, number>> = DEFAULT_COUNTS): TrialPlan[] {
  const random = seededRandom(seed);
  const faults = (Object.entries(counts) as Array<[FaultKind, number]>).flatMap(([fault, n]) => Array.from({ length: n }, () => fault));
  for (let i = faults.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [faults[i], faults[j]] = [faults[j]!, faults[i]!];
  }
  return faults.map((fault, i) => {
    const own = OWN_MILESTONES[fault];
    let milestone = random() < 2 / 3 ? pick(random, own) : pick(random, ALL);
    if (i === 0 && milestone === 'config') milestone = 'build';
    // A deploy is also hit in a `[config, deploy]` workflow now and then.
    const configured = milestone === 'config' || (milestone === 'deploy' && i > 0 && random() < 0.5);
    const milestones: TrialPlan['milestones'] = configured ? ['config', 'deploy'] : ['build', 'deploy'];
    const at = Math.round(random() * 100) / 100;
    const downMs = fault === 'broker failover' ? 3_000 + Math.round(random() * 3_000) : fault === 'database outage' ? 20_000 : 0;
    return { n: i + 1, fault, milestones, milestone, at, downMs };
  });
}
