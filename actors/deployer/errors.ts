/** What can go wrong in the Deployer's own logic (style R8); Docker, the Manager client and the router name theirs. */

const productText = (product: string | null): string => (product === null ? 'no product' : `product ${product}`);

/** A unit's route names an authority that belongs to another product (or to none, or the deploy has none). */
export class AuthorityOwnedError extends Error {
  override readonly name = 'AuthorityOwnedError';
  readonly retryable = false;
  constructor(o: { readonly authority: string; readonly id: number; readonly owner: string | null; readonly product: string | null }) {
    super(
      `authority ${o.authority} belongs to ${productText(o.owner)}, and this deploy is of ${productText(o.product)}: two products do not share an address; ` +
        `give the unit's route another hostname or port in units.json, or change the authority's product (PUT /router/authorities/${o.id})`,
    );
  }
}
