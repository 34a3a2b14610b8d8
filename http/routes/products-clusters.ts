import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { clusterJson, clusterOr404, TokenParams } from './clusters.js';
import { productJson, productOr404, ProductParams, productPath, type ProductDeps } from './products-common.js';
import { EtcdClusterSchema } from '../../entities/clusters.js';
import { ProductClusterSchema, ProductSchema } from '../../entities/products.js';

/** The clusters a product deploys to (reference §3.5), and the products of a cluster (reference §3.2). */

const ClusterRef = z.strictObject({
  id: z.number().int().positive().max(2_147_483_647),
  primary_ind: z.boolean().nullable().optional(),
});
const ProductClustersBody = z.strictObject({ clusters: z.array(ClusterRef).max(1_000) });
type ProductClustersBody = z.infer<typeof ProductClustersBody>;

const base = { tag: 'products', item: 'ProductCluster' } as const;

/**
 * Deliberate fix (reference §3.5, §10.1): the original passed the clusters through the product-cluster field list, so
 * only `id`, `inserted_at` and `updated_at` survived; we return the whole cluster (as `GET /clusters/:token`) with the
 * link's `primary_ind`.
 */
const list = defineRoute<ProductDeps, ProductParams, PageQuery>({
  ...base,
  method: 'get',
  path: '/products/:product_name/clusters',
  summary: 'List the clusters of a product',
  access: 'viewer',
  params: ProductParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    const product = await productOr404(em, params.product_name);
    const { rows: links, total } = await findPage(em, ProductClusterSchema, { product_id: product.id, etcd_cluster_id: { $ne: null } }, query);
    const ids = links.map((l) => l.etcd_cluster_id).filter((id): id is number => id !== null);
    const clusters = new Map((await em.find(EtcdClusterSchema, { id: { $in: ids } })).map((c) => [c.id, c]));
    const body = links.flatMap((l) => {
      const cluster = l.etcd_cluster_id === null ? undefined : clusters.get(l.etcd_cluster_id);
      return cluster === undefined ? [] : [{ ...clusterJson(cluster), primary_ind: l.primary_ind }];
    });
    return { status: 200, body, total };
  },
});

/** Replaces the product's cluster set (reference §3.5); unknown ids are a 400 naming them, and nothing changes. */
const replace = defineRoute<ProductDeps, ProductParams, Record<string, never>, ProductClustersBody>({
  ...base,
  method: 'post',
  path: '/products/:product_name/clusters',
  summary: "Replace a product's clusters",
  access: 'operator',
  params: ProductParams,
  body: ProductClustersBody,
  async handle({ params, body }, { em }) {
    const product = await productOr404(em, params.product_name);
    const wanted = new Map(body.clusters.map((c) => [c.id, c.primary_ind ?? null]));
    const found = new Set((await em.find(EtcdClusterSchema, { id: { $in: [...wanted.keys()] } }, { fields: ['id'] })).map((c) => c.id));
    const missing = [...wanted.keys()].filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new InvalidRequestError('ProductCluster', [{ field: 'clusters', message: `Cluster(s) [${missing.join(', ')}] could not be found.` }]);
    }
    await em.nativeDelete(ProductClusterSchema, { product_id: product.id });
    for (const [id, primary] of wanted) em.create(ProductClusterSchema, { product_id: product.id, etcd_cluster_id: id, primary_ind: primary });
    await em.flush();
    // The original answered 201 without a Location; ours points at the list it replaced.
    return { status: 201, location: `${productPath(product)}/clusters` };
  },
});

const removeAll = defineRoute<ProductDeps, ProductParams>({
  ...base,
  method: 'delete',
  path: '/products/:product_name/clusters',
  summary: 'Unlink every cluster of a product',
  access: 'operator',
  params: ProductParams,
  async handle({ params }, { em }) {
    const product = await productOr404(em, params.product_name);
    await em.nativeDelete(ProductClusterSchema, { product_id: product.id });
    return { status: 204 };
  },
});

const clusterProducts = defineRoute<ProductDeps, TokenParams, PageQuery>({
  ...base,
  method: 'get',
  path: '/clusters/:etcd_token/products',
  summary: 'List the products deploying to a cluster',
  tag: 'clusters',
  access: 'viewer',
  item: 'EtcdCluster',
  params: TokenParams,
  query: PageQuery,
  async handle({ params, query }, { em }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const { rows: links, total } = await findPage(em, ProductClusterSchema, { etcd_cluster_id: cluster.id }, query);
    const products = new Map((await em.find(ProductSchema, { id: { $in: links.map((l) => l.product_id) } })).map((p) => [p.id, p]));
    const body = links.flatMap((l) => {
      const product = products.get(l.product_id);
      return product === undefined ? [] : [productJson(product)];
    });
    return { status: 200, body, total };
  },
});

export const productClusterRoutes: ReadonlyArray<AnyRoute<ProductDeps>> = [list, replace, removeAll, clusterProducts];
