/**
 * The Manager's route feed as a routing model the proxy can serve (issue 15 item 1). What the model cannot hold is
 * left out and named in `problems`, one line each: a bad route never takes its authority down, nor a bad authority
 * the others. The output is sorted, so an unchanged feed gives an equal model (and the proxy is left alone).
 */
import {
  addressOf,
  authorityKey,
  parseRoute,
  parseRoutingModel,
  RoutingModelError,
  type Authority,
  type Route,
  type RoutingModel,
} from '../../../runtime/haproxy/core/model.js';
import type { FeedAuthority, FeedRoute, FeedTls, RouteFeed } from '../messages.js';
import { withTls } from './tls.js';

/** The model to serve and what of the feed it leaves out, e.g. `authority a.test:80: route db:5432 left out: ...`. */
export interface RoutingPlan {
  readonly model: RoutingModel;
  readonly problems: readonly string[];
}

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

function checked<T>(parse: () => T): Checked<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    if (err instanceof RoutingModelError) return { ok: false, problem: err.problems.join('; ') };
    throw err;
  }
}

function routeOf(route: FeedRoute): Checked<Route> {
  // The model has no TLS to a backend; proxying such a route in clear would be worse than not serving it.
  if (route.secure_connection) return { ok: false, problem: 'secure_connection: TLS to a backend is not supported by the router' };
  return checked(() => parseRoute({ host: route.hostname, port: route.port, weight: route.weight, state: route.state }));
}

/** An authority's own fields checked, without its routes (they are checked one by one); the key lower-case. */
function authorityOf(a: FeedAuthority): Checked<Authority> {
  const authority = { hostname: a.hostname.toLowerCase(), port: a.port, routes: [] };
  return checked(() => (parseRoutingModel({ authorities: [authority] }), authority));
}

const byText = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
const byAddress = (x: { host: string; port: number }, y: { host: string; port: number }): number => byText(x.host, y.host) || x.port - y.port;
const stripIndex = (problem: string): string => problem.replace(/^authorities\[0\]\./, '');

function routesOf(key: string, feed: readonly FeedRoute[], problems: string[]): Route[] {
  const sorted = [...feed].sort((x, y) => byAddress({ host: x.hostname, port: x.port }, { host: y.hostname, port: y.port }) || x.weight - y.weight || byText(x.state, y.state));
  const routes = new Map<string, Route>();
  for (const feedRoute of sorted) {
    const address = addressOf({ host: feedRoute.hostname, port: feedRoute.port });
    const route = routeOf(feedRoute);
    if (!route.ok) problems.push(`authority ${key}: route ${address} left out: ${route.problem}`);
    else if (routes.has(address)) problems.push(`authority ${key}: route ${address} left out: a second route to the same backend`);
    else routes.set(address, route.value);
  }
  return [...routes.values()];
}

/** The routing model of a feed and its TLS (`GET /router/tls`), and every route or authority of it the model leaves out. */
export function routingModelOf(feed: RouteFeed, tls: readonly FeedTls[] = []): RoutingPlan {
  const problems: string[] = [];
  const named = (a: FeedAuthority): string => `${a.hostname}:${a.port}`;
  const sorted = [...feed.authorities].sort((x, y) => byText(named(x).toLowerCase(), named(y).toLowerCase()) || byText(named(x), named(y)));
  const authorities = new Map<string, Authority>();
  for (const feedAuthority of sorted) {
    const authority = authorityOf(feedAuthority);
    if (!authority.ok) {
      problems.push(`authority ${named(feedAuthority)} left out: ${stripIndex(authority.problem)}`);
      continue;
    }
    const key = authorityKey(authority.value);
    if (authorities.has(key)) {
      problems.push(`authority ${named(feedAuthority)} left out: a second authority ${key} (authorities compare case-insensitively)`);
      continue;
    }
    authorities.set(key, { ...authority.value, routes: routesOf(key, feedAuthority.routes, problems) });
  }
  const served = withTls([...authorities.values()].sort((x, y) => byText(x.hostname, y.hostname) || x.port - y.port), tls);
  return { model: parseRoutingModel({ authorities: served.authorities }), problems: [...problems, ...served.problems] };
}

/** How many routes a model serves. */
export const routeCountOf = (model: RoutingModel): number => model.authorities.reduce((n, a) => n + a.routes.length, 0);
