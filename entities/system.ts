/** The system tables (reference §2); filled in by the system routes' change. */
export const SYSTEM_ENTITIES = [];
