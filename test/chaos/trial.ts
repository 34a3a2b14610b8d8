/**
 * One chaos trial: a workflow started, one fault injected at the planned point of the planned milestone, what was hit
 * started again, the workflow followed to its end, the platform waited on until it rests, and the invariants read.
 */
import type { Workflow } from '../../http/client/manager-client.js';
import { sleep } from '../../runtime/core/promises.js';
import { injectFault, snapshotProcesses } from './faults.js';
import { checkInvariants, succeeded, type Verdicts } from './invariants.js';
import type { Milestone, TrialPlan } from './plan.js';
import { atRest, type VhostQueues } from './rest.js';
import { headOf, type World } from './world.js';

export interface TrialResult {
  readonly plan: TrialPlan;
  readonly workflowId: string;
  /** Where the fault came, as seen: the milestone and delay, and what the workflow was doing then. */
  readonly point: string;
  /** What the injection did. */
  readonly injected: string;
  readonly outcome: string;
  readonly verdicts: Verdicts;
  readonly ms: number;
  /** Milliseconds of each phase: to the point, the injection, to the end, to rest, the checks. */
  readonly phases: Readonly<Record<'point' | 'inject' | 'end' | 'rest' | 'check', number>>;
  /** What the looks for rest saw busy, in turn. */
  readonly waitedFor: readonly string[];
  /** The milestones' lengths this trial measured. */
  readonly durations: ReadonlyArray<[Milestone, number]>;
}

/** What the trials of a run hand on to the next. */
export interface RunState {
  /** Source commits built so far; the last one is what a `[config, deploy]` workflow configures. */
  readonly built: string[];
  /** Every image tag pushed so far, with the trial that pushed it first. */
  readonly pushed: Map<string, number>;
  /** The queues the last trial's rest saw. */
  queues: VhostQueues;
  /** How long each milestone took in the trials so far (ms), as the event logs showed them starting and ending. */
  readonly durations: Record<Milestone, number[]>;
}

export const newRunState = (): RunState => ({ built: [], pushed: new Map(), queues: [], durations: { config: [], build: [], deploy: [] } });

/** A first guess of each milestone's length, until trials have measured it. */
const GUESS_MS: Readonly<Record<Milestone, number>> = { config: 1_500, build: 6_000, deploy: 3_000 };

/**
 * The milestone's usual length so far, where `at` (a fraction of it) falls: the lower quartile of what trials saw, since
 * a fault only ever makes a milestone longer.
 */
function typicalMs(run: RunState, milestone: Milestone): number {
  const seen = [...run.durations[milestone]].sort((a, b) => a - b);
  return seen.length === 0 ? GUESS_MS[milestone] : seen[Math.floor(seen.length / 4)]!;
}

/** How long a workflow may take to end (its milestones' deadlines are 90 s), and the platform to rest afterwards. */
const END_TIMEOUT_MS = 150_000;
/** How long after a workflow's end its request may be sent again. */
const REPUBLISH_WITHIN_MS = 2_000;
const REST_TIMEOUT_MS = 45_000;

const startLine = (milestone: string) => `Starting Workflow Milestone:  :${milestone}`;
const reached = (milestone: string, w: Workflow | undefined): boolean => (w?.event_log ?? []).some((l) => l.endsWith(startLine(milestone)));

/** How far apart two looks may be for a change between them to count as seen when it happened. */
const PRECISE_MS = 600;

/**
 * Polls one workflow; notes when each of its milestones is first seen started, and when it is seen ended, each only
 * when the look before it was recent (not across a gap while the Manager was away), so that lengths are not made up.
 */
class Follower {
  private readonly seen = new Map<string, number | 'imprecise'>();
  private lookedAt = 0;
  last: Workflow | undefined;

  constructor(
    private readonly world: World,
    private readonly id: string,
  ) {}

  /** The workflow now, or the last one seen while the Manager cannot answer (it may be the process that was killed). */
  async look(): Promise<Workflow | undefined> {
    try {
      const w = await this.world.client.workflows.get(this.id);
      if (w !== undefined) this.observe(w);
    } catch {
      // Unavailable: the last state seen stands.
    }
    return this.last;
  }

  async until(done: (w: Workflow) => boolean, timeoutMs: number): Promise<Workflow | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const w = await this.look();
      if (w !== undefined && done(w)) return w;
      await sleep(150);
    }
    return this.last;
  }

  /** The milestones' lengths as seen: from one's start to the next one's, the last one's to the end. */
  durations(milestones: readonly Milestone[]): Array<[Milestone, number]> {
    const marks = [...milestones.map((m) => this.seen.get(m)), this.seen.get('end')];
    return milestones.flatMap((m, i): Array<[Milestone, number]> => {
      const [from, to] = [marks[i], marks[i + 1]];
      return typeof from !== 'number' || typeof to !== 'number' ? [] : [[m, to - from]];
    });
  }

  private observe(w: Workflow): void {
    this.last = w;
    const now = Date.now();
    const mark = now - this.lookedAt <= PRECISE_MS ? now : 'imprecise';
    this.lookedAt = now;
    for (const m of w.milestones ?? []) if (!this.seen.has(m) && reached(m, w)) this.seen.set(m, mark);
    if (w.workflow_completed === true && !this.seen.has('end')) this.seen.set('end', mark);
  }
}

