import { randomUUID } from 'node:crypto';
import { LockMode, type EntityManager, type FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { PageQuery, windowOf } from '../pagination.js';
import { defineRoute, type AnyRoute, findOr404, readOr404 } from '../route.js';
import {
  cancelReason,
  decoded,
  eventLogLine,
  freezeExecuteOptions,
  normaliseMilestones,
  normaliseRepo,
  orchestrationRequest,
  parseHttpDate,
  readExecuteOptions,
  workflowFields,
  type ExecuteOptions,
} from '../core/workflow-input.js';
import { awaitedDispatchOf, CANCEL_REQUESTED, checkMilestoneOrder, EXECUTE_REQUESTED, WORKFLOW_ORCHESTRATION_QUEUE, type CancelRequested } from '../../actors/orchestrator/messages.js';
import { MessagingExchangeSchema } from '../../entities/messaging.js';
import { WorkflowSchema, type Workflow } from '../../entities/workflows.js';

/** Workflows (reference §3.4), with the execute publish confirmed and the §10.1 item 5 and 17 bugs fixed. */
export interface WorkflowDeps extends BaseDeps {
  /** The Manager's broker (BROKER_ID), copied into the orchestration request's `*_broker_id`; null when unknown. */
  readonly brokerId?: number;
}


/** A refusal for the workflow's state, with the original's messages (reference §3.4); `Conflict` maps to 409. */
class WorkflowStateConflict extends Error {
  override readonly name = 'Conflict';
}

const IdParams = z.strictObject({ id: z.uuid('must be a workflow uuid') });
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const Repo = text(1_024).transform(normaliseRepo).pipe(text(128));
const HttpDate = text(64).transform((value, ctx) => {
  const date = parseHttpDate(value);
  if (date !== undefined) return date;
  ctx.issues.push({ code: 'custom', input: value, message: 'must be an RFC 1123 date (Tue, 23 Jun 2015 19:39:11 GMT) or ISO 8601 with a zone' });
  return z.NEVER;
});
/** The original parsed exchange ids from strings too (reference §3.4); `true` or `""` are still refused. */
const ExchangeRef = z.union([z.number().int().positive().max(2_147_483_647), z.string().regex(/^[1-9]\d{0,9}$/, 'must be an exchange id').transform(Number)]);
/** The milestones, as they will run (config prepended, reference §3.4), in an order they can run in (issue 14 item 3). */
const Milestones = z
  .array(z.string().trim().min(1, 'must not be empty').max(128))
  .max(64)
  .pipe(
    z.array(z.string()).superRefine((milestones, ctx) => {
      const order = checkMilestoneOrder(normaliseMilestones(milestones));
      if (!order.ok) ctx.addIssue({ code: 'custom', message: `${order.reason} (got ${JSON.stringify(milestones)})` });
    }),
  );
const ExecuteBody = z.strictObject({
  force_build: z.boolean().optional(),
  build_messaging_exchange_id: ExchangeRef.nullable().optional(),
  deploy_messaging_exchange_id: ExchangeRef.nullable().optional(),
});

/** Any column may be given (reference §3.4); everything is optional, so POST and PUT share it. */
const WorkflowBody = z.strictObject({
  deployment_repo: Repo.nullable().optional(),
  deployment_repo_git_ref: text(256).nullable().optional(),
  source_repo: Repo.nullable().optional(),
  source_repo_git_ref: text(256).nullable().optional(),
  source_commit_hash: text(256).nullable().optional(),
  milestones: Milestones.nullable().optional(),
  current_step: text(128).nullable().optional(),
  elapsed_step_time: text(128).nullable().optional(),
  elapsed_workflow_time: text(128).nullable().optional(),
  workflow_duration: text(128).nullable().optional(),
  workflow_step_durations: z.record(text(128), z.union([text(128), z.number()])).nullable().optional(),
  workflow_error: z.boolean().nullable().optional(),
  workflow_completed: z.boolean().nullable().optional(),
  event_log: z.array(text(16_384)).max(10_000).nullable().optional(),
  app_name: text(64).nullable().optional(),
  scheduled_start_time: HttpDate.nullable().optional(),
  execute_options: ExecuteBody.nullable().optional(),
  /** Issue 5: the orchestrator's exchange and its state of the run, written by the orchestrator on every transition. */
  orchestrator_exchange_id: z.number().int().positive().max(2_147_483_647).nullable().optional(),
  orchestration: z.record(z.string(), z.unknown()).nullable().optional(),
});
type WorkflowBody = z.infer<typeof WorkflowBody>;
/** PUT may also clear `execute_requested_at` (only to null), which is how a workflow is made executable again. */
const UpdateBody = WorkflowBody.extend({ execute_requested_at: z.null().optional() });
/** Most workflows one `PUT /workflows` updates. */
const MAX_WORKFLOWS_PER_UPDATE = 500;
const UpdateManyBody = z.strictObject({
  workflows: z
    .array(UpdateBody.extend({ id: z.uuid('must be a workflow uuid') }))
    .min(1, 'must name at least one workflow')
    .max(MAX_WORKFLOWS_PER_UPDATE, `must name at most ${MAX_WORKFLOWS_PER_UPDATE} workflows`)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `workflow ${item.id} is named twice` });
        seen.add(item.id);
      });
    }),
});

