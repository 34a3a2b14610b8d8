import { notificationPrefix, roomNamesOf } from '../../shared/milestone-report.js';
import { MILESTONES, WORKFLOW_ORCHESTRATION_QUEUE, workerQueueOf, type OrchestrationRequest } from '../messages.js';
import { isWorkerMilestone, type DispatchTarget, type WorkerMilestone } from './dispatch.js';
import { elapsedSince, humanSeconds } from './durations.js';
import { completionEmail } from './email.js';
import { savedFields } from './saved.js';
import type { Effect, MachineSettings, Run, Transition } from './state.js';

/**
 * The steps of an orchestrator pass (reference §5.3, §5.4) over a draft: each appends event-log lines and effects.
 * Every notification is an event-log line and a chat message (reference §5.5).
 */
export interface Draft {
  request: OrchestrationRequest;
  /** The milestone running, once one started. */
  run: Run | null;
  readonly effects: Effect[];
  readonly settings: MachineSettings;
  readonly now: number;
}

export const draftOf = (request: OrchestrationRequest, run: Run | null, settings: MachineSettings, now: number): Draft => ({ request, run, effects: [], settings, now });

const save = (d: Draft): void => void d.effects.push({ type: 'save', fields: savedFields(d, d.now) });

const iso = (ms: number): string => new Date(ms).toISOString();

/** The exchange whose Notifications component hears about the workflow (reference §5.2), the own one by default. */
function notificationsExchangeOf(d: Draft): number {
  const id = Number(d.request.notifications_exchange_id);
  return Number.isInteger(id) && id > 0 ? id : d.settings.exchangeId;
}

export function say(d: Draft, ok: boolean, message: string): void {
  const prefix = notificationPrefix(d.request);
  d.request = { ...d.request, event_log: [...(d.request.event_log ?? []), `${prefix} ${message}`] };
  const chat = { is_success: ok, prefix, message, room_names: roomNamesOf(d.request.notifications_config) };
  d.effects.push({ type: 'notify', exchangeId: notificationsExchangeOf(d), chat });
}

function running(d: Draft, run: Run): Transition {
  d.run = run;
  return { next: { phase: 'running', settings: d.settings, request: d.request, run }, effects: d.effects };
}

function finished(d: Draft): Transition {
  const prefix = notificationPrefix(d.request);
  const email = completionEmail(d.request, prefix, d.settings.uiUrl);
  d.effects.push({ type: 'disarm' });
  save(d);
  if (email) d.effects.push({ type: 'email', exchangeId: notificationsExchangeOf(d), email });
  d.effects.push({ type: 'finish' });
  return { next: { phase: 'done', settings: d.settings }, effects: d.effects };
}

function recordStepDuration(d: Draft, step: string): string {
  const duration = elapsedSince(d.request.step_time, d.now);
  d.request = { ...d.request, workflow_step_durations: { ...(d.request.workflow_step_durations ?? {}), [step]: duration } };
  return duration;
}

/**
 * workflow_failed (reference §5.4): the workflow ends with an error. The milestone line is skipped when the worker
 * already wrote it (milestone-report's `failed` does), so the log says it once.
 */
export function fail(d: Draft, reason: string): Transition {
  const step = d.request.current_step ?? 'unknown';
  const line = `Workflow Milestone Failed:  :${step}.  Reason:  ${reason}`;
  if (!(d.request.event_log ?? []).some((l) => l.endsWith(` ${line}`))) say(d, false, line);
  if (d.request.step_time) recordStepDuration(d, step);
  d.request = { ...d.request, workflow_completed: true, workflow_error: true, failure_reason: reason, workflow_duration: elapsedSince(d.request.workflow_start_time, d.now) };
  say(d, false, `Workflow has failed in ${d.request.workflow_duration}`);
  return finished(d);
}

function complete(d: Draft): Transition {
  const duration = elapsedSince(d.request.workflow_start_time, d.now);
  d.request = { ...d.request, workflow_completed: true, workflow_duration: duration, current_step: 'workflow_completed', step_time: null };
  say(d, true, `Workflow completed in ${duration}`);
  return finished(d);
}

