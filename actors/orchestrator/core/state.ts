import type { ChatRequested, EmailRequested } from '../../notifications/messages.js';
import type { OrchestrationRequest } from '../messages.js';
import type { DispatchTarget, WorkerMilestone } from './dispatch.js';

/** The state of one workflow as its actor holds it, the events that move it and the effects it asks for (style R3). */

/** What the machine needs to know about its orchestrator; one object shared by every workflow. */
export interface MachineSettings {
  /** The orchestrator's exchange and broker: callbacks come back there (reference §5.2). */
  readonly exchangeId: number;
  readonly brokerId: number;
  /** How long a worker milestone may run before the workflow fails (issue 5 item 4). */
  readonly timeoutsMs: Readonly<Record<WorkerMilestone, number>>;
  /** Linked from the completion e-mail (reference §9.3). */
  readonly uiUrl?: string | undefined;
}

/** The milestone in progress. */
export interface Run {
  readonly milestone: string;
  /** Its position in `milestones` (a list may name a milestone twice). */
  readonly index: number;
  /** Sent with the worker's request and echoed by the worker: a callback with another one is stale. */
  readonly dispatchId: string;
  /** The broker confirmed the worker's request; an unconfirmed one is sent again on resume. */
  readonly confirmed: boolean;
  /** Epoch ms after which a worker milestone fails; null for `scheduled`. */
  readonly deadlineAt: number | null;
  /** Epoch ms at which `scheduled` moves on; null for worker milestones. */
  readonly wakeAt: number | null;
}

/**
 * A `PUT /workflows/:id` body. `workflow_completed` and `workflow_error` are sent only once the workflow is over, so
 * a save never undoes the Manager's cancel (an absent field is left alone: reference §10.1 item 5, fixed).
 */
export interface SavedFields {
  readonly source_repo_git_ref?: string | null;
  readonly source_commit_hash?: string | null;
  readonly current_step: string | null;
  readonly elapsed_step_time: string;
  readonly elapsed_workflow_time: string;
  readonly workflow_duration: string | null;
  readonly workflow_step_durations: Readonly<Record<string, string>>;
  readonly workflow_completed?: true;
  readonly workflow_error?: boolean;
  readonly event_log: readonly string[];
  readonly orchestrator_exchange_id: number;
  readonly orchestration: { readonly run: Run | null; readonly request: Omit<OrchestrationRequest, 'event_log'> };
}

export type WorkflowState =
  /** The Manager has no such workflow. */
  | { readonly phase: 'unknown'; readonly settings: MachineSettings }
  /** Created, not yet executed by an orchestrator. */
  | { readonly phase: 'new'; readonly settings: MachineSettings }
  | { readonly phase: 'running'; readonly settings: MachineSettings; readonly request: OrchestrationRequest; readonly run: Run }
  | { readonly phase: 'done'; readonly settings: MachineSettings };

export type RunningState = Extract<WorkflowState, { phase: 'running' }>;

/** What happens to a workflow. `freshId` is a new dispatch id the shell drew, used if a milestone starts. */
export type WorkflowEvent =
  | { readonly type: 'execute'; readonly request: OrchestrationRequest; readonly freshId: string }
  | { readonly type: 'step_completed'; readonly request: OrchestrationRequest; readonly freshId: string }
  | { readonly type: 'step_failed'; readonly request: OrchestrationRequest }
  /** The shell found where to send the milestone of `dispatchId`, or why it cannot. */
  | { readonly type: 'target'; readonly dispatchId: string; readonly target: DispatchTarget }
  /** The broker confirmed the worker's request of `dispatchId`. */
  | { readonly type: 'confirmed'; readonly dispatchId: string }
  | { readonly type: 'deadline'; readonly dispatchId: string }
  | { readonly type: 'wake'; readonly dispatchId: string; readonly freshId: string }
  /** The Manager has failed the workflow already; `eventLog` is its event log now (with its cancel line). */
  | { readonly type: 'cancel'; readonly reason: string; readonly eventLog: readonly string[] | null };

export type Effect =
  /** A chat message to `notifications_hipchat` of `exchangeId`; its event-log line is already in the request. */
  | { readonly type: 'notify'; readonly exchangeId: number; readonly chat: ChatRequested }
  /** Persist `fields` through the Manager (before anything is dispatched). */
  | { readonly type: 'save'; readonly fields: SavedFields }
  /** Find where the milestone's worker runs, then feed a `target` event back. */
  | { readonly type: 'resolve'; readonly milestone: WorkerMilestone; readonly dispatchId: string }
  /** Publish `workflow.milestone_requested`, then feed a `confirmed` event back. */
  | { readonly type: 'publish'; readonly to: { readonly exchangeId: number; readonly queue: string }; readonly request: OrchestrationRequest }
  /** Start (or replace) the timer of that kind; it feeds a `deadline` or `wake` event back at `at`. */
  | { readonly type: 'arm'; readonly timer: 'deadline' | 'wake'; readonly dispatchId: string; readonly at: number }
  | { readonly type: 'disarm' }
  /** The completion e-mail, to `notifications_email` of `exchangeId`. */
  | { readonly type: 'email'; readonly exchangeId: number; readonly email: EmailRequested }
  /** Nothing to do; logged with why. */
  | { readonly type: 'ignore'; readonly reason: string }
  /** The message cannot be applied to any workflow: dead-letter it with `reason`. */
  | { readonly type: 'reject'; readonly reason: string }
  /** The workflow is over: its actor stops. */
  | { readonly type: 'finish' };

export interface Transition {
  readonly next: WorkflowState;
  readonly effects: readonly Effect[];
}