/** The last failure line of the event log, shortened: why a workflow failed. */
function outcomeOf(w: Workflow | undefined): string {
  if (w?.workflow_completed !== true) return `not ended (${w?.current_step ?? 'unknown'})`;
  if (succeeded(w)) return 'completed';
  const failure = [...(w.event_log ?? [])].reverse().find((l) => l.includes('Workflow Milestone Failed'));
  const reason = failure?.replace(/^.*Reason:\s+/, '') ?? 'no failure line';
  return `failed: ${reason.slice(0, 90)}`;
}

/** The plan as it can run: a `[config, deploy]` needs an image built before; the first trials build one. */
function runnable(plan: TrialPlan, run: RunState): TrialPlan {
  if (plan.milestones[0] !== 'config' || run.built.length > 0) return plan;
  return { ...plan, milestones: ['build', 'deploy'], milestone: plan.milestone === 'config' ? 'build' : plan.milestone };
}

/**
 * The source commit the trial's workflow runs: a new one to build, or one built before to configure, the one before
 * the last when there is one, so that its deploy replaces what runs (the last one built is usually deployed).
 */
function sourceCommitOf(world: World, plan: TrialPlan, run: RunState): string {
  const earlier = run.built[run.built.length - 2] ?? run.built[run.built.length - 1];
  if (plan.milestones[0] === 'config' && earlier !== undefined) return earlier;
  return world.source.commit(`chaos trial ${plan.n}`, { 'trial.txt': `trial ${plan.n} of run ${world.tag}\n` });
}

export async function runTrial(world: World, planned: TrialPlan, run: RunState): Promise<TrialResult> {
  const t0 = Date.now();
  const plan = runnable(planned, run);
  const sha = sourceCommitOf(world, plan, run);
  const headBefore = headOf(world.deployment.bare);
  const registryOffset = world.registryLog.offset();
  const workflowId = await world.client.workflows.create({ deployment_repo: world.deployment.url, source_repo: world.source.url, source_repo_git_ref: sha, milestones: [...plan.milestones] });
  await world.client.workflows.execute(workflowId);
  const follow = new Follower(world, workflowId);

  // A request is sent again by hand once its workflow is over; every other fault comes during the milestone.
  const afterTheEnd = plan.fault === 'republish milestone';
  const hit = await follow.until((w) => w.workflow_completed === true || (!afterTheEnd && reached(plan.milestone, w)), END_TIMEOUT_MS);
  const hitAt = Date.now();
  await sleep(Math.round(plan.at * (afterTheEnd ? REPUBLISH_WITHIN_MS : typicalMs(run, plan.milestone))));
  const seen = await follow.look();
  const where = seen?.workflow_completed ? 'after the end' : `in ${seen?.current_step ?? '?'}`;
  const after = `+${((Date.now() - hitAt) / 1000).toFixed(1)}s`;
  const point = afterTheEnd
    ? `${plan.milestone} request, end ${after}`
    : reached(plan.milestone, hit)
      ? `${plan.milestone} ${after} (${where})`
      : `${plan.milestone} not reached, ${after} (${where})`;
  const snapshot = snapshotProcesses(world);
  const t1 = Date.now();
  const injected = await injectFault(world, plan, workflowId);
  const t2 = Date.now();
  await follow.until((w) => w.workflow_completed === true, END_TIMEOUT_MS);
  const t3 = Date.now();
  const rest = await atRest(world, REST_TIMEOUT_MS, run.queues);
  run.queues = rest.queues;
  // Read again once all is quiet: what a late delivery did to the workflow after its end counts too.
  const final = await follow.look();
  const t4 = Date.now();
  if (succeeded(final) && plan.milestones[0] === 'build') run.built.push(sha);
  const durations = follow.durations(plan.milestones);
  for (const [m, ms] of durations) run.durations[m].push(ms);
  const verdicts = await checkInvariants(world, { plan, workflowId, sha, final, headBefore, registryOffset, snapshot, queues: rest.queues, rested: rest.rested }, run.pushed);
  const t5 = Date.now();
  const phases = { point: t1 - t0, inject: t2 - t1, end: t3 - t2, rest: t4 - t3, check: t5 - t4 };
  return { plan, workflowId, point, injected, outcome: outcomeOf(final), verdicts, ms: t5 - t0, phases, waitedFor: rest.waitedFor, durations };
}
