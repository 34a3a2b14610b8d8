import type { Opt } from '@mikro-orm/core';

/**
 * Entities keep the original's table and column names (reference §2), snake_case as properties too, so a row, the
 * REST representation and the SQL read alike. Every table has `inserted_at` and `updated_at` (UTC, no time zone).
 */
export interface Timestamps {
  /** `Opt`: set by the ORM on create, so `em.create` does not ask for it. */
  inserted_at: Date & Opt;
  updated_at: Date & Opt;
}

export const timestampProperties = {
  inserted_at: { type: 'Date', onCreate: () => new Date() },
  updated_at: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
} as const;
