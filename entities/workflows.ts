import { EntitySchema } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/**
 * A workflow (reference §2.4): the Manager generates its uuid. `milestones`, `workflow_step_durations`, `event_log`
 * and `execute_options` are JSON text, decoded on output; durations are the original's human strings.
 */
export interface Workflow extends Timestamps {
  id: string;
  deployment_repo: string | null;
  deployment_repo_git_ref: string | null;
  source_repo: string | null;
  source_repo_git_ref: string | null;
  source_commit_hash: string | null;
  milestones: string | null;
  /** The milestone running (or last run), `workflow_completed` at the end; null = never started. */
  current_step: string | null;
  elapsed_step_time: string | null;
  elapsed_workflow_time: string | null;
  workflow_duration: string | null;
  workflow_step_durations: string | null;
  workflow_error: boolean | null;
  workflow_completed: boolean;
  event_log: string | null;
  app_name: string | null;
  scheduled_start_time: Date | null;
  /** `{force_build, build_messaging_exchange_id, deploy_messaging_exchange_id}`, frozen at the first execute. */
  execute_options: string | null;
  /**
   * When `POST /workflows/:id/execute` queued it. Not in the original (reference §3.4 checked only `current_step`,
   * which the orchestrator sets later, so two quick executes both ran); null again only by an explicit PUT.
   */
  execute_requested_at: Date | null;
  /** The exchange of the orchestrator running it (issue 5): on restart that orchestrator adopts it again. */
  orchestrator_exchange_id: number | null;
  /** The orchestrator's state of the run, JSON text: milestone, dispatch id, confirmed, deadline, request. */
  orchestration: string | null;
}

export const WorkflowSchema = new EntitySchema<Workflow>({
  name: 'Workflow',
  tableName: 'workflows',
  properties: {
    id: { type: 'uuid', primary: true },
    deployment_repo: { type: 'string', length: 128, nullable: true },
    deployment_repo_git_ref: { type: 'string', length: 256, nullable: true },
    source_repo: { type: 'string', length: 128, nullable: true },
    source_repo_git_ref: { type: 'string', length: 256, nullable: true },
    source_commit_hash: { type: 'string', length: 256, nullable: true },
    milestones: { type: 'text', nullable: true },
    current_step: { type: 'string', length: 128, nullable: true },
    elapsed_step_time: { type: 'string', length: 128, nullable: true },
    elapsed_workflow_time: { type: 'string', length: 128, nullable: true },
    workflow_duration: { type: 'string', length: 128, nullable: true },
    workflow_step_durations: { type: 'text', nullable: true },
    workflow_error: { type: 'boolean', nullable: true },
    workflow_completed: { type: 'boolean', default: false },
    event_log: { type: 'text', nullable: true },
    app_name: { type: 'string', length: 64, nullable: true },
    scheduled_start_time: { type: 'Date', nullable: true },
    execute_options: { type: 'text', nullable: true },
    execute_requested_at: { type: 'Date', nullable: true },
    orchestrator_exchange_id: { type: 'integer', nullable: true },
    orchestration: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

export const WORKFLOWS_ENTITIES = [WorkflowSchema];
