/**
 * What must hold after every trial, whatever the fault (issue 14 item 7): read from outside the platform, from the
 * things an operator would look at (the workflow's row and event log, the deployment repo's history, the registry's
 * log, the Docker host, /proc, RabbitMQ's queues, SMTP), never from the platform's own opinion of itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { LABELS } from '../../actors/deployer/messages.js';
import type { Workflow } from '../../http/client/manager-client.js';
import { DEAD_LETTER_REASON_HEADER } from '../../runtime/messaging/transport.js';
import { ASSEMBLIES, containersLabelled } from '../e2e/platform.js';
import { isUnder, processStat, stillRuns } from '../helpers/processes.js';
import type { ProcessSnapshot } from './faults.js';
import type { TrialPlan } from './plan.js';
import { isPlatformQueue, type VhostQueues } from './rest.js';
import { commitsSince, lastRenderedBefore, RENDER_COMMIT, type World } from './world.js';

export const INVARIANTS = ['ends once', 'one commit', 'one push', 'one container', 'no orphan', 'all acked', 'no dead letter'] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Verdict {
  readonly ok: boolean;
  /** Why it failed (or what was seen, when it held). */
  readonly detail: string;
}
export type Verdicts = Record<Invariant, Verdict>;

/** What a trial saw, for the checks: its workflow, what was there before it, and the processes when the fault came. */
export interface TrialRecord {
  readonly plan: TrialPlan;
  readonly workflowId: string;
  /** The source commit the workflow was given. */
  readonly sha: string;
  /** The final state of the workflow, if it ended. */
  readonly final: Workflow | undefined;
  readonly headBefore: string;
  readonly registryOffset: number | undefined;
  readonly snapshot: ProcessSnapshot | undefined;
  /** The queues once the platform came to rest, or as they were when it did not. */
  readonly queues: VhostQueues;
  readonly rested: boolean;
}

const held = (detail: string): Verdict => ({ ok: true, detail });
const broken = (detail: string): Verdict => ({ ok: false, detail });

const FINAL_LINE = / (Workflow completed in|Workflow has failed in) /;
/** An event-log line without its `[OA][<id>][<repo>]` prefix. */
const unprefixed = (line: string): string => line.replace(/^\[OA\]\[[^\]]*\]\[[^\]]*\] /, '');
export const succeeded = (w: Workflow | undefined): boolean => w?.workflow_completed === true && w.workflow_error === false;

/** Every workflow ends exactly once: completed (or failed), one final line in its event log, at most one e-mail (one Message-ID). */
function endsOnce(world: World, r: TrialRecord): Verdict {
  const w = r.final;
  if (w === undefined || w.workflow_completed !== true) return broken(`not ended (current_step ${w?.current_step ?? 'unknown'})`);
  const finals = (w.event_log ?? []).filter((l) => FINAL_LINE.test(l));
  if (finals.length !== 1) {
    const tail = (w.event_log ?? []).slice(-3).map((l) => JSON.stringify(unprefixed(l).slice(0, 100)));
    return broken(`${finals.length} final lines in the event log of an ended workflow: ${finals.map((l) => JSON.stringify(unprefixed(l))).join(', ') || '(none)'}; it ends ${tail.join(', ')}`);
  }
  // Copies of one e-mail share its Message-ID (a sender killed between the server's taking the mail and its ack
  // cannot know it was sent, RFC 1047): one e-mail is one Message-ID, however many copies reached the server.
  const copies = world.smtp.mails.filter((m) => m.text.includes(r.workflowId));
  const mails = new Set(copies.map((m) => m.messageId || `(none: copy ${copies.indexOf(m)})`)).size;
  const extra = copies.length > mails ? ` (${copies.length} copies with one Message-ID)` : '';
  // The completion e-mail needs the source repo's settings, which only a Builder's report brings.
  if (mails > 1 || (succeeded(w) && mails !== 1)) return broken(`${mails} completion e-mails (one final transition sends one): Message-IDs ${[...new Set(copies.map((m) => m.messageId))].join(', ')}`);
  return held(`${w.workflow_error ? 'failed' : 'completed'}, 1 final line, ${mails} e-mail${extra}`);
}

