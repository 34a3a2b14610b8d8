/**
 * How a worker (Builder, Deployer) reports on the milestone it runs (reference §1.5, the WorkflowOrchestratorApi):
 * every message is an event-log line and a chat notification, progress is saved to the Manager, and the end is a
 * callback on `workflow_orchestration` carrying the request with the worker's additions.
 *
 * Deliberate change: a failing worker does not mark the workflow completed itself (the original's `step_failed`
 * did); it reports `workflow.step_failed` with `failure_reason` and the orchestrator, which owns the workflow's state
 * (issue 5), makes the transition. So a failure is persisted once, by one writer.
 */
import type { ManagerClient } from '../../http/client/manager-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Messaging } from '../../runtime/messaging/transport.js';
import { CHAT_REQUESTED, NOTIFICATIONS_CHAT_QUEUE, type ChatRequested } from '../notifications/messages.js';
import { DispatchSuperseded } from './dispatch.js';
import { STEP_COMPLETED, STEP_FAILED, WORKFLOW_ORCHESTRATION_QUEUE, type OrchestrationRequest } from '../orchestrator/messages.js';

export interface MilestoneReportDeps {
  readonly transport: Pick<Messaging, 'publish'>;
  readonly manager: Pick<ManagerClient, 'workflows'>;
  readonly log: Logger;
}

/** What a worker tells about the milestone it runs; `request` is the request with everything added so far. */
export interface MilestoneReport {
  readonly request: OrchestrationRequest;
  /** An event-log line and a chat message (green when `ok`); saved with the next `save`, `completed` or `failed`. */
  notify(message: string, ok?: boolean): Promise<void>;
  /** Persists the event log so far; DispatchSuperseded when the workflow no longer waits for this run. */
  save(): Promise<void>;
  /** Saves and hands the workflow back to the orchestrator with `additions`. */
  completed(additions?: Partial<OrchestrationRequest>): Promise<void>;
  /** Notifies (red), saves and tells the orchestrator the milestone failed because of `reason`. */
  failed(reason: string): Promise<void>;
}

/** `[OA][<id>][<deployment repo or Unknown>]`, the prefix of every line and message (reference §5.5). */
export const notificationPrefix = (r: Pick<OrchestrationRequest, 'id' | 'deployment_repo'>): string => `[OA][${r.id}][${r.deployment_repo || 'Unknown'}]`;

/** The rooms of `notifications_config.hipchat.room_names`, when the source repo named any (reference §5.5). */
export function roomNamesOf(config: OrchestrationRequest['notifications_config']): string[] | null {
  const hipchat = config?.['hipchat'];
  if (typeof hipchat !== 'object' || hipchat === null) return null;
  const rooms = (hipchat as Record<string, unknown>)['room_names'];
  return Array.isArray(rooms) ? rooms.filter((r): r is string => typeof r === 'string' && r !== '') : null;
}

/** An exchange id the orchestration request carries (a string on the wire), checked. */
export const exchangeOf = (id: string | null | undefined, field: string): number => {
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`the orchestration request has no usable ${field} (${JSON.stringify(id)})`);
  return n;
};

export function milestoneReport(deps: MilestoneReportDeps, initial: OrchestrationRequest): MilestoneReport {
  let request: OrchestrationRequest = { ...initial, event_log: [...(initial.event_log ?? [])] };
  const prefix = notificationPrefix(initial);
  const log = deps.log.child({ workflowId: initial.id, milestone: initial.current_step });

  // While the workflow waits for this run's dispatch only: a run it no longer waits for must not overwrite the lines
  // written after it (a request redelivered and run again, a worker cut off from its broker), and stops.
  let superseded: DispatchSuperseded | undefined;
  const stopIfSuperseded = () => {
    if (superseded !== undefined) throw superseded;
  };
  const save = async () => {
    stopIfSuperseded();
    const fields = { event_log: request.event_log ?? [] };
    const dispatchId = request.dispatch_id;
    if (dispatchId === null || dispatchId === undefined) return deps.manager.workflows.update(request.id, fields);
    const saved = await deps.manager.workflows.updateForDispatch(request.id, dispatchId, fields);
    if (saved.updated) return;
    superseded = new DispatchSuperseded(`the Manager refused the ${request.current_step ?? 'milestone'} report: ${saved.reason}`);
    throw superseded;
  };
  const callback = async (type: string) => {
    await save();
    const to = { exchangeId: exchangeOf(request.workflow_orchestration_exchange_id, 'workflow_orchestration_exchange_id'), queue: WORKFLOW_ORCHESTRATION_QUEUE };
    await deps.transport.publish(to, type, request);
  };

  const report: MilestoneReport = {
    get request() {
      return request;
    },
    async notify(message, ok = true) {
      stopIfSuperseded();
      request = { ...request, event_log: [...(request.event_log ?? []), `${prefix} ${message}`] };
      (ok ? log.info : log.warn).call(log, { ok }, message);
      const chat: ChatRequested = { is_success: ok, prefix, message, room_names: roomNamesOf(request.notifications_config) };
      const exchangeId = exchangeOf(request.notifications_exchange_id, 'notifications_exchange_id');
      await deps.transport.publish({ exchangeId, queue: NOTIFICATIONS_CHAT_QUEUE }, CHAT_REQUESTED, chat);
    },
    save,
    async completed(additions = {}) {
      request = { ...request, ...additions, event_log: request.event_log ?? [] };
      await callback(STEP_COMPLETED);
    },
    async failed(reason) {
      await report.notify(`Workflow Milestone Failed:  :${request.current_step ?? 'unknown'}.  Reason:  ${reason}`, false);
      request = { ...request, failure_reason: reason };
      await callback(STEP_FAILED);
    },
  };
  return report;
}