const ListQuery = PageQuery.extend({
  lookback: z.coerce.number<string>().int().min(-1_000_000).max(1_000_000).default(24),
  deployment_repo: text(1_024).optional(),
  source_repo: text(1_024).optional(),
  /** Issue 5: `true` lists the started, unfinished workflows (what an orchestrator adopts on restart). */
  running: z.enum(['true', 'false']).optional(),
  orchestrator_exchange_id: z.coerce.number<string>().int().positive().max(2_147_483_647).optional(),
});

const encoded = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

/** The columns a body sets: only the keys given, JSON columns encoded, `config` prepended (reference §3.4). */
function columnsOf(body: WorkflowBody & { execute_requested_at?: null | undefined }): Partial<Workflow> {
  const { milestones, workflow_step_durations, event_log, execute_options, workflow_completed, orchestration, ...plain } = body;
  const columns: Partial<Workflow> = {};
  for (const [key, value] of Object.entries(plain)) if (value !== undefined) Object.assign(columns, { [key]: value });
  if (milestones !== undefined) columns.milestones = milestones === null ? null : JSON.stringify(normaliseMilestones(milestones));
  if (workflow_step_durations !== undefined) columns.workflow_step_durations = encoded(workflow_step_durations);
  if (event_log !== undefined) columns.event_log = encoded(event_log);
  if (orchestration !== undefined) columns.orchestration = encoded(orchestration);
  if (execute_options !== undefined) columns.execute_options = encoded(execute_options === null ? null : freezeExecuteOptions(null, execute_options));
  // Deliberate fix (reference §10.1 item 5): an absent `workflow_completed` leaves it alone; null still means false.
  if (workflow_completed !== undefined) columns.workflow_completed = workflow_completed ?? false;
  return columns;
}

/**
 * Sets the columns a PUT body names, and `updated_at`; false when there is no such workflow. One statement, not a load
 * and a flush: the orchestrator saves every transition this way.
 */
async function updateColumns(em: EntityManager, id: string, body: z.infer<typeof UpdateBody>, now: Date): Promise<boolean> {
  return (await em.nativeUpdate(WorkflowSchema, { id }, { ...columnsOf(body), updated_at: now })) > 0;
}

/** A workflow as JSON: JSON columns decoded, timestamps ISO 8601 (issue 4; the original answered RFC 1123). */
export function workflowJson(w: Workflow) {
  return {
    ...workflowFields(w),
    app_name: w.app_name,
    scheduled_start_time: w.scheduled_start_time,
    execute_options: decoded(w.execute_options),
    execute_requested_at: w.execute_requested_at,
    orchestrator_exchange_id: w.orchestrator_exchange_id,
    orchestration: decoded(w.orchestration),
    inserted_at: w.inserted_at,
    updated_at: w.updated_at,
  };
}

const workflowOr404 = (em: EntityManager, id: string): Promise<Workflow> => findOr404(em, WorkflowSchema, { id }, 'Workflow');

function refuseIfNotExecutable(w: Workflow): void {
  if (w.workflow_completed) throw new WorkflowStateConflict('Workflow has already completed');
  if (w.current_step !== null || w.execute_requested_at !== null) throw new WorkflowStateConflict('Workflow has already been started');
}

async function checkExchanges(em: EntityManager, options: ExecuteOptions): Promise<void> {
  const problems = [];
  for (const field of ['build_messaging_exchange_id', 'deploy_messaging_exchange_id'] as const) {
    const id = options[field];
    if (id !== null && !(await em.findOne(MessagingExchangeSchema, { id }))) problems.push({ field, message: `${field}: exchange ${id} does not exist` });
  }
  if (problems.length > 0) throw new InvalidRequestError('Workflow', problems);
}

const common = { tag: 'workflows', item: 'Workflow' } as const;

