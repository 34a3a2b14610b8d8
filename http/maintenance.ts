import type { EntityManager } from '@mikro-orm/core';
import { MessagingRpcRequestSchema } from '../entities/messaging.js';

/** RPC requests older than this are orphans: nobody will read them any more (reference §2.1: purged after 24 h). */
export const RPC_REQUEST_MAX_AGE_MS = 24 * 60 * 60 * 1_000;

/** Deletes the RPC requests last touched before `now - maxAgeMs`; returns how many went. */
export async function purgeRpcRequests(em: EntityManager, now: Date, maxAgeMs = RPC_REQUEST_MAX_AGE_MS): Promise<number> {
  return em.nativeDelete(MessagingRpcRequestSchema, { updated_at: { $lt: new Date(now.getTime() - maxAgeMs) } });
}
