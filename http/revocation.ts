import type { Standing } from './auth.js';
import type { Database } from './database.js';
import { ROLES } from '../entities/auth.js';

/**
 * A token subject's standing as the database has it (one statement on the pool, outside any request's work): an
 * enabled API client's role and its revoked, unexpired token ids; a user's role (users have no platform tokens of
 * their own, but a test or a future issuer may sign one).
 */
export function standingIn(db: Database): Standing {
  return async (principal) => {
    const sql =
      principal.kind === 'client'
        ? `select c.role, array(select r.jti from revoked_tokens r where r.subject = c.client_id and r.expires_at > $2) as revoked
             from api_clients c where c.client_id = $1 and c.disabled_at is null`
        : `select u.role, array(select r.jti from revoked_tokens r where r.subject = u.email and r.expires_at > $2) as revoked
             from users u where u.email = $1`;
    const [row] = await db.read(sql, [principal.subject, new Date()]);
    const role = ROLES.find((r) => r === row?.role);
    if (row === undefined || role === undefined) return undefined;
    return { role, revoked: new Set(row.revoked as string[]) };
  };
}
