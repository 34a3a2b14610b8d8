import { z } from 'zod';
import { isManagerApiError } from './errors.js';
import { fetchPage, readAllPages } from './replies.js';
import type { ManagerHttp } from './requests.js';

/** Products (reference §3.5): what workers read of them. */

/** A variable as the coalesced list shows it; `value` is null for a private one unless the caller is an admin. */
export const ProductVariable = z.object({ name: z.string(), value: z.string().nullable(), private: z.boolean().nullable() });
export type ProductVariable = z.infer<typeof ProductVariable>;

export interface ProductsApi {
  /**
   * An environment's variables over the product's defaults (`?coalesced=true`), as a name -> value map; a variable
   * without a value is left out. Undefined when the product or the environment does not exist.
   */
  environmentVariables(product: string, environment: string): Promise<Record<string, string> | undefined>;
}

export function productsApi(http: ManagerHttp): ProductsApi {
  return {
    async environmentVariables(product, environment) {
      const call = {
        method: 'GET',
        path: '/products/:product_name/environments/:environment_name/variables',
        params: { product_name: product, environment_name: environment },
        query: { coalesced: 'true' },
      } as const;
      let rows: ProductVariable[];
      try {
        rows = await readAllPages((window) => fetchPage(http, call, ProductVariable, window));
      } catch (err) {
        if (isManagerApiError(err) && err.status === 404) return undefined;
        throw err;
      }
      return Object.fromEntries(rows.flatMap((v) => (v.value === null ? [] : [[v.name, v.value]])));
    },
  };
}
