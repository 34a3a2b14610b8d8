import type { FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { PageQuery, windowOf } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { AuditEventSchema, type AuditEvent } from '../../entities/auth.js';

/** The audit trail every mutation writes (http/app.ts), for admins (issue 4, item 3). */

/** ISO 8601 (a date, or a time with its zone) or, as the original's clients send times, RFC 1123 (`Tue, 23 Jun 2015 19:39:11 UTC`). */
const Instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date(), z.string().regex(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d (GMT|UTC)$/)], {
    error: 'must be an ISO 8601 or RFC 1123 time',
  })
  .transform((s) => new Date(s.replace(/ UTC$/, ' GMT')))
  .refine((d) => !Number.isNaN(d.getTime()), 'must be a real time');

const AuditQuery = PageQuery.extend({
  actor: z.string().min(1).max(255).optional(),
  target_type: z.string().min(1).max(64).optional(),
  target_id: z.string().min(1).max(255).optional(),
  /** Events at or after this time. */
  since: Instant.optional(),
});
type AuditQuery = z.infer<typeof AuditQuery>;

/** `diff` is stored as JSON text; it goes out as the JSON it holds. */
function parsedDiff(diff: string | null): unknown {
  if (diff === null) return null;
  try {
    return JSON.parse(diff) as unknown;
  } catch {
    // Written by http/app.ts as JSON, so this is a row edited by hand: show it as it is.
    return diff;
  }
}

const eventJson = (e: AuditEvent) => ({
  id: e.id,
  actor: e.actor,
  actor_role: e.actor_role,
  action: e.action,
  target_type: e.target_type,
  target_id: e.target_id,
  diff: parsedDiff(e.diff),
  inserted_at: e.inserted_at,
});

const list = defineRoute<BaseDeps, Record<string, never>, AuditQuery>({
  method: 'get',
  path: '/audit_events',
  summary: 'List audit events, newest first',
  tag: 'audit',
  access: 'admin',
  item: 'AuditEvent',
  query: AuditQuery,
  response: z.array(
    z.object({
      id: z.number(),
      actor: z.string(),
      actor_role: z.string(),
      action: z.string(),
      target_type: z.string(),
      target_id: z.string().nullable(),
      diff: z.unknown(),
      inserted_at: z.iso.datetime(),
    }),
  ),
  async handle({ query }, { em }) {
    const where: FilterQuery<AuditEvent> = {
      ...(query.actor === undefined ? {} : { actor: query.actor }),
      ...(query.target_type === undefined ? {} : { target_type: query.target_type }),
      ...(query.target_id === undefined ? {} : { target_id: query.target_id }),
      ...(query.since === undefined ? {} : { inserted_at: { $gte: query.since } }),
    };
    // Newest first: ids grow with time, and unlike inserted_at they never tie.
    const [rows, total] = await em.findAndCount(AuditEventSchema, where, { orderBy: { id: 'desc' }, ...windowOf(query) });
    return { status: 200, body: rows.map(eventJson), total };
  },
});

export const auditEventRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [list];
