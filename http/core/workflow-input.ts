import { WORKFLOW_ORCHESTRATION_QUEUE } from '../../actors/orchestrator/messages.js';

/**
 * How the Manager normalises what it is told about a workflow and what it tells the orchestrator (reference §3.4,
 * §5.2), as pure functions (style R2): repo trimming, the `config` milestone, HTTP dates, the frozen execute options,
 * the event-log line and the orchestration request.
 */

/** Whitespace, then trailing `/` and `\`, trimmed, as the original's `trimTrailing` (reference §3.4). */
export function normaliseRepo(repo: string): string {
  return repo.trim().replace(/[/\\]+$/, '');
}

/**
 * Every workflow starts with a Builder milestone that supplies the deployment facts later ones need, so `config` is
 * prepended when neither `build` nor `config` is present (reference §3.4, §5.1): `["deploy"]` -> `["config","deploy"]`.
 */
export function normaliseMilestones(milestones: readonly string[]): string[] {
  return milestones.includes('build') || milestones.includes('config') ? [...milestones] : ['config', ...milestones];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RFC1123 = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|Z|[+-]\d{4})$/;
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Minutes east of UTC of `GMT`, `UTC`, `Z`, `+0200`, `-05:30`. */
function offsetMinutes(zone: string): number {
  if (zone === 'GMT' || zone === 'UTC' || zone === 'Z') return 0;
  const digits = zone.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits.startsWith('-') ? -minutes : minutes;
}

interface Fields {
  readonly year: number;
  readonly month: number; // 0-11
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly ms: number;
  readonly zone: string;
}

/** The instant of `fields`, or undefined when a field is out of range (31 Feb does not roll over to March). */
function instantOf(f: Fields): Date | undefined {
  if (f.month < 0 || f.hour > 23 || f.minute > 59 || f.second > 59) return undefined;
  const local = new Date(Date.UTC(f.year, f.month, f.day, f.hour, f.minute, f.second, f.ms));
  if (local.getUTCFullYear() !== f.year || local.getUTCMonth() !== f.month || local.getUTCDate() !== f.day) return undefined;
  return new Date(local.getTime() - offsetMinutes(f.zone) * 60_000);
}

/**
 * An HTTP date: RFC 1123 as the original took `scheduled_start_time` (`Tue, 23 Jun 2015 19:39:11 UTC`, reference
 * §3.4), or ISO 8601 with a zone, which is what we answer with (issue 4). The weekday is not checked against the
 * date: a client that gets it wrong still means the date it wrote. Undefined for anything else.
 */
export function parseHttpDate(text: string): Date | undefined {
  const rfc = RFC1123.exec(text);
  if (rfc) {
    const [, day, month, year, hour, minute, second, zone] = rfc;
    return instantOf({
      year: Number(year),
      month: MONTHS.indexOf(month ?? ''),
      day: Number(day),
      hour: Number(hour),
      minute: Number(minute),
      second: Number(second),
      ms: 0,
      zone: zone ?? 'Z',
    });
  }
  const iso = ISO8601.exec(text);
  if (!iso) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = iso;
  return instantOf({
    year: Number(year),
    month: Number(month) - 1,
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second ?? '0'),
    ms: Number((fraction ?? '0').padEnd(3, '0').slice(0, 3)),
    zone: zone ?? 'Z',
  });
}

/** The options an execute runs with (reference §3.4, §5.2). */
export interface ExecuteOptions {
  readonly force_build: boolean;
  readonly build_messaging_exchange_id: number | null;
  readonly deploy_messaging_exchange_id: number | null;
}

export type ExecuteRequest = { readonly [K in keyof ExecuteOptions]?: ExecuteOptions[K] | undefined };

/**
 * Options are frozen at the first execute: once stored, a later request's are ignored, so a re-run (the Overseer's,
 * reference §8.3) keeps the original overrides (reference §3.4).
 */
export function freezeExecuteOptions(stored: ExecuteOptions | null, requested: ExecuteRequest): ExecuteOptions {
  if (stored !== null) return stored;
  return {
    force_build: requested.force_build ?? false,
    build_messaging_exchange_id: requested.build_messaging_exchange_id ?? null,
    deploy_messaging_exchange_id: requested.deploy_messaging_exchange_id ?? null,
  };
}

