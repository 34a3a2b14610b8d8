/** What the Router needs from the outside: the Manager's authorities and routes (reference §3.12), as one feed. */
import type { FeedTls, RouteFeed } from './messages.js';

/** Reads the whole feed; rejects when the Manager cannot be reached or refuses. */
export interface RouteSource {
  routes(): Promise<RouteFeed>;
  /** The authorities' certificates, keys and redirects (an admin's read: it holds private keys). */
  tls(): Promise<readonly FeedTls[]>;
}
