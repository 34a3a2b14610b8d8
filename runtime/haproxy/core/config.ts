/** Renders a routing model to a complete haproxy.cfg (HAProxy 2.6). */
import {
  backendNameOf,
  frontendNameOf,
  isTls,
  listeningPortsOf,
  NO_ROUTE_BACKEND,
  serverNameOf,
  type Authority,
  type Route,
  type RoutingModel,
} from './model.js';
import type { ProxySettings } from './settings.js';

/**
 * A server's options, the same on a `server` line and in `add server` (a server added at run time takes nothing from
 * `default-server`). A draining server is written with weight 0: the config has no drain state, and weight 0 is what
 * drain does to new traffic when there is no persistence, which these backends do not use.
 */
export function serverOptions(route: Route, settings: ProxySettings): string {
  const { intervalMs, fall, rise } = settings.check;
  const weight = route.state === 'drain' ? 0 : route.weight;
  return `${route.host}:${route.port} weight ${weight} check inter ${intervalMs} fall ${fall} rise ${rise}`;
}

function globalSection(settings: ProxySettings): string[] {
  return [
    'global',
    '  master-worker',
    // `expose-fd listeners` lets a new worker take the listening sockets from the old one: a reload drops no connection.
    `  stats socket ${settings.statsSocket} mode 600 level admin expose-fd listeners`,
    `  hard-stop-after ${settings.hardStopAfterMs}ms`,
  ];
}

function defaultsSection(settings: ProxySettings): string[] {
  const t = settings.timeouts;
  return [
    'defaults',
    '  mode http',
    '  option forwardfor',
    // A request whose connection to a server fails is tried again, on another server when there is one.
    '  retries 3',
    '  option redispatch 1',
    `  timeout connect ${t.connectMs}ms`,
    `  timeout client ${t.clientMs}ms`,
    `  timeout server ${t.serverMs}ms`,
    `  timeout http-request ${t.httpRequestMs}ms`,
    `  timeout http-keep-alive ${t.keepAliveMs}ms`,
  ];
}

// A client writes the port in Host only when it is not the scheme's default, so both forms name the authority.
const hostAclOf = (a: Authority): string => `host_${a.hostname}_${a.port}`;
const redirectAclOf = (a: Authority, port: number): string => `redirect_${a.hostname}_${port}`;
const pemFileOf = (a: Authority, settings: ProxySettings): string => `${settings.certDir}/${backendNameOf(a)}.pem`;
const crtListOf = (port: number, settings: ProxySettings): string => `${settings.certDir}/${frontendNameOf(port)}.crtlist`;
/** Where a redirect sends a client: the authority's https address, the port left out when it is 443. */
const httpsPrefixOf = (a: Authority): string => `https://${a.hostname}${a.port === 443 ? '' : `:${a.port}`}`;

function redirectLines(port: number, redirects: readonly Authority[]): string[] {
  return redirects.flatMap((a) => [
    `  acl ${redirectAclOf(a, port)} hdr(host) -i ${a.hostname} ${a.hostname}:${port}`,
    // 308 keeps the method and body (a 301 lets a client turn a POST into a GET); `prefix` keeps the path and query.
    `  http-request redirect prefix ${httpsPrefixOf(a)} code 308 if ${redirectAclOf(a, port)}`,
  ]);
}

/**
 * A port's frontend: TLS when its authorities have certificates (SNI picks one from the port's crt-list), plain
 * otherwise, with the redirects of the TLS authorities that name this port. A client's own X-Forwarded-Proto is
 * replaced, so a backend can trust it.
 */
function frontendSection(port: number, model: RoutingModel, settings: ProxySettings): string[] {
  const authorities = model.authorities.filter((a) => a.port === port);
  const tls = authorities.some(isTls);
  return [
    `frontend ${frontendNameOf(port)}`,
    tls ? `  bind ${settings.bindAddress}:${port} ssl crt-list ${crtListOf(port, settings)}` : `  bind ${settings.bindAddress}:${port}`,
    `  http-request set-header X-Forwarded-Proto ${tls ? 'https' : 'http'}`,
    ...redirectLines(port, model.authorities.filter((a) => a.redirectHttpPort === port)),
    ...authorities.map((a) => `  acl ${hostAclOf(a)} hdr(host) -i ${a.hostname} ${a.hostname}:${a.port}`),
    ...authorities.map((a) => `  use_backend ${backendNameOf(a)} if ${hostAclOf(a)}`),
    `  default_backend ${NO_ROUTE_BACKEND}`,
  ];
}

/** A file the config reads, to be written (mode 0600) in `settings.certDir` before the config is checked. */
export interface TlsFile {
  readonly path: string;
  readonly content: string;
}

/**
 * The TLS files a model's config reads: one PEM per TLS authority (its chain, then its key) and one crt-list per TLS
 * port, a line per authority whose SNI filter is its hostname (a client sending no SNI gets the first).
 */
export function tlsFilesOf(model: RoutingModel, settings: ProxySettings): TlsFile[] {
  const authorities = model.authorities.filter(isTls);
  const pems = authorities.map((a) => ({ path: pemFileOf(a, settings), content: `${a.tls.certificate.trim()}\n${a.tls.privateKey.trim()}\n` }));
  const ports = [...new Set(authorities.map((a) => a.port))];
  const lists = ports.map((port) => ({
    path: crtListOf(port, settings),
    content: authorities.filter((a) => a.port === port).map((a) => `${pemFileOf(a, settings)} ${a.hostname}\n`).join(''),
  }));
  return [...pems, ...lists];
}

function backendSection(a: Authority, settings: ProxySettings): string[] {
  return [
    `backend ${backendNameOf(a)}`,
    '  balance roundrobin',
    ...a.routes.map((r) => `  server ${serverNameOf(r)} ${serverOptions(r, settings)}${r.state === 'maint' ? ' disabled' : ''}`),
  ];
}

const noRouteSection = (): string[] => [
  `backend ${NO_ROUTE_BACKEND}`,
  '  http-request return status 503 content-type text/plain string "no route for this host"',
];

/** The whole config: one frontend per listening port (TLS, plain, redirects), one backend per authority, a 503 for any other Host. */
export function renderConfig(model: RoutingModel, settings: ProxySettings): string {
  const sections = [
    globalSection(settings),
    defaultsSection(settings),
    ...listeningPortsOf(model).map((port) => frontendSection(port, model, settings)),
    ...model.authorities.map((a) => backendSection(a, settings)),
    noRouteSection(),
  ];
  return `# generated by runtime/haproxy/core/config.ts\n${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
