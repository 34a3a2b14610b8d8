/** The system component and ref as the Overseer's decisions see them (reference §2.5): the Manager's fields, as data. */

export const UPGRADE_STATUSES = ['upgrade_in_progress', 'upgrade_completed', 'upgrade_failed', 'ineligible_for_upgrade'] as const;
export type ComponentStatus = (typeof UPGRADE_STATUSES)[number];

/** What the Overseer writes back with a full `PUT /system_components/:id` (reference §3.7). */
export interface ComponentFields {
  readonly messaging_exchange_id: number;
  readonly type: string;
  readonly source_repo: string;
  readonly source_repo_git_ref: string;
  readonly deployment_repo: string;
  readonly deployment_repo_git_ref: string;
  readonly upgrade_strategy: string;
  readonly status: ComponentStatus | null;
  readonly upgrade_status: Readonly<Record<string, unknown>> | null;
}

/** The desired version of a type (reference §2.5 `system_component_refs`). */
export interface ComponentRefFields {
  readonly source_repo: string;
  readonly source_repo_git_ref: string;
  readonly auto_upgrade_enabled: boolean;
}

/** `upgrade_status` while an upgrade runs (reference §8.3, §10A). */
export interface UpgradeStatus {
  readonly workflows: readonly string[];
  readonly current_workflow: string;
  /** RFC 1123, as the original. */
  readonly upgrade_start_time: string;
  readonly failure_reason: string;
  readonly target_source_repo: string;
  readonly target_source_repo_git_ref: string;
  readonly target_deployment_repo: string;
  readonly target_deployment_repo_git_ref: string;
}
