import { randomInt } from 'node:crypto';
import { ASSEMBLIES } from '../e2e/platform.js';
import { rabbitApp } from '../helpers/rabbit.js';
import { needs, services } from '../helpers/services.js';
import { takeDeadLetters } from './invariants.js';
import { chaosSeed, planTrials, trialCount } from './plan.js';
import { atRest } from './rest.js';
import { failures, tally, trialTable } from './table.js';
import { newRunState, runTrial, type TrialResult } from './trial.js';
import { startWorld, type World } from './world.js';

/**
 * Issue 14 item 7, the chaos suite: one platform (the management, build and deploy assemblies as separate processes
 * over RabbitMQ and PostgreSQL) kept up across bounded trials, each a workflow with one fault at a random point of a
 * random milestone: kill -9 of each process (and of the Builder's forked process), the primary RabbitMQ node stopped
 * and started with failover brokers configured, PostgreSQL unreachable for 20 s behind a proxy this test owns, or a
 * finished workflow's milestone request sent again by hand. After each trial the invariants are read from outside
 * (invariants.ts); a trial fails naming each one that broke.
 *
 * The points come from a seeded PRNG: the seed is printed, and OA_CHAOS_SEED=<seed> replays the plan.
 * OA_CHAOS_TRIALS=<n> runs the first n trials of it (33 by default).
 */
describe('chaos: faults at random points of running workflows, invariants after each', function () {
  this.timeout(600_000);
  needs('postgres', 'rabbitmq', 'rabbitmq-2', 'docker', 'registry');
  const seed = chaosSeed(process.env, () => randomInt(2 ** 32));
  const plans = planTrials(seed).slice(0, trialCount(process.env));
  const results: TrialResult[] = [];
  const run = newRunState();
  let world: World | undefined;
  /** Why the platform cannot be trusted for further trials, once a trial could not even be carried out. */
  let stopped: string | undefined;
  const t0 = Date.now();

  before(async function () {
    this.timeout(300_000);
    process.stdout.write(`      chaos seed ${seed} (replay with OA_CHAOS_SEED=${seed}), ${plans.length} trials\n`);
    world = await startWorld();
    // What the start-up refused is not a trial's: heartbeats sent before the operator registered their exchange.
    const rest = await atRest(world, 60_000);
    run.queues = rest.queues;
    const early = await takeDeadLetters(rest.queues);
    if (early.length > 0) process.stdout.write(`      dead letters of the start-up, before any trial: ${early.join('; ')}\n`);
  });

  after(async function () {
    this.timeout(180_000);
    if (results.length > 0) {
      const text = [trialTable(results), '', `invariants: ${tally(results)}`, `wall time ${((Date.now() - t0) / 1000).toFixed(0)} s, seed ${seed}`];
      const failed = failures(results);
      if (failed.length > 0) text.push('', ...failed);
      process.stdout.write(`\n${text.flatMap((l) => l.split('\n')).map((l) => `      ${l}`).join('\n')}\n\n`);
    }
    // What a trial may have left stopped (it failed part-way): the other suites need the node.
    await rabbitApp(services().rabbit2Node, 'start_app').catch(() => undefined);
    await world?.close();
  });

  for (const plan of plans) {
    it(`trial ${plan.n}: ${plan.fault} during ${plan.milestone} of [${plan.milestones.join(', ')}], at ${Math.round(plan.at * 100)} % of it`, async function () {
      this.timeout(400_000);
      if (stopped !== undefined) throw new Error(`not run: ${stopped}`);
      const w = world!;
      let result: TrialResult;
      try {
        result = await runTrial(w, plan, run);
      } catch (err) {
        stopped = `trial ${plan.n} could not be carried out (${(err as Error).message})`;
        throw err;
      }
      results.push(result);
      if (process.env.OA_CHAOS_VERBOSE === '1') process.stdout.write(`      ${JSON.stringify({ n: plan.n, injected: result.injected, phases: result.phases, durations: result.durations, waitedFor: result.waitedFor, seen: Object.fromEntries(Object.entries(result.verdicts).map(([k, v]) => [k, v.detail])) })}\n`);
      // A process that ended by itself is restarted, as its process manager would, and named: nobody asked it to stop.
      const exited = ASSEMBLIES.filter((name) => w.platform.get(name).child.exitCode !== null || w.platform.get(name).child.signalCode !== null);
      for (const name of exited) w.platform.start(name);
      const problems = [...failures([result]), ...exited.map((name) => `trial ${plan.n}: the ${name} assembly exited by itself (restarted)`)];
      if (problems.length > 0) throw new Error(problems.join('\n'));
    });
  }
});
