import { raw, UniqueConstraintViolationException, type EntityManager, type FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { SecretBox } from '../secrets.js';
import { inUse } from './clusters.js';
import { EtcdClusterPortSchema } from '../../entities/clusters.js';
import {
  ProductComponentOptionSchema,
  ProductComponentSchema,
  ProductDeploymentPlanStepOptionSchema,
  ProductDeploymentPlanStepSchema,
  ProductDeploymentSchema,
  ProductDeploymentStepSchema,
  ProductEnvironmentSchema,
  ProductSchema,
  type Product,
  type ProductEnvironment,
} from '../../entities/products.js';

/** What the products routes share: lookups by name, paths, JSON columns and the cascades of reference §2.3. */

/** Private variables are sealed and opened with the Manager's key pair (design §2). */
export interface ProductDeps extends BaseDeps {
  readonly secrets: SecretBox;
}

/** A name in a path, URL-decoded by the router and matched case-insensitively (reference §3.1). */
export const PathName = z.string().min(1).max(1024);
export const ProductParams = z.strictObject({ product_name: PathName });
export type ProductParams = z.infer<typeof ProductParams>;
export const EnvironmentParams = ProductParams.extend({ environment_name: PathName });
export type EnvironmentParams = z.infer<typeof EnvironmentParams>;

/** `?coalesced=true`, any case; anything else is false, as the original read it (reference §3.5). */
export const Coalesced = z
  .string()
  .max(16)
  .optional()
  .transform((v) => v?.toLowerCase() === 'true');

export const productJson = (p: Product) => ({ id: p.id, name: p.name, inserted_at: p.inserted_at, updated_at: p.updated_at });

export const pathPart = (name: string): string => encodeURIComponent(name);
export const productPath = (p: Product): string => `/products/${pathPart(p.name)}`;

/** `where` and "`name` equals `value` ignoring case" (reference §3.1); lower() on both sides, no LIKE wildcards. */
export function whereName<T extends object>(value: string, where: Partial<Record<keyof T, unknown>> = {}): FilterQuery<T> {
  return { ...where, [raw((alias) => `lower(${alias}.name)`)]: raw('lower(?)', [value]) } as FilterQuery<T>;
}

export async function productOr404(em: EntityManager, name: string): Promise<Product> {
  const product = await em.findOne(ProductSchema, whereName<Product>(name));
  if (!product) throw new NotFoundError('Product');
  return product;
}

export async function environmentOr404(em: EntityManager, product: Product, name: string): Promise<ProductEnvironment> {
  const environment = await em.findOne(ProductEnvironmentSchema, whereName<ProductEnvironment>(name, { product_id: product.id }));
  if (!environment) throw new NotFoundError('ProductEnvironment');
  return environment;
}

/** Flushes; a unique index refusing the write (two requests racing for a name) is a 409, not a 500. */
export async function flushOrConflict(em: EntityManager, item: string): Promise<void> {
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new ConflictError(item);
    throw err;
  }
}

/** A 409 for a row other rows still need: deleting it would orphan them. */
export const stillUsed = (item: string, message: string): ConflictError => inUse(item, message);

/** A JSON text column as the original's controllers returned it: decoded, or the raw text if it is not JSON. */
export function decodeJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Rows written by other tools may hold plain text; show it rather than fail the whole list.
    return text;
  }
}

/** Components with their options and the cluster ports they hold (reference §2.3). */
export async function deleteComponents(em: EntityManager, componentIds: readonly number[]): Promise<void> {
  if (componentIds.length === 0) return;
  const ids = [...componentIds];
  await em.nativeDelete(EtcdClusterPortSchema, { product_component_id: { $in: ids } });
  await em.nativeDelete(ProductComponentOptionSchema, { product_component_id: { $in: ids } });
  await em.nativeDelete(ProductComponentSchema, { id: { $in: ids } });
}

/** Plan steps with their options; one statement per table, so links between the steps never dangle mid-way. */
export async function deletePlanSteps(em: EntityManager, stepIds: readonly number[]): Promise<void> {
  if (stepIds.length === 0) return;
  const ids = [...stepIds];
  await em.nativeDelete(ProductDeploymentPlanStepOptionSchema, { product_deployment_plan_step_id: { $in: ids } });
  await em.nativeDelete(ProductDeploymentPlanStepSchema, { id: { $in: ids } });
}

export async function deleteStepsOfPlans(em: EntityManager, planIds: readonly number[]): Promise<void> {
  if (planIds.length === 0) return;
  const steps = await em.find(ProductDeploymentPlanStepSchema, { product_deployment_plan_id: { $in: [...planIds] } }, { fields: ['id'] });
  await deletePlanSteps(em, steps.map((s) => s.id));
}

/** Deployments with their steps. */
export async function deleteDeployments(em: EntityManager, where: { product_id: number } | { id: number }): Promise<void> {
  const deployments = await em.find(ProductDeploymentSchema, where, { fields: ['id'] });
  if (deployments.length === 0) return;
  const ids = deployments.map((d) => d.id);
  await em.nativeDelete(ProductDeploymentStepSchema, { product_deployment_id: { $in: ids } });
  await em.nativeDelete(ProductDeploymentSchema, { id: { $in: ids } });
}
