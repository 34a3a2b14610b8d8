import { EntitySchema } from '@mikro-orm/core';
import { timestampProperties, type Timestamps } from './common.js';

/** The system tables (reference §2.5): what should run, what runs in each exchange, and what went wrong. */

/** The desired version of a module type, global across exchanges; `type` is unique. */
export interface SystemComponentRef extends Timestamps {
  id: number;
  type: string;
  source_repo: string;
  source_repo_git_ref: string;
  auto_upgrade_enabled: boolean;
}

export const SystemComponentRefSchema = new EntitySchema<SystemComponentRef>({
  name: 'SystemComponentRef',
  tableName: 'system_component_refs',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    type: { type: 'string' },
    source_repo: { type: 'string', length: 128 },
    source_repo_git_ref: { type: 'string', length: 256 },
    auto_upgrade_enabled: { type: 'boolean', default: true },
    ...timestampProperties,
  },
});

/** What is deployed of a module type in one exchange; `upgrade_status` is JSON text (reference §8.3). */
export interface SystemComponent extends Timestamps {
  id: number;
  messaging_exchange_id: number;
  type: string;
  source_repo: string;
  source_repo_git_ref: string;
  deployment_repo: string;
  deployment_repo_git_ref: string;
  /** `hourly` or `manual`. */
  upgrade_strategy: string;
  /** `upgrade_in_progress`, `upgrade_completed`, `upgrade_failed` or `ineligible_for_upgrade`. */
  status: string | null;
  upgrade_status: string | null;
}

export const SystemComponentSchema = new EntitySchema<SystemComponent>({
  name: 'SystemComponent',
  tableName: 'system_components',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    messaging_exchange_id: { type: 'number' },
    type: { type: 'string' },
    source_repo: { type: 'string', length: 128 },
    source_repo_git_ref: { type: 'string', length: 256 },
    deployment_repo: { type: 'string', length: 128 },
    deployment_repo_git_ref: { type: 'string', length: 256 },
    upgrade_strategy: { type: 'string' },
    status: { type: 'string', nullable: true },
    upgrade_status: { type: 'text', nullable: true },
    ...timestampProperties,
  },
});

/** Something a module reported (reference §2.5, §8.4); `data` is JSON text. The `*_id` columns are users. */
export interface SystemEvent extends Timestamps {
  id: number;
  type: string;
  message: string | null;
  /** `error` or `warning` in practice. */
  severity: string;
  data: string | null;
  dismissed_at: Date | null;
  dismissed_by_id: number | null;
  dismissed_reason: string | null;
  assigned_at: Date | null;
  assignee_id: number | null;
  assigned_by_id: number | null;
}

export const SystemEventSchema = new EntitySchema<SystemEvent>({
  name: 'SystemEvent',
  tableName: 'system_events',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    type: { type: 'string' },
    message: { type: 'text', nullable: true },
    severity: { type: 'string' },
    data: { type: 'text', nullable: true },
    dismissed_at: { type: 'Date', nullable: true },
    dismissed_by_id: { type: 'number', nullable: true },
    dismissed_reason: { type: 'text', nullable: true },
    assigned_at: { type: 'Date', nullable: true },
    assignee_id: { type: 'number', nullable: true },
    assigned_by_id: { type: 'number', nullable: true },
    ...timestampProperties,
  },
});

export const SYSTEM_ENTITIES = [SystemComponentRefSchema, SystemComponentSchema, SystemEventSchema];
