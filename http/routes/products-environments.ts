import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { ConflictError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import {
  EnvironmentParams,
  environmentOr404,
  flushOrConflict,
  pathPart,
  productOr404,
  ProductParams,
  productPath,
  whereName,
  type ProductDeps,
} from './products-common.js';
import { disownEnvironment } from './router-owner.js';
import {
  ProductDeploymentSchema,
  ProductEnvironmentalVariableSchema,
  ProductEnvironmentSchema,
  type Product,
  type ProductEnvironment,
} from '../../entities/products.js';

/** A product's environments (reference §3.5). */

const EnvironmentBody = z.strictObject({ name: Name(128) });
type EnvironmentBody = z.infer<typeof EnvironmentBody>;

const environmentJson = (e: ProductEnvironment) => ({
  id: e.id,
  product_id: e.product_id,
  name: e.name,
  inserted_at: e.inserted_at,
  updated_at: e.updated_at,
});

export const environmentPath = (p: Product, e: ProductEnvironment): string => `${productPath(p)}/environments/${pathPart(e.name)}`;

/** Names are unique per product, compared case-insensitively as the lookups are. */
async function checkName(em: EntityManager, product: Product, name: string, self?: number): Promise<void> {
  const clash = await em.findOne(ProductEnvironmentSchema, whereName<ProductEnvironment>(name, { product_id: product.id, ...(self === undefined ? {} : { id: { $ne: self } }) }));
  if (clash) throw new ConflictError('ProductEnvironment', `name ${clash.name}`);
}

const list = defineRoute<ProductDeps, ProductParams, PageQuery>({
  method: 'get',
  path: '/products/:product_name/environments',
  summary: 'List the environments of a product',
  tag: 'products',
  access: 'viewer',
  item: 'ProductEnvironment',
  params: ProductParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    const product = await productOr404(em, params.product_name);
    const { rows, total } = await findPage(em, ProductEnvironmentSchema, { product_id: product.id }, query);
    return { status: 200, body: rows.map(environmentJson), total };
  },
});

const create = defineRoute<ProductDeps, ProductParams, Record<string, never>, EnvironmentBody>({
  method: 'post',
  path: '/products/:product_name/environments',
  summary: 'Create an environment',
  tag: 'products',
  access: 'operator',
  item: 'ProductEnvironment',
  params: ProductParams,
  body: EnvironmentBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    await checkName(em, product, body.name);
    const environment = em.create(ProductEnvironmentSchema, { product_id: product.id, name: body.name });
    await flushOrConflict(em, 'ProductEnvironment');
    return { status: 201, location: environmentPath(product, environment) };
  },
});

const show = defineRoute<ProductDeps, EnvironmentParams>({
  method: 'get',
  path: '/products/:product_name/environments/:environment_name',
  summary: 'Show an environment',
  tag: 'products',
  access: 'viewer',
  item: 'ProductEnvironment',
  params: EnvironmentParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    return { status: 200, body: environmentJson(await environmentOr404(em, product, params.environment_name)) };
  },
});

const update = defineRoute<ProductDeps, EnvironmentParams, Record<string, never>, EnvironmentBody>({
  method: 'put',
  path: '/products/:product_name/environments/:environment_name',
  summary: 'Rename an environment',
  tag: 'products',
  access: 'operator',
  item: 'ProductEnvironment',
  params: EnvironmentParams,
  body: EnvironmentBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    const environment = await environmentOr404(em, product, params.environment_name);
    await checkName(em, product, body.name, environment.id);
    environment.name = body.name;
    await flushOrConflict(em, 'ProductEnvironment');
    return { status: 204, location: environmentPath(product, environment) };
  },
});

/**
 * Reference §2.3: the environment's variables go with it. Its deployments stay as history with no environment
 * (`product_environment_id` is nullable); the original failed on the foreign key with a 500.
 */
const remove = defineRoute<ProductDeps, EnvironmentParams>({
  method: 'delete',
  path: '/products/:product_name/environments/:environment_name',
  summary: 'Delete an environment and its variables',
  tag: 'products',
  access: 'operator',
  item: 'ProductEnvironment',
  params: EnvironmentParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    const environment = await environmentOr404(em, product, params.environment_name);
    await em.nativeDelete(ProductEnvironmentalVariableSchema, { product_environment_id: environment.id });
    await em.nativeUpdate(ProductDeploymentSchema, { product_environment_id: environment.id }, { product_environment_id: null, updated_at: new Date() });
    await disownEnvironment(em, environment.id);
    await em.nativeDelete(ProductEnvironmentSchema, { id: environment.id });
    return { status: 204 };
  },
});

export const environmentRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, show, update, remove];
