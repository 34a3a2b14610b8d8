/**
 * The Router's RPC protocol (issue 15), on queue `router` of its exchange. A Deployer asks `sync` right after it wrote a
 * route to the Manager: the reply comes once the proxy serves the Manager's routes. It asks `drain` after it set a
 * route to `drain`: the reply comes once that backend has no session left, or at the deadline. It asks `counters`
 * while a canary takes its share, to judge it by the proxy's own counts.
 */
import { z } from 'zod';

export const ROUTER_QUEUE = 'router';
export const SYNC_REQUESTED = 'router.sync_requested';
export const DRAIN_REQUESTED = 'router.drain_requested';
export const COUNTERS_REQUESTED = 'router.counters_requested';

/** How long a sync may take: a Manager read and, at worst, a reload. A drain's caller waits `timeout_ms` more. */
export const SYNC_TIMEOUT_MS = 30_000;
/** The longest drain a caller may ask for (reference: drain_seconds, default 30). */
export const MAX_DRAIN_TIMEOUT_MS = 10 * 60_000;

/** Serve the Manager's routes now; no fields. */
export const SyncRequested = z.strictObject({});
export type SyncRequested = z.infer<typeof SyncRequested>;

/** What the proxy serves after the sync, and what of the Manager's routes it leaves out (one line each). */
export const SyncReply = z.strictObject({
  authorities: z.number().int().nonnegative(),
  routes: z.number().int().nonnegative(),
  problems: z.array(z.string()),
});
export type SyncReply = z.infer<typeof SyncReply>;

const Port = z.number().int().min(1).max(65_535);

/** Sync, then wait until the backend `backend_host:backend_port` of authority `hostname:port` has no session left. */
export const DrainRequested = z.strictObject({
  hostname: z.string().min(1),
  port: Port,
  backend_host: z.string().min(1),
  backend_port: Port,
  timeout_ms: z.number().int().nonnegative().max(MAX_DRAIN_TIMEOUT_MS),
});
export type DrainRequested = z.infer<typeof DrainRequested>;

/** `drained`: no session was left before the deadline; `sessions`: how many were left when the wait ended. */
export const DrainReply = z.strictObject({
  drained: z.boolean(),
  waited_ms: z.number().int().nonnegative(),
  sessions: z.number().int().nonnegative(),
});
export type DrainReply = z.infer<typeof DrainReply>;

/** The counters of every backend the router serves for authority `hostname:port` (a canary's judge reads them). */
export const CountersRequested = z.strictObject({
  hostname: z.string().min(1),
  port: Port,
});
export type CountersRequested = z.infer<typeof CountersRequested>;

const NonNegative = z.number().int().nonnegative();

/**
 * Counted by HAProxy worker `worker_pid` since it started (a reload starts them again under a new pid). `status` is
 * HAProxy's (UP, DOWN, DRAIN, MAINT, `UP 1/2`...); `connection_errors` counts failed connection attempts whatever
 * became of the request (failed, tried again, moved to another server); `response_errors` aborted or invalid answers.
 */
export const CountersReply = z.strictObject({
  worker_pid: NonNegative,
  servers: z.array(
    z.strictObject({
      host: z.string(),
      port: Port,
      status: z.string(),
      weight: NonNegative,
      requests: NonNegative,
      responses_5xx: NonNegative,
      connection_errors: NonNegative,
      response_errors: NonNegative,
    }),
  ),
});
export type CountersReply = z.infer<typeof CountersReply>;

// The Router's input: the Manager's `GET /router/routes` as the typed client reads it (http/client/router-api.ts).

/** A backend of an authority as the Manager holds it (`routes` table). */
export interface FeedRoute {
  readonly hostname: string;
  readonly port: number;
  readonly secure_connection: boolean;
  readonly weight: number;
  readonly state: 'ready' | 'drain' | 'maint';
}

/** A `hostname:port` clients use and its backends. */
export interface FeedAuthority {
  readonly hostname: string;
  readonly port: number;
  readonly routes: readonly FeedRoute[];
}

/** Every authority with its routes; `timestamp` is the Manager's clock (unix seconds) when it read them. */
export interface RouteFeed {
  readonly authorities: readonly FeedAuthority[];
  readonly timestamp: number;
}

/**
 * An authority's TLS as the Manager's `GET /router/tls` gives it to the router alone: its certificate chain and key
 * (PEM; `private_key` null with the Manager's `problem` when it could not open it), and the plain port that redirects
 * to it. Authorities with neither are not listed.
 */
export interface FeedTls {
  readonly hostname: string;
  readonly port: number;
  readonly redirect_http_port: number | null;
  readonly certificate: string | null;
  readonly private_key: string | null;
  readonly problem: string | null;
}
