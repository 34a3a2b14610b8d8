import type { EntityManager } from '@mikro-orm/core';
import { hashSecret, newClientSecret } from './auth.js';
import { ApiClientSchema } from '../entities/auth.js';

/**
 * First start (replaces seed 000's manual SQL, design §2): when no API client exists, an `admin` one is created and
 * its secret returned, to be shown once. Idempotent: later starts return undefined and change nothing.
 */
export async function ensureAdminClient(em: EntityManager): Promise<{ client_id: string; client_secret: string } | undefined> {
  return em.transactional(async (tx) => {
    if ((await tx.count(ApiClientSchema, {})) > 0) return undefined;
    const client_secret = newClientSecret();
    tx.create(ApiClientSchema, { client_id: 'admin', name: 'first administrator (bootstrap)', secret_hash: hashSecret(client_secret), role: 'admin', disabled_at: null });
    await tx.flush();
    return { client_id: 'admin', client_secret };
  });
}
