import type { EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import type { Principal } from '../auth.js';
import { coalesceVariables, decideValueChange } from '../core/variables.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { findPage, PageQuery, windowOf } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Name } from '../schemas/common.js';
import { keyNameOf, type SecretBox } from '../secrets.js';
import { environmentPath } from './products-environments.js';
import { Coalesced, EnvironmentParams, environmentOr404, flushOrConflict, PathName, pathPart, productOr404, productPath, whereName, type ProductDeps } from './products-common.js';
import { ProductEnvironmentalVariableSchema, type Product, type ProductEnvironment, type ProductEnvironmentalVariable } from '../../entities/products.js';

/**
 * Environment variables (reference §3.5): an environment's own (`…/environments/:e/variables`) and the product-wide
 * defaults (`…/environmental_variables`, in products-default-variables.ts), which share the helpers below.
 */

export const VariableBody = z.strictObject({
  // The unique indexes hold the name: a btree entry holds at most 2704 bytes, which 1024 characters can exceed.
  name: Name(1024).refine((n) => Buffer.byteLength(n, 'utf8') <= 2_000, 'must be at most 2000 bytes in UTF-8'),
  value: z.string().max(65_536).nullable().optional(),
  private: z.boolean().nullable().optional(),
});
export type VariableBody = z.infer<typeof VariableBody>;
export const VariableUpdate = VariableBody.partial();
export type VariableUpdate = z.infer<typeof VariableUpdate>;

export const VariableListQuery = PageQuery.extend({ coalesced: Coalesced });
export type VariableListQuery = z.infer<typeof VariableListQuery>;

/** Where a variable lives: a product's defaults (no environment) or one environment. */
export interface VariableScope {
  readonly product: Product;
  readonly environment: ProductEnvironment | null;
}

export const scopeWhere = (s: VariableScope) => ({ product_id: s.product.id, product_environment_id: s.environment?.id ?? null });

export function variablePath(s: VariableScope, name: string): string {
  return s.environment === null
    ? `${productPath(s.product)}/environmental_variables/${pathPart(name)}`
    : `${environmentPath(s.product, s.environment)}/variables/${pathPart(name)}`;
}

/**
 * Deliberate fix (reference §10.1 item 7, design §2): a private value is stored sealed and shown to admins only;
 * others see `value: null`. The original stored and served every value in clear.
 */
export function variableJson(v: ProductEnvironmentalVariable, principal: Principal, secrets: SecretBox) {
  return {
    id: v.id,
    product_id: v.product_id,
    product_environment_id: v.product_environment_id,
    name: v.name,
    value: shownValue(v, principal, secrets),
    private: v.private,
    inserted_at: v.inserted_at,
    updated_at: v.updated_at,
  };
}

function shownValue(v: ProductEnvironmentalVariable, principal: Principal, secrets: SecretBox): string | null {
  if (v.private !== true) return v.value;
  if (principal.role !== 'admin' || v.value === null) return null;
  // A row written in clear before it was marked private (by SQL, say) is still shown to admins.
  return secrets.isSealed(v.value) ? secrets.open(v.value) : v.value;
}

export async function variableOr404(em: EntityManager, scope: VariableScope, name: string): Promise<ProductEnvironmentalVariable> {
  const variable = await em.findOne(ProductEnvironmentalVariableSchema, whereName<ProductEnvironmentalVariable>(name, scopeWhere(scope)));
  if (!variable) throw new NotFoundError('ProductEnvironmentalVariable');
  return variable;
}

/**
 * A name is taken case-insensitively within its scope (reference §2.3). Deliberate fix (reference §3.5): the
 * default-scope conflict said "was not found"; both scopes now say "already exists".
 */
async function checkName(em: EntityManager, scope: VariableScope, name: string, self?: number): Promise<void> {
  const clash = await em.findOne(ProductEnvironmentalVariableSchema, whereName<ProductEnvironmentalVariable>(name, { ...scopeWhere(scope), ...(self === undefined ? {} : { id: { $ne: self } }) }));
  if (clash) throw new ConflictError('ProductEnvironmentalVariable', `name ${clash.name}`);
}

/**
 * Writes the value as decided by core/variables.ts. The audit row is written after the handler from the parsed body
 * (http/app.ts) and redacts by key name only, so a private value is blanked in that body here, before it can be copied.
 */
function writeValue(row: ProductEnvironmentalVariable, body: VariableUpdate, secrets: SecretBox, isNew: boolean): void {
  const wantPrivate = body.private === undefined ? undefined : body.private === true;
  const change = decideValueChange(isNew ? undefined : { private: row.private === true }, { value: body.value, private: wantPrivate });
  if (change.kind !== 'keep') {
    const plaintext = change.kind === 'write' ? change.plaintext : row.value !== null && secrets.isSealed(row.value) ? secrets.open(row.value) : row.value;
    row.value = change.seal && plaintext !== null ? secrets.seal(plaintext) : plaintext;
    row.value_keyname = keyNameOf(row.value) ?? null;
  }
  if (wantPrivate !== undefined) row.private = wantPrivate;
  if (row.private === true && typeof body.value === 'string') body.value = '[secret]';
}

export async function createVariable(em: EntityManager, scope: VariableScope, body: VariableBody, secrets: SecretBox): Promise<ProductEnvironmentalVariable> {
  await checkName(em, scope, body.name);
  const row = em.create(ProductEnvironmentalVariableSchema, { ...scopeWhere(scope), name: body.name, value: null, private: false, value_keyname: null });
  writeValue(row, body, secrets, true);
  await flushOrConflict(em, 'ProductEnvironmentalVariable');
  return row;
}

export async function updateVariable(em: EntityManager, scope: VariableScope, row: ProductEnvironmentalVariable, body: VariableUpdate, secrets: SecretBox): Promise<void> {
  if (body.name !== undefined) {
    await checkName(em, scope, body.name, row.id);
    row.name = body.name;
  }
  writeValue(row, body, secrets, false);
  await flushOrConflict(em, 'ProductEnvironmentalVariable');
}

/** One page of rows held in memory (coalesced lists are computed, not queried). */
export function pageOf<T>(rows: readonly T[], query: PageQuery): { rows: T[]; total: number } {
  const { limit, offset } = windowOf(query);
  return { rows: rows.slice(offset, offset + limit), total: rows.length };
}

const VariableParams = EnvironmentParams.extend({ variable_name: PathName });
type VariableParams = z.infer<typeof VariableParams>;

async function environmentScope(em: EntityManager, params: EnvironmentParams): Promise<VariableScope> {
  const product = await productOr404(em, params.product_name);
  return { product, environment: await environmentOr404(em, product, params.environment_name) };
}

const base = { tag: 'products', item: 'ProductEnvironmentalVariable' } as const;

/** Without `coalesced`: the environment's own variables; with it, its view of them over the product's defaults. */
const list = defineRoute<ProductDeps, EnvironmentParams, VariableListQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/environments/:environment_name/variables',
  summary: 'List the variables of an environment',
  access: 'viewer',
  params: EnvironmentParams,
  query: VariableListQuery,
  async handle({ params, query }, { em, principal, deps }) {
    const scope = await environmentScope(em, params);
    const environmentId = scope.environment!.id;
    const { rows, total } = query.coalesced
      ? pageOf(coalesceVariables(await em.find(ProductEnvironmentalVariableSchema, { product_id: scope.product.id, $or: [{ product_environment_id: environmentId }, { product_environment_id: null }] }), environmentId), query)
      : await findPage(em, ProductEnvironmentalVariableSchema, scopeWhere(scope), query);
    return { status: 200, body: rows.map((v) => variableJson(v, principal, deps.secrets)), total };
  },
});

