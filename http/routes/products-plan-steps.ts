import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { assembleStepTree, collectSubtreeIds, findParentStep, findTreeProblem, flattenNestedStep, isNestedDeeperThan, type StepCase } from '../core/plan-steps.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import { deletePlanSteps, deleteStepsOfPlans, productOr404, stillUsed, type ProductDeps } from './products-common.js';
import { planOr404, planPath, PlanParams } from './products-plans.js';
import {
  PLAN_STEP_TYPES,
  ProductDeploymentPlanStepOptionSchema,
  ProductDeploymentPlanStepSchema,
  type ProductDeploymentPlan,
  type ProductDeploymentPlanStep,
  type ProductDeploymentPlanStepOption,
} from '../../entities/products.js';

/** A plan's step tree (reference §3.5): each step says what runs next on success and on failure. */

const MAX_NESTING = 32;
const MAX_STEPS_PER_REQUEST = 500;

const StepOptionBody = z.strictObject({ name: Name(1024), value: z.string().max(65_536).nullable().optional() });
type StepOptionBody = z.infer<typeof StepOptionBody>;

/** A step as a request nests it: the steps that follow it are inline objects, created with it. */
interface NestedStepBody {
  type: (typeof PLAN_STEP_TYPES)[number];
  options?: StepOptionBody[] | undefined;
  on_success_step?: NestedStepBody | null | undefined;
  on_failure_step?: NestedStepBody | null | undefined;
}

const NestedStepBody: z.ZodType<NestedStepBody> = z.lazy(() =>
  z.strictObject({
    type: z.enum(PLAN_STEP_TYPES),
    options: z.array(StepOptionBody).max(100).optional(),
    on_success_step: NestedStepBody.nullable().optional(),
    on_failure_step: NestedStepBody.nullable().optional(),
  }),
).meta({ id: 'ProductDeploymentPlanStepInput' }); // a named component: the OpenAPI generator refers to it instead of recursing

/**
 * The depth is checked before the recursive schema walks the body, so a deeply nested body is a 400, not a stack
 * overflow. `parent_step_id` with `step_case` hangs the new subtree under an existing step (reference §3.5).
 */
const CreateStepsBody = z.preprocess(
  (value, ctx) => {
    if (isNestedDeeperThan(value, MAX_NESTING + 2)) ctx.addIssue({ code: 'custom', message: `steps nest at most ${MAX_NESTING} deep`, input: value });
    return value;
  },
  z
    .strictObject({
      type: z.enum(PLAN_STEP_TYPES),
      options: z.array(StepOptionBody).max(100).optional(),
      on_success_step: NestedStepBody.nullable().optional(),
      on_failure_step: NestedStepBody.nullable().optional(),
      parent_step_id: z.number().int().positive().max(2_147_483_647).optional(),
      step_case: z.enum(['success', 'failure']).optional(),
    })
    .refine((b) => (b.parent_step_id === undefined) === (b.step_case === undefined), { message: 'parent_step_id and step_case go together', path: ['step_case'] }),
);
type CreateStepsBody = z.infer<typeof CreateStepsBody>;

const LinkId = z.number().int().positive().max(2_147_483_647).nullable().optional();
const UpdateStepBody = z.strictObject({
  type: z.enum(PLAN_STEP_TYPES),
  on_success_step_id: LinkId,
  on_failure_step_id: LinkId,
  options: z.array(StepOptionBody).max(100).optional(),
});
type UpdateStepBody = z.infer<typeof UpdateStepBody>;

const StepParams = PlanParams.extend({ step_id: z.coerce.number<string>().int().positive().max(2_147_483_647) });
type StepParams = z.infer<typeof StepParams>;

const stepJson = (s: ProductDeploymentPlanStep) => ({
  id: s.id,
  type: s.type,
  on_success_step_id: s.on_success_step_id,
  on_failure_step_id: s.on_failure_step_id,
  inserted_at: s.inserted_at,
  updated_at: s.updated_at,
});

const optionJson = (o: ProductDeploymentPlanStepOption) => ({
  id: o.id,
  product_deployment_plan_step_id: o.product_deployment_plan_step_id,
  name: o.name,
  value: o.value,
  inserted_at: o.inserted_at,
  updated_at: o.updated_at,
});