const list = defineRoute<WorkflowDeps, Record<string, never>, z.infer<typeof ListQuery>>({
  ...common,
  method: 'get',
  path: '/workflows',
  summary: 'List workflows, newest first',
  access: 'viewer',
  query: ListQuery,
  async handle({ query }, { em }) {
    const repo = query.deployment_repo ? normaliseRepo(query.deployment_repo) : query.source_repo ? `${normaliseRepo(query.source_repo)}_docker` : undefined;
    const where: FilterQuery<Workflow> = {
      ...(query.lookback > 0 ? { inserted_at: { $gte: new Date(Date.now() - query.lookback * 3_600_000) } } : {}),
      ...(repo ? { deployment_repo: repo } : {}),
      ...(query.running === undefined ? {} : query.running === 'true' ? { workflow_completed: false, current_step: { $ne: null } } : { $or: [{ workflow_completed: true }, { current_step: null }] }),
      ...(query.orchestrator_exchange_id === undefined ? {} : { orchestrator_exchange_id: query.orchestrator_exchange_id }),
    };
    // Deliberate fix (reference §10.1 item 17): ordered newest first, and paginated.
    const [rows, total] = await em.findAndCount(WorkflowSchema, where, { ...windowOf(query), orderBy: [{ inserted_at: 'desc' }, { id: 'desc' }] });
    return { status: 200, body: rows.map(workflowJson), total };
  },
});

const show = defineRoute<WorkflowDeps, z.infer<typeof IdParams>>({
  ...common,
  method: 'get',
  path: '/workflows/:id',
  summary: 'Show a workflow',
  access: 'viewer',
  params: IdParams,
  handle: async ({ params }, { deps }) => ({ status: 200, body: workflowJson(await readOr404(deps.db, WorkflowSchema, params.id, 'Workflow')) }),
});

const create = defineRoute<WorkflowDeps, Record<string, never>, Record<string, never>, WorkflowBody>({
  ...common,
  method: 'post',
  path: '/workflows',
  summary: 'Create a workflow',
  access: 'operator',
  body: WorkflowBody,
  async handle({ body }, { em }) {
    const workflow = em.create(WorkflowSchema, { id: randomUUID(), workflow_completed: false, ...columnsOf(body) });
    await em.flush();
    return { status: 201, location: `/workflows/${workflow.id}` };
  },
});

const UpdateQuery = z.strictObject({
  /** A worker's save: applied only while the workflow waits for this dispatch (issue 14), else 409. */
  if_dispatch_id: text(64).min(1, 'must not be empty').optional(),
});

/**
 * A worker's save while the workflow waits for its dispatch: the row is locked, so an orchestrator's save that moves
 * the workflow on comes wholly before or after. A run the workflow no longer waits for (a redelivered request run
 * again, a worker that lost its broker) must not overwrite the event log of the milestones after it.
 */
