/**
 * What `openaperture workflow run` prints while it follows a workflow: the difference between two snapshots of it
 * (reference §1.15 printed milestone transitions and, on failure, the event log; we print every new event-log line).
 * Pure: two snapshots in, events out; the follow loop polls and prints.
 */

/** The fields of a workflow (reference §2.4) that progress is read from. */
export interface WorkflowView {
  readonly id: string;
  readonly milestones: readonly string[] | null;
  readonly current_step: string | null;
  readonly workflow_completed: boolean | null;
  readonly workflow_error: boolean | null;
  readonly event_log: readonly string[] | null;
  readonly execute_requested_at: string | null;
  readonly workflow_duration: string | null;
}

export type WorkflowStatus = 'created' | 'queued' | 'running' | 'succeeded' | 'failed';

export function statusOf(w: WorkflowView): WorkflowStatus {
  if (w.workflow_completed === true) return w.workflow_error === true ? 'failed' : 'succeeded';
  if (w.current_step !== null) return 'running';
  return w.execute_requested_at === null ? 'created' : 'queued';
}

export type FollowEvent =
  | { readonly kind: 'milestone'; readonly milestone: string; readonly position: number; readonly total: number }
  | { readonly kind: 'event'; readonly line: string }
  | { readonly kind: 'completed'; readonly succeeded: boolean; readonly duration: string | null };

/** The milestones started since `before`, in order: one poll may miss a short milestone, which still ran. */
function milestonesStarted(before: WorkflowView | undefined, after: WorkflowView): FollowEvent[] {
  if (before?.workflow_completed === true) return [];
  const list = after.milestones ?? [];
  const to = after.current_step === null ? -1 : list.indexOf(after.current_step);
  const from = before?.current_step == null ? -1 : list.indexOf(before.current_step);
  // Completion sets current_step to `workflow_completed`, which is no milestone: everything after `from` ran.
  const last = to === -1 && after.workflow_completed === true && after.workflow_error !== true ? list.length - 1 : to;
  const started: FollowEvent[] = [];
  for (let i = from + 1; i <= last; i += 1) started.push({ kind: 'milestone', milestone: list[i] ?? '', position: i + 1, total: list.length });
  return started;
}

/** Event-log lines `after` has that `before` had not; the whole log when it was rewritten rather than appended to. */
function newLines(before: readonly string[], after: readonly string[]): string[] {
  const appended = before.every((line, i) => after[i] === line);
  if (appended) return after.slice(before.length);
  const seen = new Set(before);
  return after.filter((line) => !seen.has(line));
}

/** What happened between two snapshots of one workflow (`before` undefined: the first snapshot). */
export function progressBetween(before: WorkflowView | undefined, after: WorkflowView): FollowEvent[] {
  const events: FollowEvent[] = [...milestonesStarted(before, after)];
  for (const line of newLines(before?.event_log ?? [], after.event_log ?? [])) events.push({ kind: 'event', line });
  if (after.workflow_completed === true && before?.workflow_completed !== true) {
    events.push({ kind: 'completed', succeeded: after.workflow_error !== true, duration: after.workflow_duration });
  }
  return events;
}

/**
 * The milestone headers due before a line of `milestone` (a build log line arrives as the build runs, often before
 * the next poll shows its milestone started): it and the milestones before it, those not in `printed`.
 */
export function headersUpTo(milestones: readonly string[], milestone: string, printed: ReadonlySet<string>): FollowEvent[] {
  const at = milestones.indexOf(milestone);
  return milestones
    .slice(0, at + 1)
    .flatMap((m, i) => (printed.has(m) ? [] : [{ kind: 'milestone' as const, milestone: m, position: i + 1, total: milestones.length }]));
}

/** `[OA][<id>][<repo>] ` starts every event-log line (reference §5.5); the follower names the workflow once. */
const EVENT_PREFIX = /^\[OA\]\[[^\]]*\]\[[^\]]*\]\s*/;

export function renderFollowEvent(e: FollowEvent, workflowId: string): string {
  switch (e.kind) {
    case 'milestone':
      return `==> milestone ${e.position}/${e.total}: ${e.milestone}`;
    case 'event':
      return `    ${e.line.replace(EVENT_PREFIX, '')}`;
    case 'completed':
      return `workflow ${workflowId} ${e.succeeded ? 'succeeded' : 'failed'}${e.duration === null ? '' : ` in ${e.duration}`}`;
  }
}

/** A build log line as the follower prints it, set apart from the event log. */
export const renderBuildLine = (line: string): string => `    build | ${line}`;
