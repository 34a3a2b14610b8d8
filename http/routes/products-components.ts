import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import { deleteComponents, flushOrConflict, whereName, PathName, pathPart, productOr404, ProductParams, productPath, type ProductDeps } from './products-common.js';
import {
  COMPONENT_TYPES,
  ProductComponentOptionSchema,
  ProductComponentSchema,
  type Product,
  type ProductComponent,
  type ProductComponentOption,
} from '../../entities/products.js';

/** A product's components and their options (reference §3.5). */

const OptionBody = z.strictObject({
  name: Name(1024),
  value: z.string().max(65_536).nullable().optional(),
  type: z.string().max(1024).nullable().optional(),
});

const ComponentBody = z.strictObject({
  name: Name(1024),
  type: z.enum(COMPONENT_TYPES),
  options: z.array(OptionBody).max(1_000).default([]),
});
type ComponentBody = z.infer<typeof ComponentBody>;

const ComponentParams = ProductParams.extend({ component_name: PathName });
type ComponentParams = z.infer<typeof ComponentParams>;

const optionJson = (o: ProductComponentOption) => ({
  id: o.id,
  product_component_id: o.product_component_id,
  name: o.name,
  value: o.value,
  type: o.type,
  inserted_at: o.inserted_at,
  updated_at: o.updated_at,
});

const componentJson = (c: ProductComponent, options: readonly ProductComponentOption[]) => ({
  id: c.id,
  product_id: c.product_id,
  type: c.type,
  name: c.name,
  inserted_at: c.inserted_at,
  updated_at: c.updated_at,
  options: options.filter((o) => o.product_component_id === c.id).map(optionJson),
});

const componentPath = (p: Product, c: ProductComponent): string => `${productPath(p)}/components/${pathPart(c.name)}`;

async function optionsOf(em: EntityManager, components: readonly ProductComponent[]): Promise<ProductComponentOption[]> {
  if (components.length === 0) return [];
  return em.find(ProductComponentOptionSchema, { product_component_id: { $in: components.map((c) => c.id) } }, { orderBy: { id: 'asc' } });
}

async function componentOr404(em: EntityManager, product: Product, name: string): Promise<ProductComponent> {
  const component = await em.findOne(ProductComponentSchema, whereName<ProductComponent>(name, { product_id: product.id }));
  if (!component) throw new NotFoundError('ProductComponent');
  return component;
}

async function checkName(em: EntityManager, product: Product, name: string, self?: number): Promise<void> {
  const clash = await em.findOne(ProductComponentSchema, whereName<ProductComponent>(name, { product_id: product.id, ...(self === undefined ? {} : { id: { $ne: self } }) }));
  if (clash) throw new ConflictError('ProductComponent', `name ${clash.name}`);
}

function addOptions(em: EntityManager, component: ProductComponent, options: ComponentBody['options']): void {
  for (const o of options) em.create(ProductComponentOptionSchema, { product_component_id: component.id, name: o.name, value: o.value ?? null, type: o.type ?? null });
}

const base = { tag: 'products', item: 'ProductComponent' } as const;

const list = defineRoute<ProductDeps, ProductParams, PageQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/components',
  summary: 'List the components of a product with their options',
  access: 'viewer',
  params: ProductParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    const product = await productOr404(em, params.product_name);
    const { rows, total } = await findPage(em, ProductComponentSchema, { product_id: product.id }, query);
    const options = await optionsOf(em, rows);
    return { status: 200, body: rows.map((c) => componentJson(c, options)), total };
  },
});

const create = defineRoute<ProductDeps, ProductParams, Record<string, never>, ComponentBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/components',
  summary: 'Create a component with its options',
  access: 'operator',
  params: ProductParams,
  body: ComponentBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    await checkName(em, product, body.name);
    const component = em.create(ProductComponentSchema, { product_id: product.id, name: body.name, type: body.type });
    await flushOrConflict(em, 'ProductComponent');
    addOptions(em, component, body.options);
    await em.flush();
    return { status: 201, location: componentPath(product, component) };
  },
});

const removeAll = defineRoute<ProductDeps, ProductParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/components',
  summary: 'Delete every component of a product',
  access: 'operator',
  params: ProductParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    const components = await em.find(ProductComponentSchema, { product_id: product.id }, { fields: ['id'] });
    await deleteComponents(em, components.map((c) => c.id));
    return { status: 204 };
  },
});

const show = defineRoute<ProductDeps, ComponentParams>({
  ...base,
  method: 'get',
  path: '/products/:product_name/components/:component_name',
  summary: 'Show a component with its options',
  access: 'viewer',
  params: ComponentParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    const component = await componentOr404(em, product, params.component_name);
    return { status: 200, body: componentJson(component, await optionsOf(em, [component])) };
  },
});

/**
 * "Replace" (reference §3.5): name, type and options become the body's. Deliberate differences: the original deleted
 * the component (and its cluster ports) and created a new one; we keep the row, so its id and the host ports it holds
 * in clusters stay (design §2: ports are allocated per component). And the original never checked the new name: two
 * components of one name made every lookup ambiguous; that is now a 409.
 */
const update = defineRoute<ProductDeps, ComponentParams, Record<string, never>, ComponentBody>({
  ...base,
  method: 'put',
  path: '/products/:product_name/components/:component_name',
  summary: 'Replace a component and its options',
  access: 'operator',
  params: ComponentParams,
  body: ComponentBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    const component = await componentOr404(em, product, params.component_name);
    await checkName(em, product, body.name, component.id);
    component.name = body.name;
    component.type = body.type;
    await em.nativeDelete(ProductComponentOptionSchema, { product_component_id: component.id });
    addOptions(em, component, body.options);
    await flushOrConflict(em, 'ProductComponent');
    return { status: 204, location: componentPath(product, component) };
  },
});

const remove = defineRoute<ProductDeps, ComponentParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/components/:component_name',
  summary: 'Delete a component, its options and its cluster ports',
  access: 'operator',
  params: ComponentParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    const component = await componentOr404(em, product, params.component_name);
    await deleteComponents(em, [component.id]);
    return { status: 204 };
  },
});

export const componentRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, removeAll, show, update, remove];
