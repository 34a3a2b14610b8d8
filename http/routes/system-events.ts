import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import type { Principal } from '../auth.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import { PageQuery, windowOf } from '../pagination.js';
import { defineRoute, type AnyRoute, type Call, findOr404 } from '../route.js';
import { IdParams, Name } from '../schemas/common.js';
import { dedupWindowStart, isDuplicateEvent } from '../core/event-dedup.js';
import { decoded } from '../core/workflow-input.js';
import { UserSchema, type User } from '../../entities/auth.js';
import { SystemEventSchema, type SystemEvent } from '../../entities/system.js';
import { EMAIL_REQUESTED, NOTIFICATIONS_EMAIL_QUEUE, type EmailRequested } from '../../actors/notifications/messages.js';

/** System events (reference §3.8): posted by every module, de-duplicated, assigned and dismissed by people. */
export interface SystemEventDeps extends BaseDeps {
  /** The UI's base URL (the original's UI_URL), linked from the e-mails; left out of them when unset. */
  readonly uiUrl?: string;
}

const UserId = z.number().int().positive().max(2_147_483_647);
const EventBody = z.strictObject({
  type: Name(),
  severity: Name(),
  message: z.string().max(65_536).nullable().optional(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  unique: z.boolean().optional(),
});
type EventBody = z.infer<typeof EventBody>;
const AssignBody = z.strictObject({ assignee_id: UserId });
const DismissBody = z.strictObject({ dismissed_reason: z.string().max(65_536).nullable().optional(), dismissed_by_id: UserId.optional() });
const ListQuery = PageQuery.extend({
  lookback: z.coerce.number<string>().int().min(-1_000_000).max(1_000_000).optional(),
  assignee_id: z.coerce.number<string>().int().positive().max(2_147_483_647).optional(),
});

/** Timestamps ISO 8601 (issue 4); the original answered `assigned_at`/`dismissed_at` in RFC 1123. */
const eventJson = (e: SystemEvent) => ({
  id: e.id,
  type: e.type,
  message: e.message,
  severity: e.severity,
  data: decoded(e.data),
  dismissed_at: e.dismissed_at,
  dismissed_by_id: e.dismissed_by_id,
  dismissed_reason: e.dismissed_reason,
  assigned_at: e.assigned_at,
  assignee_id: e.assignee_id,
  assigned_by_id: e.assigned_by_id,
  inserted_at: e.inserted_at,
  updated_at: e.updated_at,
});

const eventOr404 = (em: EntityManager, id: number): Promise<SystemEvent> => findOr404(em, SystemEventSchema, { id }, 'SystemEvent');

async function userOr400(em: EntityManager, field: string, id: number): Promise<User> {
  const user = await em.findOne(UserSchema, { id });
  if (!user) throw new InvalidRequestError('SystemEvent', [{ field, message: `${field}: user ${id} does not exist` }]);
  return user;
}

/**
 * The caller's user row, when the caller is a person whose token names them by e-mail. The original required one
 * (reference §3.8: 400 otherwise); API clients have none, so for them `assigned_by_id` stays null and the audit
 * trail keeps who it was.
 */
async function callerUser(em: EntityManager, principal: Principal): Promise<User | null> {
  if (principal.kind !== 'user') return null;
  return em.findOne(UserSchema, { email: principal.subject });
}

/**
 * Checks a `unique` event against the same type's events of the last hour. A transaction-scoped advisory lock per
 * type serialises concurrent posts of one type, so a storm of identical events leaves one row (the original raced).
 */
async function refuseDuplicate(em: EntityManager, body: EventBody, now: Date): Promise<void> {
  await em.getConnection().execute('select pg_advisory_xact_lock(hashtext(?))', [`system_events:${body.type}`], 'all', em.getTransactionContext());
  const recent = await em.find(SystemEventSchema, { type: body.type, inserted_at: { $gte: dedupWindowStart(now) } }, { fields: ['data'] });
  if (isDuplicateEvent(body.data ?? null, recent.map((e) => decoded(e.data)))) {
    throw new ConflictError('SystemEvent', `an event of type ${body.type} with the same data was posted in the last hour`);
  }
}

/** Asks Notifications to e-mail the assignee (reference §3.8); confirmed, so a lost request is a 503, not silence. */
async function emailAssignee(call: Call<SystemEventDeps>, to: User, text: string): Promise<void> {
  const link = call.deps.uiUrl === undefined ? '' : `  For more information, please see:  ${call.deps.uiUrl}/index.html#/oa/system_events`;
  const email: EmailRequested = { prefix: '[OpenAperture][SystemEvent]', message: `${text}${link}`, notifications: { email_addresses: [to.email] } };
  await call.deps.transport.publish({ exchangeId: call.deps.exchangeId, queue: NOTIFICATIONS_EMAIL_QUEUE }, EMAIL_REQUESTED, email);
}

const common = { tag: 'system', item: 'SystemEvent' } as const;

/** Reference §3.8: `lookback` (hours, <= 0 for all) wins over `assignee_id`; by default the last 24 hours. */
const list = defineRoute<SystemEventDeps, Record<string, never>, z.infer<typeof ListQuery>>({
  ...common,
  method: 'get',
  path: '/system_events',
  summary: 'List system events, newest first',
  access: 'viewer',
  query: ListQuery,
  async handle({ query }, { em }) {
    const hours = query.lookback ?? (query.assignee_id === undefined ? 24 : 0);
    const where = {
      ...(hours > 0 ? { inserted_at: { $gte: new Date(Date.now() - hours * 3_600_000) } } : {}),
      ...(query.lookback === undefined && query.assignee_id !== undefined ? { assignee_id: query.assignee_id } : {}),
    };
    const [rows, total] = await em.findAndCount(SystemEventSchema, where, { ...windowOf(query), orderBy: [{ inserted_at: 'desc' }, { id: 'desc' }] });
    return { status: 200, body: rows.map(eventJson), total };
  },
});

const show = defineRoute<SystemEventDeps, z.infer<typeof IdParams>>({
  ...common,
  method: 'get',
  path: '/system_events/:id',
  summary: 'Show a system event',
  access: 'viewer',
  params: IdParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: eventJson(await eventOr404(em, params.id)) }),
});

