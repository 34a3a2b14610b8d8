import { authoritySpec } from './inputs.js';
import type { WorkflowView } from './progress.js';
import { addressesReported } from '../../actors/deployer/messages.js';
import type { FeedRoute, RouteFeed } from '../../actors/router/messages.js';

/** What `openaperture routes [product | hostname:port]` lists: a `host:port` is an authority, anything else a product. */
export type RoutesTarget =
  | { readonly kind: 'all' }
  | { readonly kind: 'authority'; readonly hostname: string; readonly port: number }
  | { readonly kind: 'product'; readonly product: string };

export function routesTargetOf(text: string | undefined): RoutesTarget {
  if (text === undefined) return { kind: 'all' };
  if (text.includes(':')) return { kind: 'authority', ...authoritySpec(text, '<product | hostname:port>') };
  return { kind: 'product', product: text.trim() };
}

/**
 * What `workflow run` says last about a deploy that succeeded (issue 15): the app's URLs the deploy milestone
 * reported, or that the app has no route; nothing when the workflow did not deploy.
 */
export function addressLines(w: Pick<WorkflowView, 'milestones' | 'event_log'>): string[] {
  if (!(w.milestones ?? []).includes('deploy')) return [];
  const urls = addressesReported(w.event_log ?? []);
  if (urls.length === 0) return ['the app has no route: no unit of the deployment repo declares one (units.json "route": hostname and port), so it has no address on the router'];
  return urls.map((url) => `the app answers at ${url}`);
}

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
