import type { EntityManager } from '@mikro-orm/core';
import { whereName } from './products-common.js';
import { InvalidRequestError } from '../errors.js';
import { Name } from '../schemas/common.js';
import { AuthoritySchema, type Authority } from '../../entities/router.js';
import { ProductEnvironmentSchema, ProductSchema, type Product, type ProductEnvironment } from '../../entities/products.js';

/**
 * Whose address an authority is (issue 15): a product and one of its environments, by name on the wire (as the
 * Deployer and the CLI know them), by id in the table (as every product table references products).
 */

export const OwnerFields = { product: Name().nullable().optional(), environment: Name(128).nullable().optional() };
export type OwnerBody = { readonly product?: string | null | undefined; readonly environment?: string | null | undefined };
export type OwnerColumns = Pick<Authority, 'product_id' | 'product_environment_id'>;
export interface OwnerNames {
  readonly product: string | null;
  readonly environment: string | null;
}

const invalid = (field: string, message: string) => new InvalidRequestError('Authority', [{ field, message: `${field}: ${message}` }]);

/** The product named `name` (without case), or a 400 naming `field`. */
async function productNamed(em: EntityManager, name: string, field = 'product'): Promise<Product> {
  const product = await em.findOne(ProductSchema, whereName<Product>(name));
  if (!product) throw invalid(field, `no product ${JSON.stringify(name)}`);
  return product;
}

/**
 * The columns a body's `product` and `environment` set over `current`: a product given resets the environment to the
 * one given with it (or none); an environment alone is one of the current product's.
 */
export async function ownerColumns(em: EntityManager, body: OwnerBody, current: OwnerColumns = { product_id: null, product_environment_id: null }): Promise<OwnerColumns> {
  const productId = body.product === undefined ? current.product_id : body.product === null ? null : (await productNamed(em, body.product)).id;
  if (body.environment === undefined) return { product_id: productId, product_environment_id: body.product === undefined ? current.product_environment_id : null };
  if (body.environment === null) return { product_id: productId, product_environment_id: null };
  if (productId === null) throw invalid('environment', 'an environment needs a product');
  const environment = await em.findOne(ProductEnvironmentSchema, whereName<ProductEnvironment>(body.environment, { product_id: productId }));
  if (!environment) throw invalid('environment', `the product has no environment ${JSON.stringify(body.environment)}`);
  return { product_id: productId, product_environment_id: environment.id };
}

/** The product and environment names of each authority, by authority id. */
export async function ownerNamesOf(em: EntityManager, authorities: readonly Authority[]): Promise<Map<number, OwnerNames>> {
  const ids = (column: keyof OwnerColumns) => [...new Set(authorities.map((a) => a[column]).filter((id): id is number => id !== null))];
  const [productIds, environmentIds] = [ids('product_id'), ids('product_environment_id')];
  const products = productIds.length === 0 ? [] : await em.find(ProductSchema, { id: { $in: productIds } }, { fields: ['id', 'name'] });
  const environments = environmentIds.length === 0 ? [] : await em.find(ProductEnvironmentSchema, { id: { $in: environmentIds } }, { fields: ['id', 'name'] });
  const nameOf = (rows: ReadonlyArray<{ id: number; name: string }>, id: number | null) => rows.find((r) => r.id === id)?.name ?? null;
  return new Map(authorities.map((a) => [a.id, { product: nameOf(products, a.product_id), environment: nameOf(environments, a.product_environment_id) }]));
}

/** `?product=NAME`: the authorities of that product; a product that does not exist is a 400 naming `query.product`. */
export const OwnerQuery = { product: Name().optional() };
export const ownerWhere = async (em: EntityManager, product: string | undefined): Promise<Partial<OwnerColumns>> =>
  product === undefined ? {} : { product_id: (await productNamed(em, product, 'query.product')).id };

/** Before a product is deleted: its authorities serve on, owned by no product. */
export const disownProduct = (em: EntityManager, productId: number): Promise<number> =>
  em.nativeUpdate(AuthoritySchema, { product_id: productId }, { product_id: null, product_environment_id: null });

/** Before an environment is deleted: its authorities stay the product's, in no environment. */
export const disownEnvironment = (em: EntityManager, environmentId: number): Promise<number> =>
  em.nativeUpdate(AuthoritySchema, { product_environment_id: environmentId }, { product_environment_id: null });
