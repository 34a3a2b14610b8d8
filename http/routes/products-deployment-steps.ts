import { QueryOrder, type EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { PageQuery, windowOf } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { decodeJson, productOr404, ProductParams, productPath, type ProductDeps } from './products-common.js';
import {
  ProductDeploymentPlanStepSchema,
  ProductDeploymentSchema,
  ProductDeploymentStepSchema,
  type Product,
  type ProductDeployment,
  type ProductDeploymentStep,
} from '../../entities/products.js';

/** What each plan step did in a deployment (reference §3.5). */

const Id = z.coerce.number<string>().int().positive().max(2_147_483_647);
export const DeploymentParams = ProductParams.extend({ deployment_id: Id });
export type DeploymentParams = z.infer<typeof DeploymentParams>;
const StepParams = DeploymentParams.extend({ step_id: Id });
type StepParams = z.infer<typeof StepParams>;

const StepBody = z.strictObject({
  product_deployment_plan_step_id: z.number().int().positive().max(2_147_483_647).nullable().optional(),
  product_deployment_plan_step_type: z.string().max(1024).nullable().optional(),
  duration: z.union([z.string().max(1024), z.number().nonnegative()]).nullable().optional(),
  successful: z.boolean().nullable().optional(),
  execution_options: z.record(z.string(), z.unknown()).nullable().optional(),
  output: z.array(z.string().max(65_536)).max(100_000).nullable().optional(),
  sequence: z.number().int().min(0).max(2_147_483_647).nullable().optional(),
});
type StepBody = z.infer<typeof StepBody>;

const stepJson = (s: ProductDeploymentStep) => ({
  id: s.id,
  product_deployment_id: s.product_deployment_id,
  product_deployment_plan_step_id: s.product_deployment_plan_step_id,
  product_deployment_plan_step_type: s.product_deployment_plan_step_type,
  duration: s.duration,
  successful: s.successful,
  execution_options: decodeJson(s.execution_options),
  output: decodeJson(s.output),
  sequence: s.sequence,
  inserted_at: s.inserted_at,
  updated_at: s.updated_at,
});

/**
 * Deliberate difference: the original's `Location` was the bare step id (reference §3.5), which a client resolves to
 * the wrong URL; ours is the step's path, still ending in its id.
 */
const stepPath = (p: Product, s: ProductDeploymentStep): string => `${productPath(p)}/deployments/${s.product_deployment_id}/steps/${s.id}`;

export async function deploymentOr404(em: EntityManager, params: DeploymentParams): Promise<{ product: Product; deployment: ProductDeployment }> {
  const product = await productOr404(em, params.product_name);
  const deployment = await em.findOne(ProductDeploymentSchema, { id: params.deployment_id, product_id: product.id });
  if (!deployment) throw new NotFoundError('ProductDeployment');
  return { product, deployment };
}

async function stepOr404(em: EntityManager, params: StepParams): Promise<{ product: Product; deployment: ProductDeployment; step: ProductDeploymentStep }> {
  const { product, deployment } = await deploymentOr404(em, params);
  const step = await em.findOne(ProductDeploymentStepSchema, { id: params.step_id, product_deployment_id: deployment.id });
  if (!step) throw new NotFoundError('ProductDeploymentStep');
  return { product, deployment, step };
}

/** The plan step a record names must be a step of the deployment's plan (a soft reference, checked when written). */
async function checkPlanStep(em: EntityManager, deployment: ProductDeployment, body: StepBody): Promise<void> {
  const id = body.product_deployment_plan_step_id;
  if (id === undefined || id === null) return;
  if (await em.findOne(ProductDeploymentPlanStepSchema, { id, product_deployment_plan_id: deployment.product_deployment_plan_id })) return;
  const field = 'product_deployment_plan_step_id';
  throw new InvalidRequestError('ProductDeploymentStep', [{ field, message: `${field}: step ${id} is not a step of the deployment's plan` }]);
}

/** Copies the fields the body gives; `undefined` keeps a column. */
function applyStep(step: ProductDeploymentStep, body: StepBody): void {
  if (body.product_deployment_plan_step_id !== undefined) step.product_deployment_plan_step_id = body.product_deployment_plan_step_id;
  if (body.product_deployment_plan_step_type !== undefined) step.product_deployment_plan_step_type = body.product_deployment_plan_step_type;
  if (body.duration !== undefined) step.duration = body.duration === null ? null : String(body.duration);
  if (body.successful !== undefined) step.successful = body.successful;
  if (body.execution_options !== undefined) step.execution_options = body.execution_options === null ? null : JSON.stringify(body.execution_options);
  if (body.output !== undefined) step.output = body.output === null ? null : JSON.stringify(body.output);
  if (body.sequence !== undefined) step.sequence = body.sequence;
}

const base = { tag: 'products', item: 'ProductDeploymentStep' } as const;

const list = defineRoute<ProductDeps, DeploymentParams, PageQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployments/:deployment_id/steps',
  summary: 'List the steps of a deployment, in sequence',
  access: 'viewer',
  params: DeploymentParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    const { deployment } = await deploymentOr404(em, params);
    const { limit, offset } = windowOf(query);
    const orderBy = { sequence: QueryOrder.ASC_NULLS_LAST, id: QueryOrder.ASC };
    const [rows, total] = await em.findAndCount(ProductDeploymentStepSchema, { product_deployment_id: deployment.id }, { orderBy, limit, offset });
    return { status: 200, body: rows.map(stepJson), total };
  },
});

const create = defineRoute<ProductDeps, DeploymentParams, Record<string, never>, StepBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/deployments/:deployment_id/steps',
  summary: 'Record a step of a deployment',
  access: 'operator',
  params: DeploymentParams,
  body: StepBody,
  async handle({ params, body }, { em }) {
    const { product, deployment } = await deploymentOr404(em, params);
    await checkPlanStep(em, deployment, body);
    const step = em.create(ProductDeploymentStepSchema, {
      product_deployment_id: deployment.id,
      product_deployment_plan_step_id: null,
      product_deployment_plan_step_type: null,
      duration: null,
      successful: null,
      execution_options: null,
      output: null,
      sequence: null,
    });
    applyStep(step, body);
    await em.flush();
    return { status: 201, location: stepPath(product, step) };
  },
});

const show = defineRoute<ProductDeps, StepParams>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployments/:deployment_id/steps/:step_id',
  summary: 'Show a step of a deployment',
  access: 'viewer',
  params: StepParams,
  async handle({ params }, { em }) {
    const { step } = await stepOr404(em, params);
    return { status: 200, body: stepJson(step) };
  },
});

const update = defineRoute<ProductDeps, StepParams, Record<string, never>, StepBody>({
  ...base,
  method: 'put',
  path: '/products/:product_name/deployments/:deployment_id/steps/:step_id',
  summary: 'Update a step of a deployment',
  access: 'operator',
  params: StepParams,
  body: StepBody,
  async handle({ params, body }, { em }) {
    const { product, deployment, step } = await stepOr404(em, params);
    await checkPlanStep(em, deployment, body);
    applyStep(step, body);
    await em.flush();
    return { status: 204, location: stepPath(product, step) };
  },
});

const remove = defineRoute<ProductDeps, StepParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/deployments/:deployment_id/steps/:step_id',
  summary: 'Delete a step of a deployment',
  access: 'operator',
  params: StepParams,
  async handle({ params }, { em }) {
    const { step } = await stepOr404(em, params);
    await em.nativeDelete(ProductDeploymentStepSchema, { id: step.id });
    return { status: 204 };
  },
});

export const deploymentStepRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, show, update, remove];
