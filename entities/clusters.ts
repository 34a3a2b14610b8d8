/** The clusters tables (reference §2); filled in by the clusters routes' change. */
export const CLUSTERS_ENTITIES = [];