const create = defineRoute<ProductDeps, EnvironmentParams, Record<string, never>, VariableBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/environments/:environment_name/variables',
  summary: 'Create a variable of an environment',
  access: 'operator',
  params: EnvironmentParams,
  body: VariableBody,
  async handle({ params, body }, { em, deps }) {
    const scope = await environmentScope(em, params);
    const row = await createVariable(em, scope, body, deps.secrets);
    return { status: 201, location: variablePath(scope, row.name) };
  },
});

const show = defineRoute<ProductDeps, VariableParams>({
  ...base,
  method: 'get',
  path: '/products/:product_name/environments/:environment_name/variables/:variable_name',
  summary: 'Show a variable of an environment',
  access: 'viewer',
  params: VariableParams,
  async handle({ params }, { em, principal, deps }) {
    const row = await variableOr404(em, await environmentScope(em, params), params.variable_name);
    return { status: 200, body: variableJson(row, principal, deps.secrets) };
  },
});

const update = defineRoute<ProductDeps, VariableParams, Record<string, never>, VariableUpdate>({
  ...base,
  method: 'put',
  path: '/products/:product_name/environments/:environment_name/variables/:variable_name',
  summary: 'Update a variable of an environment',
  access: 'operator',
  params: VariableParams,
  body: VariableUpdate,
  async handle({ params, body }, { em, deps }) {
    const scope = await environmentScope(em, params);
    const row = await variableOr404(em, scope, params.variable_name);
    await updateVariable(em, scope, row, body, deps.secrets);
    return { status: 204, location: variablePath(scope, row.name) };
  },
});

const remove = defineRoute<ProductDeps, VariableParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/environments/:environment_name/variables/:variable_name',
  summary: 'Delete a variable of an environment',
  access: 'operator',
  params: VariableParams,
  async handle({ params }, { em }) {
    const row = await variableOr404(em, await environmentScope(em, params), params.variable_name);
    await em.nativeDelete(ProductEnvironmentalVariableSchema, { id: row.id });
    return { status: 204 };
  },
});

export const variableRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, create, show, update, remove];