/**
 * Exactly one template commit per (workflow, changed render): a build of a new source commit renders something new
 * and commits it once; a config of a commit rendered before commits at most once; nothing else commits meanwhile.
 */
function oneCommit(world: World, r: TrialRecord): Verdict {
  const commits = commitsSince(world.deployment.bare, r.headBefore);
  const ours = commits.filter((c) => c.subject === `${RENDER_COMMIT}${r.sha}`);
  const others = commits.filter((c) => !ours.includes(c));
  // A render of another commit than the one rendered last changes the files, whatever else it renders.
  const changes = lastRenderedBefore(world.deployment.bare, r.headBefore) !== r.sha;
  const expected = changes && succeeded(r.final) ? 1 : undefined;
  const problems = [
    ...(others.length > 0 ? [`${others.length} commit(s) of other renders: ${others.map((c) => JSON.stringify(c.subject)).join(', ')}`] : []),
    ...(ours.length > 1 ? [`${ours.length} commits "Deployment for commit ${r.sha.slice(0, 12)}" (one render)`] : []),
    ...(expected !== undefined && ours.length !== expected ? [`${ours.length} commits for a changed render (expected ${expected})`] : []),
  ];
  return problems.length > 0 ? broken(problems.join('; ')) : held(`${ours.length} commit`);
}

/** One push per image: the registry accepted the manifest of a built image once, and nothing was pushed for a config. */
function onePush(world: World, r: TrialRecord, pushedTags: Map<string, number>): Verdict {
  if (r.registryOffset === undefined) return broken(`no registry log at ${world.registryLog.path} to count pushes in`);
  const tags = world.registryLog.manifestPuts(world.imageRepository, r.registryOffset);
  const again = tags.filter((t, i) => tags.indexOf(t) !== i || pushedTags.has(t));
  for (const t of tags) if (!pushedTags.has(t)) pushedTags.set(t, r.plan.n);
  const builds = r.plan.milestones[0] === 'build';
  const problems = [
    ...again.map((t) => `${t.slice(0, 20)} pushed again${pushedTags.get(t) === r.plan.n ? '' : ` (first in trial ${pushedTags.get(t)})`}`),
    ...(builds && succeeded(r.final) && tags.length === 0 ? ['no push for a new source commit'] : []),
    ...(!builds && tags.length > 0 ? [`${tags.length} push(es) by a config workflow`] : []),
    ...(tags.length > 1 ? [`${tags.length} manifests pushed: ${tags.map((t) => t.slice(0, 20)).join(', ')}`] : []),
  ];
  return problems.length > 0 ? broken(problems.join('; ')) : held(`${tags.length} push`);
}

/** One container per instance of the cluster, running, of the deployed commit when the workflow succeeded. */
async function oneContainer(world: World, r: TrialRecord): Promise<Verdict> {
  const containers = await containersLabelled([`${LABELS.cluster}=${world.clusterToken}`], true);
  const byInstance = new Map<string, typeof containers>();
  for (const c of containers) {
    const key = `${c.labels[LABELS.unit] ?? '?'}@${c.labels[LABELS.instance] ?? '?'}`;
    byInstance.set(key, [...(byInstance.get(key) ?? []), c]);
  }
  const problems: string[] = [];
  // units.json: one unit, instances unset, so one per active host, and the cluster has one host.
  if (!byInstance.has('hello@0')) problems.push('no container for hello@0');
  for (const [instance, list] of byInstance) {
    if (instance !== 'hello@0') problems.push(`${list.length} container(s) of ${instance}, which the units do not have`);
    else if (list.length !== 1) problems.push(`${list.length} containers for ${instance} (${list.map((c) => c.state).join(', ')})`);
    else if (list[0]!.state !== 'running') problems.push(`${instance} is ${list[0]!.state}`);
    else if (succeeded(r.final) && list[0]!.labels[LABELS.commit] !== r.sha) problems.push(`${instance} runs commit ${list[0]!.labels[LABELS.commit]?.slice(0, 12) ?? '?'}, not ${r.sha.slice(0, 12)}`);
  }
  return problems.length > 0 ? broken(problems.join('; ')) : held(`${containers.length} container`);
}

