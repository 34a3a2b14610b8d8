import { Migration } from '@mikro-orm/migrations';

/**
 * Workflows (reference §2.4) and the system tables (reference §2.5). Differences from the original, each on purpose:
 * `workflows.execute_requested_at` (a second execute is refused until it is cleared, reference §3.4), unique indexes
 * where the original's controllers alone kept refs' `type` and components' `(exchange, type)` unique (a race let two
 * in), and indexes for the time-window queries (workflow and event lists, the 1-hour event de-duplication).
 */
export default class WorkflowsSystem extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table workflows (
      id uuid primary key,
      deployment_repo varchar(128) null,
      deployment_repo_git_ref varchar(256) null,
      source_repo varchar(128) null,
      source_repo_git_ref varchar(256) null,
      source_commit_hash varchar(256) null,
      milestones text null,
      current_step varchar(128) null,
      elapsed_step_time varchar(128) null,
      elapsed_workflow_time varchar(128) null,
      workflow_duration varchar(128) null,
      workflow_step_durations text null,
      workflow_error boolean null,
      workflow_completed boolean not null default false,
      event_log text null,
      app_name varchar(64) null,
      scheduled_start_time timestamp null,
      execute_options text null,
      execute_requested_at timestamp null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index workflows_deployment_repo_index on workflows (deployment_repo)');
    this.addSql('create index workflows_inserted_at_index on workflows (inserted_at)');
    this.addSql(`create table system_component_refs (
      id serial primary key,
      type varchar(255) not null,
      source_repo varchar(128) not null,
      source_repo_git_ref varchar(256) not null,
      auto_upgrade_enabled boolean not null default true,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create unique index system_component_refs_type_index on system_component_refs (type)');
    this.addSql(`create table system_components (
      id serial primary key,
      messaging_exchange_id int not null references messaging_exchanges(id),
      type varchar(255) not null,
      source_repo varchar(128) not null,
      source_repo_git_ref varchar(256) not null,
      deployment_repo varchar(128) not null,
      deployment_repo_git_ref varchar(256) not null,
      upgrade_strategy varchar(255) not null,
      status varchar(255) null,
      upgrade_status text null,
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create unique index system_components_exchange_type_index on system_components (messaging_exchange_id, type)');
    this.addSql(`create table system_events (
      id serial primary key,
      type varchar(255) not null,
      message text null,
      severity varchar(255) not null,
      data text null,
      dismissed_at timestamp null,
      dismissed_by_id int null references users(id),
      dismissed_reason text null,
      assigned_at timestamp null,
      assignee_id int null references users(id),
      assigned_by_id int null references users(id),
      inserted_at timestamp not null,
      updated_at timestamp not null)`);
    this.addSql('create index system_events_assignee_id_index on system_events (assignee_id)');
    this.addSql('create index system_events_type_inserted_at_index on system_events (type, inserted_at)');
    this.addSql('create index system_events_inserted_at_index on system_events (inserted_at)');
  }
}