/** The worker's request of a dispatch: the milestone to run, its id, and where to call back (reference §5.2). */
export function workerRequest(d: Draft, run: Run, clusterToken: string): OrchestrationRequest {
  const own = String(d.settings.exchangeId);
  return {
    ...d.request,
    current_step: run.milestone,
    dispatch_id: run.dispatchId,
    orchestration_queue_name: WORKFLOW_ORCHESTRATION_QUEUE,
    workflow_orchestration_exchange_id: own,
    workflow_orchestration_broker_id: String(d.settings.brokerId),
    notifications_exchange_id: d.request.notifications_exchange_id ?? own,
    notifications_broker_id: d.request.notifications_broker_id ?? String(d.settings.brokerId),
    ...(run.milestone === 'config' || run.milestone === 'build' ? { docker_build_etcd_token: clusterToken } : {}),
  };
}

/** Sends the milestone to the target the shell resolved, or fails the workflow with the reason it cannot be sent. */
export function dispatchTo(d: Draft, run: Run, target: DispatchTarget): Transition {
  if (!target.ok) return fail(d, target.reason);
  for (const notice of target.notices) say(d, true, notice);
  d.request = workerRequest(d, run, target.clusterToken);
  d.run = run;
  save(d);
  const queue = workerQueueOf(run.milestone) ?? run.milestone;
  d.effects.push({ type: 'publish', to: { exchangeId: target.exchangeId, queue }, request: d.request });
  return running(d, run);
}

/** Arms a worker milestone's deadline and asks the shell where to send it. */
export function requestWorker(d: Draft, run: Run & { milestone: WorkerMilestone }): Transition {
  d.effects.push({ type: 'arm', timer: 'deadline', dispatchId: run.dispatchId, at: run.deadlineAt ?? d.now }, { type: 'resolve', milestone: run.milestone, dispatchId: run.dispatchId });
  return running(d, run);
}

/**
 * `scheduled` (reference §5.4) with a timer instead of a sleep in the handler (fix of §10.1 item 9), and moving on to
 * the next milestone in place instead of clearing `current_step` and starting the list again.
 */
export function waitUntilScheduled(d: Draft, run: Run): Transition {
  const at = Date.parse(d.request.scheduled_start_time ?? '');
  if (Number.isNaN(at)) return fail(d, 'the scheduled milestone needs a scheduled_start_time, and the workflow has none (or an unreadable one)');
  if (at <= d.now) {
    say(d, true, 'Workflow is now scheduled to start');
    return enterNext(d, run.index, `${run.dispatchId}-next`);
  }
  say(d, true, `Workflow is not scheduled to start until ${new Date(at).toUTCString()}; it will start then`);
  const waiting: Run = { ...run, deadlineAt: null, wakeAt: at, confirmed: true };
  d.run = waiting;
  save(d);
  d.effects.push({ type: 'arm', timer: 'wake', dispatchId: run.dispatchId, at });
  return running(d, waiting);
}

function startMilestone(d: Draft, index: number, freshId: string): Transition {
  const milestone = (d.request.milestones[index] ?? '').trim();
  d.request = { ...d.request, current_step: milestone, step_time: iso(d.now) };
  say(d, true, `Starting Workflow Milestone:  :${milestone}`);
  const run: Run = { milestone, index, dispatchId: freshId, confirmed: false, deadlineAt: null, wakeAt: null };
  d.run = run;
  if (!(MILESTONES as readonly string[]).includes(milestone)) {
    return fail(d, `unknown milestone "${milestone}" (known: ${MILESTONES.join(', ')})`);
  }
  if (milestone === 'scheduled') return waitUntilScheduled(d, run);
  if (!isWorkerMilestone(milestone)) return fail(d, `milestone ${milestone} has no worker`);
  return requestWorker(d, { ...run, milestone, deadlineAt: d.now + d.settings.timeoutsMs[milestone] });
}

/**
 * After the milestone at `index` (-1: none yet): its duration recorded, then the next milestone started, or the
 * workflow completed when there is none (reference §5.3 step 4).
 */
export function enterNext(d: Draft, index: number, freshId: string): Transition {
  const current = d.request.milestones[index];
  if (current === undefined) {
    say(d, true, 'Starting workflow...');
  } else {
    say(d, true, `Completed Workflow Milestone:  :${current}, in ${recordStepDuration(d, current)}`);
  }
  d.effects.push({ type: 'disarm' });
  if (index + 1 >= d.request.milestones.length) return complete(d);
  return startMilestone(d, index + 1, freshId);
}

/** How long a worker milestone may run, as the failure says it. */
export const timeoutText = (settings: MachineSettings, milestone: WorkerMilestone): string => humanSeconds(settings.timeoutsMs[milestone] / 1_000);
