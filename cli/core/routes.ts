import type { FeedRoute, RouteFeed } from '../../actors/router/messages.js';

/** One line of `openaperture routes`: a backend of an authority, or an authority nothing serves. */
export interface RouteRow {
  readonly authority: string;
  readonly backend: string | null;
  readonly weight: number | null;
  readonly state: string | null;
  /** The part of the authority's new requests the backend gets, 0..1: its weight over the ready backends' sum. */
  readonly share: number | null;
}

/** A backend's share of new requests: only `ready` backends take any, in proportion to their weights. */
export function shareOf(route: FeedRoute, routes: readonly FeedRoute[]): number {
  const total = routes.filter((r) => r.state === 'ready').reduce((sum, r) => sum + r.weight, 0);
  return route.state !== 'ready' || total === 0 ? 0 : route.weight / total;
}

export function routeRows(feed: Pick<RouteFeed, 'authorities'>): RouteRow[] {
  return feed.authorities.flatMap((a): RouteRow[] => {
    const authority = `${a.hostname}:${a.port}`;
    if (a.routes.length === 0) return [{ authority, backend: null, weight: null, state: null, share: null }];
    return a.routes.map((r) => ({ authority, backend: `${r.hostname}:${r.port}`, weight: r.weight, state: r.state, share: shareOf(r, a.routes) }));
  });
}
