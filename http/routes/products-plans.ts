import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import { deleteStepsOfPlans, flushOrConflict, PathName, pathPart, productOr404, ProductParams, productPath, stillUsed, whereName, type ProductDeps } from './products-common.js';
import { ProductDeploymentPlanSchema, ProductDeploymentSchema, type Product, type ProductDeploymentPlan } from '../../entities/products.js';

/** A product's deployment plans (reference §3.5); their step trees are in products-plan-steps.ts. */

const PlanBody = z.strictObject({ name: Name(1024) });
type PlanBody = z.infer<typeof PlanBody>;

export const PlanParams = ProductParams.extend({ plan_name: PathName });
export type PlanParams = z.infer<typeof PlanParams>;

const planJson = (p: ProductDeploymentPlan) => ({ id: p.id, product_id: p.product_id, name: p.name, inserted_at: p.inserted_at, updated_at: p.updated_at });

export const planPath = (p: Product, plan: ProductDeploymentPlan): string => `${productPath(p)}/deployment_plans/${pathPart(plan.name)}`;

/** Plan names match case-insensitively, as the original's steps controller did (reference §3.1). */
export async function planOr404(em: EntityManager, product: Product, name: string): Promise<ProductDeploymentPlan> {
  const plan = await em.findOne(ProductDeploymentPlanSchema, whereName<ProductDeploymentPlan>(name, { product_id: product.id }));
  if (!plan) throw new NotFoundError('ProductDeploymentPlan');
  return plan;
}

/**
 * A plan goes with its steps and their options (reference §2.3). Deployments of it are history the plan cannot be
 * deleted under (`product_deployment_plan_id` is NOT NULL): a 409 naming them, where the original answered 500.
 */
async function deletePlans(em: EntityManager, plans: readonly ProductDeploymentPlan[]): Promise<void> {
  if (plans.length === 0) return;
  const ids = plans.map((p) => p.id);
  const used = await em.find(ProductDeploymentSchema, { product_deployment_plan_id: { $in: ids } }, { fields: ['id'], orderBy: { id: 'asc' } });
  if (used.length > 0) {
    throw stillUsed('ProductDeploymentPlan', `ProductDeploymentPlan is used by deployment(s) ${used.map((d) => d.id).join(', ')}; delete them first`);
  }
  await deleteStepsOfPlans(em, ids);
  await em.nativeDelete(ProductDeploymentPlanSchema, { id: { $in: ids } });
}

const base = { tag: 'products', item: 'ProductDeploymentPlan' } as const;

const list = defineRoute<ProductDeps, ProductParams, PageQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployment_plans',
  summary: 'List the deployment plans of a product',
  access: 'viewer',
  params: ProductParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    const product = await productOr404(em, params.product_name);
    const { rows, total } = await findPage(em, ProductDeploymentPlanSchema, { product_id: product.id }, query);
    return { status: 200, body: rows.map(planJson), total };
  },
});

const create = defineRoute<ProductDeps, ProductParams, Record<string, never>, PlanBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/deployment_plans',
  summary: 'Create a deployment plan',
  access: 'operator',
  params: ProductParams,
  body: PlanBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    const clash = await em.findOne(ProductDeploymentPlanSchema, whereName<ProductDeploymentPlan>(body.name, { product_id: product.id }));
    if (clash) throw new ConflictError('ProductDeploymentPlan', `name ${clash.name}`);
    const plan = em.create(ProductDeploymentPlanSchema, { product_id: product.id, name: body.name });
    await flushOrConflict(em, 'ProductDeploymentPlan');
    return { status: 201, location: planPath(product, plan) };
  },
});

const removeAll = defineRoute<ProductDeps, ProductParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/deployment_plans',
  summary: 'Delete every deployment plan of a product',
  access: 'operator',
  params: ProductParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    await deletePlans(em, await em.find(ProductDeploymentPlanSchema, { product_id: product.id }));
    return { status: 204 };
  },
});

const show = defineRoute<ProductDeps, PlanParams>({
  ...base,
  method: 'get',
  path: '/products/:product_name/deployment_plans/:plan_name',
  summary: 'Show a deployment plan',
  access: 'viewer',
  params: PlanParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    return { status: 200, body: planJson(await planOr404(em, product, params.plan_name)) };
  },
});

/** Renames; another plan that already has the new name is deleted first, as the original did (reference §3.5). */
const update = defineRoute<ProductDeps, PlanParams, Record<string, never>, PlanBody>({
  ...base,
  method: 'put',
  path: '/products/:product_name/deployment_plans/:plan_name',
  summary: 'Rename a deployment plan (replacing another of that name)',
  access: 'operator',
  params: PlanParams,
  body: PlanBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    const plan = await planOr404(em, product, params.plan_name);
    const other = await em.find(ProductDeploymentPlanSchema, whereName<ProductDeploymentPlan>(body.name, { product_id: product.id, id: { $ne: plan.id } }));
    await deletePlans(em, other);
    plan.name = body.name;
    await flushOrConflict(em, 'ProductDeploymentPlan');
    return { status: 204, location: planPath(product, plan) };
  },
});

const remove = defineRoute<ProductDeps, PlanParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/deployment_plans/:plan_name',
  summary: 'Delete a deployment plan and its steps',
  access: 'operator',
  params: PlanParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    await deletePlans(em, [await planOr404(em, product, params.plan_name)]);
    return { status: 204 };
  },
});

export const planRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, removeAll, show, update, remove];