const linkField = (c: StepCase) => (c === 'success' ? 'on_success_step_id' : 'on_failure_step_id');
const invalid = (field: string, message: string) => new InvalidRequestError('ProductDeploymentPlanStep', [{ field, message: `${field}: ${message}` }]);

async function stepsOf(em: EntityManager, plan: ProductDeploymentPlan): Promise<ProductDeploymentPlanStep[]> {
  return em.find(ProductDeploymentPlanStepSchema, { product_deployment_plan_id: plan.id }, { orderBy: { id: 'asc' } });
}

async function planAndSteps(em: EntityManager, params: PlanParams): Promise<{ plan: ProductDeploymentPlan; steps: ProductDeploymentPlanStep[]; path: string }> {
  const product = await productOr404(em, params.product_name);
  const plan = await planOr404(em, product, params.plan_name);
  return { plan, steps: await stepsOf(em, plan), path: `${planPath(product, plan)}/steps` };
}

function addOptions(em: EntityManager, stepId: number, options: readonly StepOptionBody[]): void {
  for (const o of options) em.create(ProductDeploymentPlanStepOptionSchema, { product_deployment_plan_step_id: stepId, name: o.name, value: o.value ?? null });
}

/** Where the new subtree hangs: nowhere (the plan's first root) or a free link of a step of the plan. */
function attachPoint(steps: readonly ProductDeploymentPlanStep[], body: CreateStepsBody): { parent: ProductDeploymentPlanStep; stepCase: StepCase } | undefined {
  if (body.parent_step_id === undefined || body.step_case === undefined) {
    // Deliberate difference: the original let a second root in, and GET then showed one tree of the two at random.
    if (steps.length > 0) throw stillUsed('ProductDeploymentPlanStep', 'the plan already has steps: give parent_step_id and step_case, or delete its steps first');
    return undefined;
  }
  const parent = steps.find((s) => s.id === body.parent_step_id);
  if (!parent) throw invalid('parent_step_id', `step ${body.parent_step_id} is not a step of this plan`);
  if (parent[linkField(body.step_case)] !== null) throw stillUsed('ProductDeploymentPlanStep', `step ${parent.id} already has an on_${body.step_case} step`);
  return { parent, stepCase: body.step_case };
}

/** Inserts the nested steps (parents first, so a root has the lowest id of its tree), then links them. */
async function insertSteps(em: EntityManager, plan: ProductDeploymentPlan, body: CreateStepsBody): Promise<ProductDeploymentPlanStep> {
  const flat = flattenNestedStep<StepOptionBody>(body);
  if (flat.length > MAX_STEPS_PER_REQUEST) throw invalid('body', `at most ${MAX_STEPS_PER_REQUEST} steps per request, got ${flat.length}`);
  const rows = flat.map((f) =>
    em.create(ProductDeploymentPlanStepSchema, { product_deployment_plan_id: plan.id, type: f.type, on_success_step_id: null, on_failure_step_id: null }),
  );
  await em.flush();
  flat.forEach((f, i) => {
    const row = rows[i]!;
    row.on_success_step_id = f.onSuccess === null ? null : rows[f.onSuccess]!.id;
    row.on_failure_step_id = f.onFailure === null ? null : rows[f.onFailure]!.id;
    addOptions(em, row.id, f.options);
  });
  await em.flush();
  return rows[0]!;
}

const base = { tag: 'products', item: 'ProductDeploymentPlanStep' } as const;

/** The tree from its root, or 204 when the plan has no steps (reference §3.5). */
const tree = defineRoute<ProductDeps, PlanParams>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployment_plans/:plan_name/steps',
  summary: 'Show the step tree of a plan',
  access: 'viewer',
  params: PlanParams,
  async handle({ params }, { em }) {
    const { steps } = await planAndSteps(em, params);
    const ids = steps.map((s) => s.id);
    const options = ids.length === 0 ? [] : await em.find(ProductDeploymentPlanStepOptionSchema, { product_deployment_plan_step_id: { $in: ids } }, { orderBy: { id: 'asc' } });
    const root = assembleStepTree(steps.map(stepJson), options.map(optionJson));
    return root === undefined ? { status: 204 } : { status: 200, body: root };
  },
});

