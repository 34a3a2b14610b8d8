import type { z } from 'zod';
import { ManagerResponseError } from './errors.js';
import { apiErrorOf, type Call, type ManagerHttp, type Reply } from './requests.js';

/** What an answer means, route by route: a body to check, a 404 that means "none", a Location to read. */

/** Which slice of a list to fetch (the Manager's `PageQuery`): `limit` 1..1000 (100 by default), `offset` or `page`. */
export interface PageWindow {
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
  /** 1-based, in units of `limit`; `offset` wins when both are given. */
  readonly page?: number | undefined;
}

/** One page of a list and the list's total (the Manager's `X-Total-Count`). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
}

/** The Manager's largest page (http/pagination.ts). */
export const MAX_PAGE_SIZE = 1_000;

const problemsOf = (error: z.ZodError): string[] =>
  error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(body)'}: ${i.message}`);

/** The body, checked against the contract; a mismatch is the Manager's bug, reported as such. */
export function bodyOf<S extends z.ZodType>(reply: Reply, schema: S): z.infer<S> {
  const parsed = schema.safeParse(reply.json);
  if (!parsed.success) throw new ManagerResponseError(reply.route, reply.status, problemsOf(parsed.error));
  return parsed.data;
}

/** The reply if its status is one of `expected`; otherwise the Manager's refusal as a ManagerApiError. */
export function expectStatus(reply: Reply, ...expected: number[]): Reply {
  if (!expected.includes(reply.status)) throw apiErrorOf(reply);
  return reply;
}

/** `GET` of one resource: the resource, or undefined when the Manager says 404. */
export async function fetchOne<S extends z.ZodType>(http: ManagerHttp, call: Call, schema: S): Promise<z.infer<S> | undefined> {
  const reply = await http.send(call);
  if (reply.status === 404) return undefined;
  return bodyOf(expectStatus(reply, 200), schema);
}

/** `GET` of a list: one page of it and the total. */
export async function fetchPage<S extends z.ZodType>(http: ManagerHttp, call: Call, schema: S, window: PageWindow = {}): Promise<Page<z.infer<S>>> {
  const reply = expectStatus(await http.send({ ...call, query: { ...call.query, ...window } }), 200);
  const items = bodyOf(reply, (schema as z.ZodType).array()) as Array<z.infer<S>>;
  const header = reply.headers.get('x-total-count');
  if (header === null || !/^\d+$/.test(header)) {
    throw new ManagerResponseError(reply.route, reply.status, [`X-Total-Count: expected a count, got ${header === null ? 'none' : JSON.stringify(header)}`]);
  }
  return { items, total: Number(header) };
}

/**
 * The identifier at the end of a 201's `Location` (reference §1.3: creates yield "the id taken from the last path
 * segment of the Location header"), URL-decoded.
 */
export function createdId(reply: Reply): string {
  const location = expectStatus(reply, 201).headers.get('location');
  const last = location?.split('?')[0]?.split('/').filter((s) => s !== '').pop();
  if (last === undefined) throw new ManagerResponseError(reply.route, reply.status, ['Location: expected the created resource, got none']);
  return decodeURIComponent(last);
}

/**
 * Every item of a list, page after page, until `X-Total-Count` items have come or a page is empty. Lists are ordered
 * by id, so a row inserted meanwhile lands on a later page; one deleted meanwhile may shift another out of sight,
 * which callers that need a consistent picture check afterwards (metadata-provider.ts does).
 */
export async function readAllPages<T>(fetch: (window: { limit: number; offset: number }) => Promise<Page<T>>, pageSize = MAX_PAGE_SIZE): Promise<T[]> {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) throw new RangeError(`pageSize must be 1..${MAX_PAGE_SIZE}, got ${pageSize}`);
  const all: T[] = [];
  for (;;) {
    const page = await fetch({ limit: pageSize, offset: all.length });
    all.push(...page.items);
    if (page.items.length === 0 || all.length >= page.total) return all;
  }
}