async function refuseUnlessAwaiting(em: EntityManager, id: string, dispatchId: string): Promise<void> {
  const w = await em.findOne(WorkflowSchema, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (w === null) throw new NotFoundError('Workflow');
  if (w.workflow_completed) throw new WorkflowStateConflict(`Workflow has already completed: dispatch ${dispatchId} may not change it`);
  const awaited = awaitedDispatchOf(decoded(w.orchestration));
  if (awaited !== dispatchId) throw new WorkflowStateConflict(`Workflow waits for ${awaited === null ? 'no dispatch' : `dispatch ${awaited}`}, not for dispatch ${dispatchId}`);
}

const update = defineRoute<WorkflowDeps, z.infer<typeof IdParams>, z.infer<typeof UpdateQuery>, z.infer<typeof UpdateBody>>({
  ...common,
  method: 'put',
  path: '/workflows/:id',
  summary: 'Update a workflow',
  access: 'operator',
  params: IdParams,
  query: UpdateQuery,
  body: UpdateBody,
  async handle({ params, query, body }, { em }) {
    if (query.if_dispatch_id !== undefined) await refuseUnlessAwaiting(em, params.id, query.if_dispatch_id);
    if (!(await updateColumns(em, params.id, body, new Date()))) throw new NotFoundError('Workflow');
    return { status: 204, location: `/workflows/${params.id}` };
  },
});

/**
 * Many updates in one request and one transaction, each exactly as `PUT /workflows/:id` (not in the original): an
 * orchestrator saves the transitions of all its running workflows together rather than one request each. Unknown
 * ids are listed, not refused, so one deleted workflow does not fail the others' saves.
 */
const updateMany = defineRoute<WorkflowDeps, Record<string, never>, Record<string, never>, z.infer<typeof UpdateManyBody>>({
  ...common,
  method: 'put',
  path: '/workflows',
  summary: 'Update many workflows',
  access: 'operator',
  body: UpdateManyBody,
  response: z.object({ updated: z.array(z.uuid()), not_found: z.array(z.uuid()) }),
  async handle({ body }, { em }) {
    const updated: string[] = [];
    const notFound: string[] = [];
    const now = new Date();
    for (const { id, ...fields } of body.workflows) ((await updateColumns(em, id, fields, now)) ? updated : notFound).push(id);
    return { status: 200, body: { updated, not_found: notFound } };
  },
});

const remove = defineRoute<WorkflowDeps, z.infer<typeof IdParams>>({
  ...common,
  method: 'delete',
  path: '/workflows/:id',
  summary: 'Delete a workflow',
  access: 'operator',
  params: IdParams,
  async handle({ params }, { em }) {
    await workflowOr404(em, params.id);
    await em.nativeDelete(WorkflowSchema, { id: params.id });
    return { status: 204 };
  },
});

/**
 * Queues the workflow for the orchestrator. Deliberate fix (reference §3.4): 202 only once the broker confirmed the
 * request; a failed publish rolls the claim back and answers 503 naming the problem (http/errors.ts maps
 * PublishError). The claim is a conditional update, so of two concurrent executes one is refused with 409.
 */
const execute = defineRoute<WorkflowDeps, z.infer<typeof IdParams>, Record<string, never>, z.infer<typeof ExecuteBody> | undefined>({
  ...common,
  method: 'post',
  path: '/workflows/:id/execute',
  summary: 'Execute a workflow',
  access: 'operator',
  params: IdParams,
  body: ExecuteBody.optional(),
  async handle({ params, body }, { em, deps }) {
    const workflow = await workflowOr404(em, params.id);
    refuseIfNotExecutable(workflow);
    const stored = readExecuteOptions(decoded(workflow.execute_options));
    const options = freezeExecuteOptions(stored, body ?? {});
    if (stored === null) await checkExchanges(em, options);
    const now = new Date();
    const claimed = await em.nativeUpdate(
      WorkflowSchema,
      { id: workflow.id, workflow_completed: false, current_step: null, execute_requested_at: null },
      { execute_options: JSON.stringify(options), execute_requested_at: now, updated_at: now },
    );
    if (claimed === 0) throw new WorkflowStateConflict('Workflow has already been started');
    const request = orchestrationRequest(workflow, options, { exchangeId: deps.exchangeId, brokerId: deps.brokerId });
    await deps.transport.publish({ exchangeId: deps.exchangeId, queue: WORKFLOW_ORCHESTRATION_QUEUE }, EXECUTE_REQUESTED, request);
    // The original's 202 and Location; the body says what was queued (the original's was empty).
    return { status: 202, location: `/workflows/${workflow.id}`, body: { id: workflow.id, execute_options: options, execute_requested_at: now } };
  },
});

/** Issue 5 item 5: the workflow fails at once with the reason; the orchestrator and workers learn from the message. */
const cancel = defineRoute<WorkflowDeps, z.infer<typeof IdParams>>({
  ...common,
  method: 'post',
  path: '/workflows/:id/cancel',
  summary: 'Cancel a workflow',
  access: 'operator',
  params: IdParams,
  async handle({ params }, { em, deps, principal }) {
    const workflow = await workflowOr404(em, params.id);
    if (workflow.workflow_completed) throw new WorkflowStateConflict('Workflow has already completed');
    const reason = cancelReason(principal.subject);
    const previous = decoded(workflow.event_log);
    const eventLog = [...(Array.isArray(previous) ? previous : []), eventLogLine(workflow, `Workflow has been cancelled.  Reason:  ${reason}`)];
    const now = new Date();
    const cancelled = await em.nativeUpdate(
      WorkflowSchema,
      { id: workflow.id, workflow_completed: false },
      { workflow_completed: true, workflow_error: true, event_log: JSON.stringify(eventLog), updated_at: now },
    );
    if (cancelled === 0) throw new WorkflowStateConflict('Workflow has already completed');
    const message: CancelRequested = { workflow_id: workflow.id, reason, cancelled_by: principal.subject };
    await deps.transport.publish({ exchangeId: deps.exchangeId, queue: WORKFLOW_ORCHESTRATION_QUEUE }, CANCEL_REQUESTED, message);
    return { status: 204, location: `/workflows/${workflow.id}` };
  },
});

export const workflowRoutes: ReadonlyArray<AnyRoute<WorkflowDeps>> = [list, show, create, update, updateMany, remove, execute, cancel];
