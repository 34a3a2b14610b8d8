import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import { findPage } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { PathName, productOr404, ProductParams, whereName, type ProductDeps } from './products-common.js';
import {
  createVariable,
  pageOf,
  scopeWhere,
  updateVariable,
  VariableBody,
  VariableListQuery,
  variableJson,
  variableOr404,
  variablePath,
  VariableUpdate,
  type VariableScope,
} from './products-variables.js';
import { ProductEnvironmentalVariableSchema, type ProductEnvironmentalVariable } from '../../entities/products.js';

/** A product's default variables, `/products/:p/environmental_variables` (reference §3.5). */

const DefaultVariableParams = ProductParams.extend({ variable_name: PathName });
type DefaultVariableParams = z.infer<typeof DefaultVariableParams>;

async function defaultScope(em: EntityManager, productName: string): Promise<VariableScope> {
  return { product: await productOr404(em, productName), environment: null };
}

const base = { tag: 'products', item: 'ProductEnvironmentalVariable' } as const;

/** Without `coalesced`: the defaults; with it, every variable of the product, defaults and overrides (reference §3.5). */
const list = defineRoute<ProductDeps, ProductParams, VariableListQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/environmental_variables',
  summary: 'List the default variables of a product',
  access: 'viewer',
  params: ProductParams,
  query: VariableListQuery,
  async handle({ params, query }, { em, principal, deps }) {
    const scope = await defaultScope(em, params.product_name);
    const where = query.coalesced ? { product_id: scope.product.id } : scopeWhere(scope);
    const { rows, total } = await findPage(em, ProductEnvironmentalVariableSchema, where, query);
    return { status: 200, body: rows.map((v) => variableJson(v, principal, deps.secrets)), total };
  },
});

const create = defineRoute<ProductDeps, ProductParams, Record<string, never>, VariableBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/environmental_variables',
  summary: 'Create a default variable of a product',
  access: 'operator',
  params: ProductParams,
  body: VariableBody,
  async handle({ params, body }, { em, deps }) {
    const scope = await defaultScope(em, params.product_name);
    const row = await createVariable(em, scope, body, deps.secrets);
    return { status: 201, location: variablePath(scope, row.name) };
  },
});

/** Always a list (reference §3.5): the default of that name, or with `coalesced` every variable of that name. */
const show = defineRoute<ProductDeps, DefaultVariableParams, VariableListQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/environmental_variables/:variable_name',
  summary: 'Show a default variable (with coalesced=true, every variable of that name)',
  access: 'viewer',
  params: DefaultVariableParams,
  query: VariableListQuery,
  async handle({ params, query }, { em, principal, deps }) {
    const scope = await defaultScope(em, params.product_name);
    const where = query.coalesced ? { product_id: scope.product.id } : scopeWhere(scope);
    const found = await em.find(ProductEnvironmentalVariableSchema, whereName<ProductEnvironmentalVariable>(params.variable_name, where), { orderBy: { id: 'asc' } });
    if (found.length === 0) throw new NotFoundError('ProductEnvironmentalVariable');
    const { rows, total } = pageOf(found, query);
    return { status: 200, body: rows.map((v) => variableJson(v, principal, deps.secrets)), total };
  },
});

const update = defineRoute<ProductDeps, DefaultVariableParams, Record<string, never>, VariableUpdate>({
  ...base,
  method: 'put',
  path: '/products/:product_name/environmental_variables/:variable_name',
  summary: 'Update a default variable',
  access: 'operator',
  params: DefaultVariableParams,
  body: VariableUpdate,
  async handle({ params, body }, { em, deps }) {
    const scope = await defaultScope(em, params.product_name);
    const row = await variableOr404(em, scope, params.variable_name);
    await updateVariable(em, scope, row, body, deps.secrets);
    return { status: 204, location: variablePath(scope, row.name) };
  },
});

const remove = defineRoute<ProductDeps, DefaultVariableParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/environmental_variables/:variable_name',
  summary: 'Delete a default variable',
  access: 'operator',
  params: DefaultVariableParams,
  async handle({ params }, { em }) {
    const row = await variableOr404(em, await defaultScope(em, params.product_name), params.variable_name);
    await em.nativeDelete(ProductEnvironmentalVariableSchema, { id: row.id });
    return { status: 204 };
  },
});

export const defaultVariableRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, show, update, remove];