const create = defineRoute<ProductDeps, PlanParams, Record<string, never>, CreateStepsBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/deployment_plans/:plan_name/steps',
  summary: 'Add a (nested) step, as the root or under a step',
  access: 'operator',
  params: PlanParams,
  body: CreateStepsBody,
  async handle({ params, body }, { em }) {
    const { plan, steps, path } = await planAndSteps(em, params);
    const attach = attachPoint(steps, body);
    const root = await insertSteps(em, plan, body);
    if (attach) attach.parent[linkField(attach.stepCase)] = root.id;
    await em.flush();
    return { status: 201, location: path };
  },
});

const removeAll = defineRoute<ProductDeps, PlanParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/deployment_plans/:plan_name/steps',
  summary: 'Delete every step of a plan',
  access: 'operator',
  params: PlanParams,
  async handle({ params }, { em }) {
    const { plan } = await planAndSteps(em, params);
    await deleteStepsOfPlans(em, [plan.id]);
    return { status: 204 };
  },
});

function stepOr404(steps: readonly ProductDeploymentPlanStep[], id: number): ProductDeploymentPlanStep {
  const step = steps.find((s) => s.id === id);
  if (!step) throw new NotFoundError('ProductDeploymentPlanStep');
  return step;
}

/** The new links must keep the steps a tree: steps of this plan, one parent each, no cycle. */
function checkLinks(steps: readonly ProductDeploymentPlanStep[], step: ProductDeploymentPlanStep, body: UpdateStepBody): void {
  let proposed = steps.map((s) => ({ id: s.id, on_success_step_id: s.on_success_step_id, on_failure_step_id: s.on_failure_step_id }));
  for (const field of ['on_success_step_id', 'on_failure_step_id'] as const) {
    const link = body[field];
    if (link === undefined) continue;
    proposed = proposed.map((s) => (s.id === step.id ? { ...s, [field]: link } : s));
    const problem = findTreeProblem(proposed);
    if (problem !== undefined) throw invalid(field, problem);
  }
}

/** Sets the type and the links given (absent = unchanged, null = unlinked); options, when given, are replaced. */
const update = defineRoute<ProductDeps, StepParams, Record<string, never>, UpdateStepBody>({
  ...base,
  method: 'put',
  path: '/products/:product_name/deployment_plans/:plan_name/steps/:step_id',
  summary: 'Update a step: type, links, options',
  access: 'operator',
  params: StepParams,
  body: UpdateStepBody,
  async handle({ params, body }, { em }) {
    const { steps, path } = await planAndSteps(em, params);
    const step = stepOr404(steps, params.step_id);
    checkLinks(steps, step, body);
    step.type = body.type;
    if (body.on_success_step_id !== undefined) step.on_success_step_id = body.on_success_step_id;
    if (body.on_failure_step_id !== undefined) step.on_failure_step_id = body.on_failure_step_id;
    if (body.options !== undefined) {
      await em.nativeDelete(ProductDeploymentPlanStepOptionSchema, { product_deployment_plan_step_id: step.id });
      addOptions(em, step.id, body.options);
    }
    await em.flush();
    return { status: 204, location: path };
  },
});

/** Unlinks the step from its parent, then deletes it and every step under it (reference §3.5). */
const remove = defineRoute<ProductDeps, StepParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/deployment_plans/:plan_name/steps/:step_id',
  summary: 'Delete a step and the steps under it',
  access: 'operator',
  params: StepParams,
  async handle({ params }, { em }) {
    const { steps } = await planAndSteps(em, params);
    const step = stepOr404(steps, params.step_id);
    const parent = findParentStep(steps, step.id);
    if (parent) {
      parent.parent[linkField(parent.stepCase)] = null;
      await em.flush();
    }
    await deletePlanSteps(em, collectSubtreeIds(steps, step.id));
    return { status: 204 };
  },
});

export const planStepRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [tree, create, removeAll, update, remove];
