import { randomUUID } from 'node:crypto';
import { hashSecret } from '../../../http/auth.js';
import type { Database } from '../../../http/database.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { ApiClientSchema, type Role } from '../../../entities/auth.js';
import type { LogLine } from '../../helpers/log-capture.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

/** The real Manager (every route) on an ephemeral port, on PostgreSQL and on PGlite, as the client's tests see it. */
export interface LiveManager {
  readonly baseUrl: string;
  readonly db: Database;
  readonly logs: LogLine[];
  /** An `api_clients` row with a fresh secret, as `openaperture bootstrap` makes one. */
  addClient(role: Role): Promise<{ readonly clientId: string; readonly clientSecret: string }>;
  /** A request with an admin token, for seeding what the client only reads. */
  seed(method: string, path: string, body?: unknown): Promise<{ readonly status: number; readonly location: string | null }>;
}

/** The real Manager (every route) through forEachDatabase, with what the client's tests need on top. */
export function forEachManager(title: string, suite: (m: () => LiveManager, kind: 'postgresql' | 'pglite') => void): void {
  forEachDatabase(title, MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h, kind) => {
    suite(() => {
      const { baseUrl, db, logs, tokens } = h();
      return {
        baseUrl,
        db,
        logs,
        async addClient(role) {
          const clientId = `client-${role}-${randomUUID().slice(0, 8)}`;
          const clientSecret = randomUUID();
          const em = db.fork();
          em.create(ApiClientSchema, { client_id: clientId, name: clientId, secret_hash: hashSecret(clientSecret), role, disabled_at: null });
          await em.flush();
          return { clientId, clientSecret };
        },
        async seed(method, path, body) {
          const res = await h().call(method, path, { token: tokens.admin, ...(body === undefined ? {} : { body }) });
          if (res.status >= 300) throw new Error(`seeding ${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
          return { status: res.status, location: res.headers.get('location') };
        },
      };
    }, kind);
  });
}

/** One request as the client sent it. */
export interface SentRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
}

/**
 * A fetch that records every request, with an optional `alter` to change one before it leaves: passed to the client
 * as its `fetch` option, never installed globally.
 */
export function recordingFetch(alter?: (req: SentRequest, index: number) => SentRequest): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const recording: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = new Headers(init?.headers);
    let req: SentRequest = { method: init?.method ?? 'GET', url, authorization: headers.get('authorization') ?? undefined };
    if (alter) req = alter(req, sent.length);
    sent.push(req);
    if (req.authorization !== undefined) headers.set('authorization', req.authorization);
    return fetch(req.url, { ...init, headers });
  };
  return { fetch: recording, sent };
}

/** The requests that asked for a token, and the others. */
export const tokenRequests = (sent: readonly SentRequest[]): SentRequest[] => sent.filter((r) => r.url.endsWith('/oauth/token'));
export const routeRequests = (sent: readonly SentRequest[]): SentRequest[] => sent.filter((r) => !r.url.endsWith('/oauth/token'));
