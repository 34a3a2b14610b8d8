/** The products tables (reference §2); filled in by the products routes' change. */
export const PRODUCTS_ENTITIES = [];
