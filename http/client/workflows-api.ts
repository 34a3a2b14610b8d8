import { bodyOf, createdId, expectStatus, fetchOne, fetchPage, type Page, type PageWindow } from './replies.js';
import { messagesOf, type ManagerHttp } from './requests.js';
import { ExecuteReply, UpdateManyReply, Workflow, type ExecuteOptions } from './schemas.js';

/** Workflows (reference §3.4): what the orchestrator, the builder and the deployer read and write. */

/** Columns a create or an update may set (reference §3.4: any column); left out means "not given". */
export interface WorkflowFields {
  readonly deployment_repo?: string | null;
  readonly deployment_repo_git_ref?: string | null;
  readonly source_repo?: string | null;
  readonly source_repo_git_ref?: string | null;
  readonly source_commit_hash?: string | null;
  /** `config` is prepended by the Manager when neither `build` nor `config` is listed (reference §3.4). */
  readonly milestones?: readonly string[] | null;
  readonly current_step?: string | null;
  readonly elapsed_step_time?: string | null;
  readonly elapsed_workflow_time?: string | null;
  readonly workflow_duration?: string | null;
  readonly workflow_step_durations?: Readonly<Record<string, string | number>> | null;
  readonly workflow_error?: boolean | null;
  readonly workflow_completed?: boolean | null;
  readonly event_log?: readonly string[] | null;
  readonly app_name?: string | null;
  /** Sent as ISO 8601; the Manager also takes RFC 1123 text. */
  readonly scheduled_start_time?: Date | string | null;
  readonly execute_options?: ExecuteRequest | null;
  /** Written by the orchestrator (issue 5): its exchange, and its state of the run. */
  readonly orchestrator_exchange_id?: number | null;
  readonly orchestration?: Readonly<Record<string, unknown>> | null;
}

/** An update may also clear `execute_requested_at`, which makes a workflow executable again. */
export interface WorkflowUpdate extends WorkflowFields {
  readonly execute_requested_at?: null;
}

/** The overrides of an execute; once stored, a later execute's are ignored (reference §3.4). */
export interface ExecuteRequest {
  readonly force_build?: boolean;
  readonly build_messaging_exchange_id?: number | null;
  readonly deploy_messaging_exchange_id?: number | null;
}

export interface WorkflowQuery extends PageWindow {
  /** Hours back (24 by default, <= 0 for all). */
  readonly lookback?: number;
  readonly deployment_repo?: string;
  /** Read as `deployment_repo = <source_repo>_docker` (reference §3.4). */
  readonly source_repo?: string;
  /** true: only started, unfinished workflows (issue 5: what an orchestrator adopts on restart). */
  readonly running?: boolean;
  readonly orchestrator_exchange_id?: number;
}

/** An execute is refused with 409 when the workflow has completed or started: an answer, not a failure (style R7). */
export type ExecuteOutcome =
  | { readonly queued: true; readonly execute_options: ExecuteOptions; readonly execute_requested_at: string }
  | { readonly queued: false; readonly reason: string };

export interface UpdateManyOutcome {
  readonly updated: readonly string[];
  readonly not_found: readonly string[];
}

/** A worker's save: applied, or not because the workflow no longer waits for the worker's dispatch (the reason). */
export type DispatchUpdate = { readonly updated: true } | { readonly updated: false; readonly reason: string };

export type CancelOutcome = { readonly cancelled: true } | { readonly cancelled: false; readonly reason: string };

export interface WorkflowsApi {
  /** undefined when there is no such workflow. */
  get(id: string): Promise<Workflow | undefined>;
  /** Newest first. */
  list(query?: WorkflowQuery): Promise<Page<Workflow>>;
  /** The new workflow's id (the Manager generates the UUID). */
  create(fields: WorkflowFields): Promise<string>;
  /** Sets the given columns only; an absent `workflow_completed` is left alone (reference §10.1 item 5, fixed). */
  update(id: string, fields: WorkflowUpdate): Promise<void>;
  /**
   * A worker's save (`PUT /workflows/:id?if_dispatch_id=`): applied only while the workflow waits for `dispatchId`;
   * otherwise not applied, with the Manager's reason (it completed, or waits for another dispatch).
   */
  updateForDispatch(id: string, dispatchId: string, fields: WorkflowUpdate): Promise<DispatchUpdate>;
  /** Many updates in one request and one transaction (`PUT /workflows`); unknown ids come back in `not_found`. */
  updateMany(updates: ReadonlyArray<WorkflowUpdate & { readonly id: string }>): Promise<UpdateManyOutcome>;
  /** Queues the workflow for the orchestrator; resolves once the Manager's broker has the request. */
  execute(id: string, options?: ExecuteRequest): Promise<ExecuteOutcome>;
  /** Fails the workflow at once and tells the orchestrator. */
  cancel(id: string): Promise<CancelOutcome>;
  /** false when there was no such workflow. */
  remove(id: string): Promise<boolean>;
}

const reasonOf = (json: unknown): string => messagesOf(json).join('; ') || 'refused';

export function workflowsApi(http: ManagerHttp): WorkflowsApi {
  const byId = (id: string) => ({ params: { id } });
  return {
    get: (id) => fetchOne(http, { method: 'GET', path: '/workflows/:id', ...byId(id) }, Workflow),
    list: ({ limit, offset, page, ...filters } = {}) => fetchPage(http, { method: 'GET', path: '/workflows', query: filters }, Workflow, { limit, offset, page }),
    async create(fields) {
      return createdId(await http.send({ method: 'POST', path: '/workflows', body: fields }));
    },
    async update(id, fields) {
      expectStatus(await http.send({ method: 'PUT', path: '/workflows/:id', ...byId(id), body: fields }), 204);
    },
    async updateForDispatch(id, dispatchId, fields) {
      const reply = await http.send({ method: 'PUT', path: '/workflows/:id', ...byId(id), query: { if_dispatch_id: dispatchId }, body: fields });
      if (reply.status === 409) return { updated: false, reason: reasonOf(reply.json) };
      expectStatus(reply, 204);
      return { updated: true };
    },
    async updateMany(updates) {
      return bodyOf(expectStatus(await http.send({ method: 'PUT', path: '/workflows', body: { workflows: updates } }), 200), UpdateManyReply);
    },
    async execute(id, options = {}) {
      const reply = await http.send({ method: 'POST', path: '/workflows/:id/execute', ...byId(id), body: options });
      if (reply.status === 409) return { queued: false, reason: reasonOf(reply.json) };
      const queued = bodyOf(expectStatus(reply, 202), ExecuteReply);
      return { queued: true, execute_options: queued.execute_options, execute_requested_at: queued.execute_requested_at };
    },
    async cancel(id) {
      const reply = await http.send({ method: 'POST', path: '/workflows/:id/cancel', ...byId(id) });
      if (reply.status === 409) return { cancelled: false, reason: reasonOf(reply.json) };
      expectStatus(reply, 204);
      return { cancelled: true };
    },
    async remove(id) {
      const reply = await http.send({ method: 'DELETE', path: '/workflows/:id', ...byId(id) });
      return expectStatus(reply, 204, 404).status === 204;
    },
  };
}
