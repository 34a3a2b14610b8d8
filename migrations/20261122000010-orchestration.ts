import { Migration } from '@mikro-orm/migrations';

/**
 * Orchestration state (issue 5): the orchestrator persists every transition, so a restarted orchestrator can adopt the
 * unfinished workflows of its exchange again. `orchestrator_exchange_id` says whose a workflow is; `orchestration` is
 * JSON text (the milestone running, its dispatch id, whether the broker confirmed it, its deadline, the request).
 */
export default class Orchestration extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table workflows add column orchestrator_exchange_id int null');
    this.addSql('alter table workflows add column orchestration text null');
    this.addSql('create index workflows_unfinished_orchestrator_index on workflows (orchestrator_exchange_id) where workflow_completed = false');
  }
}
