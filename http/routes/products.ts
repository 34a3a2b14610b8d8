import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { ConflictError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import { productClusterRoutes } from './products-clusters.js';
import { deleteComponents, deleteDeployments, deleteStepsOfPlans, flushOrConflict, productJson, productOr404, ProductParams, productPath, whereName, type ProductDeps } from './products-common.js';
import { componentRoutes } from './products-components.js';
import { defaultVariableRoutes } from './products-default-variables.js';
import { deploymentRoutes } from './products-deployments.js';
import { environmentRoutes } from './products-environments.js';
import { planStepRoutes } from './products-plan-steps.js';
import { planRoutes } from './products-plans.js';
import { variableRoutes } from './products-variables.js';
import { disownProduct } from './router-owner.js';
import {
  ProductClusterSchema,
  ProductComponentSchema,
  ProductDeploymentPlanSchema,
  ProductEnvironmentalVariableSchema,
  ProductEnvironmentSchema,
  ProductSchema,
  type Product,
} from '../../entities/products.js';

/** Products (reference §3.5): the root of the products area; its sub-resources live in `products-*.ts`. */

const ProductBody = z.strictObject({ name: Name() });
type ProductBody = z.infer<typeof ProductBody>;

async function checkName(em: EntityManager, name: string, self?: number): Promise<void> {
  const clash = await em.findOne(ProductSchema, whereName<Product>(name, self === undefined ? {} : { id: { $ne: self } }));
  if (clash) throw new ConflictError('Product', `name ${clash.name}`);
}

const list = defineRoute<ProductDeps, Record<string, never>, PageQuery>({
  method: 'get',
  path: '/products',
  summary: 'List products',
  tag: 'products',
  access: 'viewer',
  item: 'Product',
  query: PageQuery,
  async handle({ query }, { em }) {
    const { rows, total } = await findPage(em, ProductSchema, {}, query);
    return { status: 200, body: rows.map(productJson), total };
  },
});

const create = defineRoute<ProductDeps, Record<string, never>, Record<string, never>, ProductBody>({
  method: 'post',
  path: '/products',
  summary: 'Create a product',
  tag: 'products',
  access: 'operator',
  item: 'Product',
  body: ProductBody,
  async handle({ body }, { em }) {
    await checkName(em, body.name);
    const product = em.create(ProductSchema, { name: body.name });
    await flushOrConflict(em, 'Product');
    return { status: 201, location: productPath(product) };
  },
});

const show = defineRoute<ProductDeps, ProductParams>({
  method: 'get',
  path: '/products/:product_name',
  summary: 'Show a product',
  tag: 'products',
  access: 'viewer',
  item: 'Product',
  params: ProductParams,
  handle: async ({ params }, { em }) => ({ status: 200, body: productJson(await productOr404(em, params.product_name)) }),
});

const update = defineRoute<ProductDeps, ProductParams, Record<string, never>, ProductBody>({
  method: 'put',
  path: '/products/:product_name',
  summary: 'Rename a product',
  tag: 'products',
  access: 'operator',
  item: 'Product',
  params: ProductParams,
  body: ProductBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    // Deliberate fix: reference §3.5 also answered 409 when the new name was the product's own (as brokers, §10.1 item 6).
    await checkName(em, body.name, product.id);
    product.name = body.name;
    await flushOrConflict(em, 'Product');
    return { status: 204, location: productPath(product) };
  },
});

/** Reference §2.3: everything of the product, in one transaction, dependants first. */
const remove = defineRoute<ProductDeps, ProductParams>({
  method: 'delete',
  path: '/products/:product_name',
  summary: 'Delete a product and everything it owns',
  tag: 'products',
  access: 'operator',
  item: 'Product',
  params: ProductParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    const ofProduct = { product_id: product.id };
    await disownProduct(em, product.id);
    await deleteDeployments(em, ofProduct);
    const plans = await em.find(ProductDeploymentPlanSchema, ofProduct, { fields: ['id'] });
    await deleteStepsOfPlans(em, plans.map((p) => p.id));
    await em.nativeDelete(ProductDeploymentPlanSchema, ofProduct);
    await em.nativeDelete(ProductEnvironmentalVariableSchema, ofProduct);
    await em.nativeDelete(ProductEnvironmentSchema, ofProduct);
    await em.nativeDelete(ProductClusterSchema, ofProduct);
    const components = await em.find(ProductComponentSchema, ofProduct, { fields: ['id'] });
    await deleteComponents(em, components.map((c) => c.id));
    await em.nativeDelete(ProductSchema, { id: product.id });
    return { status: 204 };
  },
});

export const productRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, show, update, remove];

/** Every route of the products area (reference §3.5, and `GET /clusters/:etcd_token/products` of §3.2). */
export const allProductRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [
  ...productRoutes,
  ...environmentRoutes,
  ...variableRoutes,
  ...defaultVariableRoutes,
  ...componentRoutes,
  ...planRoutes,
  ...planStepRoutes,
  ...deploymentRoutes,
  ...productClusterRoutes,
];
