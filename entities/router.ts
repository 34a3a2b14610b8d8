/** The router tables (reference §2); filled in by the router routes' change. */
export const ROUTER_ENTITIES = [];