/**
 * Posted by components (operator). Deliberate difference (reference §3.8): `Location` names the new event, where the
 * original pointed at the collection; a 201's Location is the created resource (RFC 9110 §15.3.2).
 */
const create = defineRoute<SystemEventDeps, Record<string, never>, Record<string, never>, EventBody>({
  ...common,
  method: 'post',
  path: '/system_events',
  summary: 'Post a system event',
  access: 'operator',
  body: EventBody,
  async handle({ body }, { em }) {
    if (body.unique === true) await refuseDuplicate(em, body, new Date());
    const data = body.data === undefined || body.data === null ? null : JSON.stringify(body.data);
    const event = em.create(SystemEventSchema, { type: body.type, severity: body.severity, message: body.message ?? null, data });
    await em.flush();
    return { status: 201, location: `/system_events/${event.id}` };
  },
});

const assign = defineRoute<SystemEventDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof AssignBody>>({
  ...common,
  method: 'post',
  path: '/system_events/:id/assign',
  summary: 'Assign a system event',
  access: 'admin',
  params: IdParams,
  body: AssignBody,
  async handle({ params, body }, call) {
    const { em, principal } = call;
    const event = await eventOr404(em, params.id);
    const assignee = await userOr400(em, 'assignee_id', body.assignee_id);
    Object.assign(event, { assignee_id: assignee.id, assigned_by_id: (await callerUser(em, principal))?.id ?? null, assigned_at: new Date() });
    await em.flush();
    await emailAssignee(call, assignee, `System event ${event.id} has been assigned to you: ${event.message ?? event.type}.`);
    return { status: 204, location: `/system_events/${event.id}` };
  },
});

const dismiss = defineRoute<SystemEventDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof DismissBody>>({
  ...common,
  method: 'post',
  path: '/system_events/:id/dismiss',
  summary: 'Dismiss a system event',
  access: 'admin',
  params: IdParams,
  body: DismissBody,
  async handle({ params, body }, call) {
    const { em, principal } = call;
    const event = await eventOr404(em, params.id);
    const by = body.dismissed_by_id === undefined ? await callerUser(em, principal) : await userOr400(em, 'dismissed_by_id', body.dismissed_by_id);
    Object.assign(event, { dismissed_by_id: by?.id ?? null, dismissed_at: new Date(), dismissed_reason: body.dismissed_reason ?? null });
    await em.flush();
    const assignee = event.assignee_id === null ? null : await em.findOne(UserSchema, { id: event.assignee_id });
    if (assignee) await emailAssignee(call, assignee, `System event ${event.id} is assigned to you and has been dismissed.`);
    return { status: 204, location: `/system_events/${event.id}` };
  },
});

export const systemEventRoutes: ReadonlyArray<AnyRoute<SystemEventDeps>> = [list, show, create, assign, dismiss];
