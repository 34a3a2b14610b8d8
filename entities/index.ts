import { AUTH_ENTITIES } from './auth.js';
import { MESSAGING_ENTITIES } from './messaging.js';

/** Every entity schema the Manager's ORM knows. */
export const ENTITIES = [...AUTH_ENTITIES, ...MESSAGING_ENTITIES];
