/**
 * An upgrade as data (reference §8.3): the workflows that carry it out, the `upgrade_status` that tracks it, the
 * decision of each monitoring pass and the component each decision leaves behind.
 */
import type { ComponentFields, ComponentRefFields, UpgradeStatus } from './component.js';

/** A workflow to create (`POST /workflows`). */
export interface UpgradeWorkflow {
  readonly deployment_repo: string;
  readonly deployment_repo_git_ref: string;
  readonly source_repo: string;
  readonly source_repo_git_ref: string;
  readonly milestones: readonly string[];
}

/**
 * The OA deployer cycles the module (`[config, deploy_oa]`); a `deployer` cannot replace itself that way, so for it a
 * second workflow on `<deployment_repo>_oa` has the regular deployer cycle the OA deployer (`[config, deploy]`).
 */
export function planUpgradeWorkflows(component: ComponentFields, ref: ComponentRefFields): [UpgradeWorkflow, ...UpgradeWorkflow[]] {
  const source = { source_repo: ref.source_repo, source_repo_git_ref: ref.source_repo_git_ref };
  const module: UpgradeWorkflow = {
    deployment_repo: component.deployment_repo,
    deployment_repo_git_ref: component.deployment_repo_git_ref,
    ...source,
    milestones: ['config', 'deploy_oa'],
  };
  if (component.type !== 'deployer') return [module];
  return [module, { deployment_repo: `${component.deployment_repo}_oa`, deployment_repo_git_ref: component.deployment_repo_git_ref, ...source, milestones: ['config', 'deploy'] }];
}

/** The component once its workflows exist: `upgrade_in_progress`, tracking them and the version they install. */
export function upgradingComponent(component: ComponentFields, ref: ComponentRefFields, workflowIds: readonly [string, ...string[]], now: Date): ComponentFields {
  const status: UpgradeStatus = {
    workflows: [...workflowIds],
    current_workflow: workflowIds[0],
    upgrade_start_time: now.toUTCString(),
    failure_reason: '',
    target_source_repo: ref.source_repo,
    target_source_repo_git_ref: ref.source_repo_git_ref,
    target_deployment_repo: component.deployment_repo,
    target_deployment_repo_git_ref: component.deployment_repo_git_ref,
  };
  return { ...component, status: 'upgrade_in_progress', upgrade_status: { ...status } };
}

/** What a workflow's row says about its progress (reference §2.4). */
export interface WorkflowProgress {
  readonly id: string;
  readonly current_step: string | null;
  readonly elapsed_step_time: string | null;
  readonly execute_requested_at: string | null;
  readonly workflow_completed: boolean | null;
  readonly workflow_error: boolean | null;
}

export type UpgradeDecision =
  | { readonly type: 'execute'; readonly workflowId: string }
  | { readonly type: 'wait'; readonly workflowId: string }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'completed' };

const failedWorkflow = (w: WorkflowProgress): boolean => w.workflow_completed === true && w.workflow_error === true;
const succeeded = (w: WorkflowProgress): boolean => w.workflow_completed === true && w.workflow_error !== true;
const untouched = (w: WorkflowProgress): boolean => w.current_step === null && w.elapsed_step_time === null && w.execute_requested_at === null;

/**
 * One monitoring pass (reference §8.3 MonitorTask): the current workflow is the first failed one, else the first not
 * yet completed; a workflow that was never executed is executed (one queued but not started yet is waited for).
 * `found` holds the rows that exist; a workflow deleted meanwhile fails the upgrade.
 */
export function decideUpgradeProgress(workflowIds: readonly string[], found: readonly WorkflowProgress[]): UpgradeDecision {
  if (workflowIds.length === 0) return { type: 'failed', reason: 'upgrade_status lists no workflows' };
  const byId = new Map(found.map((w) => [w.id, w]));
  const missing = workflowIds.find((id) => !byId.has(id));
  if (missing !== undefined) return { type: 'failed', reason: `Workflow ${missing} no longer exists` };
  const rows = workflowIds.map((id) => byId.get(id)!);
  const failed = rows.find(failedWorkflow);
  if (failed) return { type: 'failed', reason: `Workflow ${failed.id} has failed` };
  const current = rows.find((w) => !succeeded(w));
  if (current === undefined) return { type: 'completed' };
  return untouched(current) ? { type: 'execute', workflowId: current.id } : { type: 'wait', workflowId: current.id };
}

/** The component a decision leaves, or undefined when nothing changes. */
export function componentAfter(component: ComponentFields, status: UpgradeStatus, decision: UpgradeDecision): ComponentFields | undefined {
  switch (decision.type) {
    case 'failed':
      return { ...component, status: 'upgrade_failed', upgrade_status: { ...status, failure_reason: decision.reason } };
    case 'completed':
      return {
        ...component,
        source_repo: status.target_source_repo,
        source_repo_git_ref: status.target_source_repo_git_ref,
        deployment_repo: status.target_deployment_repo,
        deployment_repo_git_ref: status.target_deployment_repo_git_ref,
        status: 'upgrade_completed',
        upgrade_status: null,
      };
    case 'execute':
    case 'wait':
      return status.current_workflow === decision.workflowId ? undefined : { ...component, upgrade_status: { ...status, current_workflow: decision.workflowId } };
  }
}

/** The component when the upgrade cannot go on (reference §8.3: errors end `upgrade_failed`); what it tracked is kept. */
export function failedUpgrade(component: ComponentFields, reason: string): ComponentFields {
  const previous = component.upgrade_status ?? {};
  return { ...component, status: 'upgrade_failed', upgrade_status: { ...previous, failure_reason: reason } };
}
