/** The workflows tables (reference §2); filled in by the workflows routes' change. */
export const WORKFLOWS_ENTITIES = [];
