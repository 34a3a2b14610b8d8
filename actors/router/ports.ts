/** What the Router needs from the outside: the Manager's authorities and routes (reference §3.12), as one feed. */

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

/** Reads the whole feed; rejects when the Manager cannot be reached or refuses. */
export interface RouteSource {
  routes(): Promise<RouteFeed>;
}
