import type { EntityManager, EntityName, FilterQuery, FindOptions } from '@mikro-orm/core';
import { z } from 'zod';

/**
 * Every list takes `limit` (default 100, at most 1000) and `offset` or `page`. The body stays the original's plain
 * array (reference §3), so its clients keep working; the total travels in the `X-Total-Count` header.
 */
export const PageQuery = z.strictObject({
  limit: z.coerce.number<string>().int().min(1).max(1_000).default(100),
  offset: z.coerce.number<string>().int().min(0).optional(),
  page: z.coerce.number<string>().int().min(1).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export function windowOf(q: PageQuery): { limit: number; offset: number } {
  return { limit: q.limit, offset: q.offset ?? (q.page === undefined ? 0 : (q.page - 1) * q.limit) };
}

/** One page of rows and the total, ordered by id unless told otherwise. */
export async function findPage<T extends { id: unknown }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  q: PageQuery,
  orderBy: FindOptions<T>['orderBy'] = { id: 'asc' } as FindOptions<T>['orderBy'],
): Promise<{ rows: T[]; total: number }> {
  const { limit, offset } = windowOf(q);
  const options = { orderBy, limit, offset } as FindOptions<T>;
  const [rows, total] = await em.findAndCount(entity, where, options);
  return { rows: rows as T[], total };
}
