import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { windowOf, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import { decodeJson, deleteDeployments, environmentOr404, productOr404, ProductParams, productPath, type ProductDeps } from './products-common.js';
import { deploymentStepRoutes, DeploymentParams, deploymentOr404 } from './products-deployment-steps.js';
import { planOr404 } from './products-plans.js';
import { ProductDeploymentSchema, type Product, type ProductDeployment } from '../../entities/products.js';

/** A product's deployments (reference §3.5); their steps are in products-deployment-steps.ts. */

/**
 * Deliberate fix (reference §10.1 item 8): `page` works (the original broke when it was given). The page size stays
 * the original's 20 unless `limit` says otherwise, and `offset` works as on every list.
 */
const DeploymentListQuery = PageQuery.extend({ limit: z.coerce.number<string>().int().min(1).max(1_000).default(20) });
type DeploymentListQuery = z.infer<typeof DeploymentListQuery>;

const JsonObject = z.record(z.string(), z.unknown());
const OutputLines = z.array(z.string().max(65_536)).max(100_000);

const CreateBody = z.strictObject({
  plan_name: Name(1024),
  environment_name: Name(128),
  execution_options: JsonObject.nullable().optional(),
});
type CreateBody = z.infer<typeof CreateBody>;

const UpdateBody = z.strictObject({
  completed: z.boolean().nullable().optional(),
  duration: z.union([z.string().max(1024), z.number().nonnegative()]).nullable().optional(),
  execution_options: JsonObject.nullable().optional(),
  output: OutputLines.nullable().optional(),
});
type UpdateBody = z.infer<typeof UpdateBody>;

const deploymentJson = (d: ProductDeployment) => ({
  id: d.id,
  product_id: d.product_id,
  product_deployment_plan_id: d.product_deployment_plan_id,
  product_environment_id: d.product_environment_id,
  execution_options: decodeJson(d.execution_options),
  completed: d.completed,
  duration: d.duration,
  output: decodeJson(d.output),
  inserted_at: d.inserted_at,
  updated_at: d.updated_at,
});

const deploymentPath = (p: Product, d: ProductDeployment): string => `${productPath(p)}/deployments/${d.id}`;

/** JSON text of a body field: `undefined` keeps the column, `null` clears it. */
const encodeJson = (value: unknown): string | null | undefined => (value === undefined ? undefined : value === null ? null : JSON.stringify(value));

async function pageOfDeployments(em: EntityManager, product: Product, query: DeploymentListQuery): Promise<{ rows: ProductDeployment[]; total: number }> {
  const { limit, offset } = windowOf(query);
  const [rows, total] = await em.findAndCount(ProductDeploymentSchema, { product_id: product.id }, { orderBy: { inserted_at: 'desc', id: 'desc' }, limit, offset });
  return { rows, total };
}

const base = { tag: 'products', item: 'ProductDeployment' } as const;

/** Newest first, in the original's envelope `{deployments, total_pages, total_deployments}` (reference §3.5). */
const list = defineRoute<ProductDeps, ProductParams, DeploymentListQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployments',
  summary: 'List the deployments of a product, newest first',
  access: 'viewer',
  params: ProductParams,
  query: DeploymentListQuery,
  async handle({ params, query }, { em }) {
    const product = await productOr404(em, params.product_name);
    const { rows, total } = await pageOfDeployments(em, product, query);
    const body = { deployments: rows.map(deploymentJson), total_pages: Math.ceil(total / query.limit), total_deployments: total };
    return { status: 200, body, total };
  },
});

const create = defineRoute<ProductDeps, ProductParams, Record<string, never>, CreateBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/deployments',
  summary: 'Record a deployment of a plan to an environment',
  access: 'operator',
  params: ProductParams,
  body: CreateBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    const plan = await planOr404(em, product, body.plan_name);
    const environment = await environmentOr404(em, product, body.environment_name);
    const deployment = em.create(ProductDeploymentSchema, {
      product_id: product.id,
      product_deployment_plan_id: plan.id,
      product_environment_id: environment.id,
      completed: false,
      duration: null,
      execution_options: JSON.stringify(body.execution_options ?? {}),
      output: '[]',
    });
    await em.flush();
    return { status: 201, location: deploymentPath(product, deployment) };
  },
});

const show = defineRoute<ProductDeps, DeploymentParams>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployments/:deployment_id',
  summary: 'Show a deployment',
  access: 'viewer',
  params: DeploymentParams,
  async handle({ params }, { em }) {
    const { deployment } = await deploymentOr404(em, params);
    return { status: 200, body: deploymentJson(deployment) };
  },
});

/** The fields a deployment's runner reports: completion, duration (seconds, kept as text), options and output lines. */
const update = defineRoute<ProductDeps, DeploymentParams, Record<string, never>, UpdateBody>({
  ...base,
  method: 'put',
  path: '/products/:product_name/deployments/:deployment_id',
  summary: 'Update a deployment',
  access: 'operator',
  params: DeploymentParams,
  body: UpdateBody,
  async handle({ params, body }, { em }) {
    const { product, deployment } = await deploymentOr404(em, params);
    if (body.completed !== undefined) deployment.completed = body.completed;
    if (body.duration !== undefined) deployment.duration = body.duration === null ? null : String(body.duration);
    const options = encodeJson(body.execution_options);
    if (options !== undefined) deployment.execution_options = options;
    const output = encodeJson(body.output);
    if (output !== undefined) deployment.output = output;
    await em.flush();
    return { status: 204, location: deploymentPath(product, deployment) };
  },
});

const remove = defineRoute<ProductDeps, DeploymentParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/deployments/:deployment_id',
  summary: 'Delete a deployment and its steps',
  access: 'operator',
  params: DeploymentParams,
  async handle({ params }, { em }) {
    const { deployment } = await deploymentOr404(em, params);
    await deleteDeployments(em, { id: deployment.id });
    return { status: 204 };
  },
});

export const deploymentRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, show, update, remove, ...deploymentStepRoutes];