/** Stored execute options as they were written; null for none or for text that is not an options object. */
export function readExecuteOptions(stored: unknown): ExecuteOptions | null {
  if (typeof stored !== 'object' || stored === null) return null;
  const o = stored as Record<string, unknown>;
  const id = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
  return {
    force_build: o.force_build === true,
    build_messaging_exchange_id: id(o.build_messaging_exchange_id),
    deploy_messaging_exchange_id: id(o.deploy_messaging_exchange_id),
  };
}

/** An event-log line as the orchestrator writes them: `[OA][<id>][<repo or Unknown>] message` (reference §5.5). */
export function eventLogLine(workflow: { readonly id: string; readonly deployment_repo: string | null }, message: string): string {
  return `[OA][${workflow.id}][${workflow.deployment_repo || 'Unknown'}] ${message}`;
}

/** Why a cancelled workflow failed (issue 5 item 5). */
export const cancelReason = (subject: string): string => `cancelled by ${subject}`;

/** Stored JSON text decoded for output; text an older writer stored as plain text is shown as it is. */
export function decoded(stored: string | null): unknown {
  if (stored === null) return null;
  try {
    return JSON.parse(stored) as unknown;
  } catch {
    return stored;
  }
}

/** A workflow row as stored (entities/workflows.ts), seen structurally: core imports no entity (style R11). */
export interface StoredWorkflow {
  readonly id: string;
  readonly deployment_repo: string | null;
  readonly deployment_repo_git_ref: string | null;
  readonly source_repo: string | null;
  readonly source_repo_git_ref: string | null;
  readonly source_commit_hash: string | null;
  readonly milestones: string | null;
  readonly current_step: string | null;
  readonly elapsed_step_time: string | null;
  readonly elapsed_workflow_time: string | null;
  readonly workflow_duration: string | null;
  readonly workflow_step_durations: string | null;
  readonly workflow_error: boolean | null;
  readonly workflow_completed: boolean;
  readonly event_log: string | null;
  readonly scheduled_start_time: Date | null;
}

/** The workflow's own fields with JSON columns decoded: its REST form and the orchestration request share them. */
export function workflowFields(w: StoredWorkflow) {
  return {
    id: w.id,
    deployment_repo: w.deployment_repo,
    deployment_repo_git_ref: w.deployment_repo_git_ref,
    source_repo: w.source_repo,
    source_repo_git_ref: w.source_repo_git_ref,
    source_commit_hash: w.source_commit_hash,
    milestones: decoded(w.milestones),
    current_step: w.current_step,
    elapsed_step_time: w.elapsed_step_time,
    elapsed_workflow_time: w.elapsed_workflow_time,
    workflow_duration: w.workflow_duration,
    workflow_step_durations: decoded(w.workflow_step_durations),
    workflow_error: w.workflow_error,
    workflow_completed: w.workflow_completed,
    event_log: decoded(w.event_log),
  };
}

/**
 * The orchestration request of reference §5.2 as §10A renders it: the workflow's fields (JSON columns decoded), then
 * the run-time fields, the orchestration and notification exchange (and broker) being the Manager's own, as strings.
 */
export function orchestrationRequest(w: StoredWorkflow, options: ExecuteOptions, own: { exchangeId: number; brokerId: number | undefined }) {
  const exchange = String(own.exchangeId);
  const broker = own.brokerId === undefined ? null : String(own.brokerId);
  return {
    ...workflowFields(w),
    workflow_id: null,
    workflow_start_time: null,
    step_time: null,
    scheduled_start_time: w.scheduled_start_time?.toISOString() ?? null,
    execute_options: options,
    ...options,
    orchestration_queue_name: WORKFLOW_ORCHESTRATION_QUEUE,
    workflow_orchestration_exchange_id: exchange,
    workflow_orchestration_broker_id: broker,
    notifications_exchange_id: exchange,
    notifications_broker_id: broker,
    docker_build_etcd_token: null,
    etcd_token: null,
    deployable_units: null,
    notifications_config: null,
    fleet_config: null,
    aws_config: null,
    ecs_task_definition: null,
  };
}

/** Payload of `workflow.execute_requested` on `workflow_orchestration`. */
export type OrchestrationRequest = ReturnType<typeof orchestrationRequest>;