/** No orphan process: whatever ran under a platform process when the fault came runs under a live one now, or is gone. */
/**
 * The HAProxy master the router's pidfile names, if it runs: it outlives a killed router process by design (traffic
 * must not stop), and the router that comes next takes it over rather than starting another (README, "The `router`
 * component"). A master the new router did not take over is not named there: the pidfile names the one it started.
 */
function servedProxy(world: World): number | undefined {
  const pid = Number(readFileSync(join(world.routerDir, 'haproxy.pid'), 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && processStat(pid) !== undefined ? pid : undefined;
}

function noOrphan(world: World, r: TrialRecord): Verdict {
  if (r.snapshot === undefined) return held('no fault injected');
  const live = ASSEMBLIES.map((n) => world.platform.get(n).child).filter((c) => c.exitCode === null && c.signalCode === null && c.pid !== undefined).map((c) => c.pid!);
  const proxy = existsSync(join(world.routerDir, 'haproxy.pid')) ? servedProxy(world) : undefined;
  if (proxy !== undefined) live.push(proxy);
  const orphans = r.snapshot.processes.filter((p) => stillRuns(p) && !live.some((pid) => p.pid === pid || isUnder(p.pid, pid)));
  if (orphans.length > 0) return broken(`${orphans.map((p) => `pid ${p.pid} (${p.command.slice(0, 80)})`).join(', ')} outlived its assembly`);
  return held(`${r.snapshot.processes.length} processes checked`);
}

/** No message left unacked, nor waiting: once the platform rests, every queue but the dead-letter ones is empty. */
function allAcked(r: TrialRecord): Verdict {
  const left = r.queues.flatMap(({ vhost, counts }) =>
    counts.filter((q) => isPlatformQueue(q.name) && (q.ready > 0 || q.unacked > 0)).map((q) => `${q.name} (${vhost.label}): ${q.ready} ready, ${q.unacked} unacked`),
  );
  if (left.length > 0) return broken(`${r.rested ? '' : 'not at rest: '}${left.join('; ')}`);
  return held('every queue empty');
}

/** Takes every message of the `<queue>_error` queues that `queues` shows holding some; per queue, how many and why. */
export async function takeDeadLetters(queues: VhostQueues): Promise<string[]> {
  const found: string[] = [];
  for (const { vhost, counts } of queues) {
    const errorQueues = counts.filter((q) => q.name.endsWith('_error') && q.ready > 0);
    if (errorQueues.length === 0) continue;
    const connection = await connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      for (const q of errorQueues) {
        const reasons = new Map<string, number>();
        for (let msg = await channel.get(q.name, { noAck: true }); msg !== false; msg = await channel.get(q.name, { noAck: true })) {
          const reason = String(msg.properties.headers?.[DEAD_LETTER_REASON_HEADER] ?? 'no reason header');
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
        const total = [...reasons.values()].reduce((a, b) => a + b, 0);
        found.push(`${total} in ${q.name} (${vhost.label}: ${[...reasons].map(([why, n]) => `${n}x ${JSON.stringify(why.slice(0, 120))}`).join(', ')})`);
      }
    } finally {
      await connection.close();
    }
  }
  return found;
}

/** Nothing in a `<queue>_error` (no message of these trials is meant to be refused); what is there is taken, with why. */
async function noDeadLetter(r: TrialRecord): Promise<Verdict> {
  const found = await takeDeadLetters(r.queues);
  return found.length > 0 ? broken(found.join('; ')) : held('none');
}

/** `pushed`: every tag pushed so far in the run, with the trial that pushed it first (this trial's are added). */
export async function checkInvariants(world: World, r: TrialRecord, pushed: Map<string, number>): Promise<Verdicts> {
  return {
    'ends once': endsOnce(world, r),
    'one commit': oneCommit(world, r),
    'one push': onePush(world, r, pushed),
    'one container': await oneContainer(world, r),
    'no orphan': noOrphan(world, r),
    'all acked': allAcked(r),
    'no dead letter': await noDeadLetter(r),
  };
}
