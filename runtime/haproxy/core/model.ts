/**
 * The routing model the proxy serves (issue 15): authorities, the `hostname:port` a client uses, each with its routes,
 * the backends `host:port` that serve it. Plain data, checked once by `parseRoutingModel`; everything else in
 * runtime/haproxy/ takes a parsed model.
 */
import { z } from 'zod';

/** How a route takes traffic: `ready` takes its share, `drain` finishes what it has and gets nothing new, `maint` gets nothing. */
export const RouteState = z.enum(['ready', 'drain', 'maint']);
export type RouteState = z.infer<typeof RouteState>;

// A DNS name (RFC 1123 labels); a client's Host header is matched against it case-insensitively.
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

const Port = z.number().int().min(1).max(65_535);

const Route = z.strictObject({
  // An address, not a name: a `server` line in the config resolves a name once at start, a server added at run time
  // another way, and no `resolvers` section exists yet; an instance's address is known to the Deployer anyway.
  host: z.string().regex(IPV4, 'must be an IPv4 address (e.g. 127.0.0.1)'),
  port: Port,
  // HAProxy's own range for a server weight.
  weight: z.number().int().min(0).max(256),
  state: RouteState,
});

/** An authority's hostname, lower-cased: what a client's Host header is matched against. */
export const AuthorityHostname = z
  .string()
  .transform((h) => h.toLowerCase())
  .pipe(z.string().regex(HOSTNAME, 'must be a DNS hostname (letters, digits, hyphens, dots)'));

// PEM text; the Manager checked the pair (http/core/certificates.ts), HAProxy's config check reads it again.
const Tls = z.strictObject({
  certificate: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'must be a PEM certificate chain' }),
  privateKey: z.string().includes('PRIVATE KEY-----', { message: 'must be a PEM private key' }),
});

const Authority = z
  .strictObject({
    hostname: AuthorityHostname,
    port: Port,
    routes: z.array(Route),
    tls: Tls.optional(),
    redirectHttpPort: Port.optional(),
  })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.routes.forEach((r, i) => {
      const key = addressOf(r);
      if (seen.has(key)) ctx.issues.push({ code: 'custom', path: ['routes', i], message: `duplicate route ${key}`, input: r });
      seen.add(key);
    });
  });

const Model = z
  .strictObject({ authorities: z.array(Authority) })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.authorities.forEach((a, i) => {
      const key = addressOf({ host: a.hostname, port: a.port });
      if (seen.has(key)) ctx.issues.push({ code: 'custom', path: ['authorities', i], message: `duplicate authority ${key}`, input: a });
      seen.add(key);
    });
  })
  .check((ctx) => {
    for (const problem of tlsProblemsOf(ctx.value)) ctx.issues.push({ code: 'custom', ...problem, input: ctx.value });
  });

/** Where TLS and redirects do not fit: a port both TLS and plain, a redirect without TLS, on a TLS port, or twice for one Host. */
function tlsProblemsOf(model: RoutingModel): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  const tlsPorts = new Set(model.authorities.filter(isTls).map((a) => a.port));
  const plainHosts = new Set(model.authorities.filter((a) => !isTls(a)).map(authorityKey));
  const redirects = new Set<string>();
  model.authorities.forEach((a, i) => {
    if (!isTls(a) && tlsPorts.has(a.port)) problems.push({ path: ['authorities', i, 'tls'], message: `port ${a.port} serves TLS: every authority on it needs a certificate` });
    if (a.redirectHttpPort === undefined) return;
    const from = authorityKey({ hostname: a.hostname, port: a.redirectHttpPort });
    const path = ['authorities', i, 'redirectHttpPort'];
    if (!isTls(a)) problems.push({ path, message: 'a redirect to https needs the authority to have TLS' });
    else if (tlsPorts.has(a.redirectHttpPort)) problems.push({ path, message: `port ${a.redirectHttpPort} serves TLS, not plain HTTP` });
    else if (plainHosts.has(from) || redirects.has(from)) problems.push({ path, message: `${from} is already served` });
    redirects.add(from);
  });
  return problems;
}

/** One backend of an authority: an instance's address, its weight (0-256) and state. */
export interface Route {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly state: RouteState;
}

/** What an authority is served with over TLS: its certificate chain (leaf first) and private key, PEM. */
export interface AuthorityTls {
  readonly certificate: string;
  readonly privateKey: string;
}

/**
 * A `hostname:port` clients use (hostname lower-case) and the routes that serve it; with `tls`, over HTTPS (SNI picks
 * its certificate), every authority of its port too; with `redirectHttpPort`, that plain port answers its hostname
 * with a redirect to `https://hostname[:port]`.
 */
export interface Authority {
  readonly hostname: string;
  readonly port: number;
  readonly routes: readonly Route[];
  readonly tls?: AuthorityTls | undefined;
  readonly redirectHttpPort?: number | undefined;
}

/** Every authority the proxy serves; no two share a `hostname:port`, no authority has two routes to one address. */
export interface RoutingModel {
  readonly authorities: readonly Authority[];
}

/** A routing model that does not hold; `problems` name each field, e.g. `authorities[0].routes[1].weight: ...`. */
export class RoutingModelError extends Error {
  override readonly name = 'RoutingModelError';
  readonly retryable = false;
  constructor(readonly problems: readonly string[]) {
    super(`invalid routing model: ${problems.join('; ')}`);
  }
}

const pathOf = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(model)';

const refusalOf = (error: z.ZodError): RoutingModelError => new RoutingModelError(error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`));

/** Checks untrusted data (e.g. the Manager's routes) into a RoutingModel; throws RoutingModelError naming each bad field. */
export function parseRoutingModel(value: unknown): RoutingModel {
  const parsed = Model.safeParse(value);
  if (!parsed.success) throw refusalOf(parsed.error);
  return parsed.data;
}

/** Checks one route on its own, as parseRoutingModel checks each; throws RoutingModelError naming each bad field. */
export function parseRoute(value: unknown): Route {
  const parsed = Route.safeParse(value);
  if (!parsed.success) throw refusalOf(parsed.error);
  return parsed.data;
}

/** `host:port`, the key of a route within its authority and of an authority within the model. */
export const addressOf = (a: { readonly host: string; readonly port: number }): string => `${a.host}:${a.port}`;

export const authorityKey = (a: Pick<Authority, 'hostname' | 'port'>): string => `${a.hostname}:${a.port}`;

/** HAProxy names: characters in [a-z0-9_.:-] only, which the checks above guarantee. A port is never a word, so no
 *  authority's backend can be named like the fallback backend `be_no_route`. */
export const backendNameOf = (a: Pick<Authority, 'hostname' | 'port'>): string => `be_${a.hostname}_${a.port}`;
export const serverNameOf = (r: Pick<Route, 'host' | 'port'>): string => `s_${r.host}_${r.port}`;
export const frontendNameOf = (port: number): string => `fe_${port}`;
export const NO_ROUTE_BACKEND = 'be_no_route';

export const isTls = (a: Authority): a is Authority & { readonly tls: AuthorityTls } => a.tls !== undefined;

/** The listening ports of a model, its authorities' and their redirects', ascending. */
export const listeningPortsOf = (model: RoutingModel): number[] =>
  [...new Set(model.authorities.flatMap((a) => (a.redirectHttpPort === undefined ? [a.port] : [a.port, a.redirectHttpPort])))].sort((x, y) => x - y);
