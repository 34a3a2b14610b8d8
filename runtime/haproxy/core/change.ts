/** What it takes to move a running proxy from one routing model to another: Runtime API commands, or a reload. */
import { addressOf, authorityKey, backendNameOf, listeningPortsOf, serverNameOf, type Authority, type Route, type RoutingModel } from './model.js';
import { serverOptions } from './config.js';
import type { ProxySettings } from './settings.js';

/**
 * `runtime`: send `commands` in order to the worker's Runtime API, no reload. `reload`: the change touches what only
 * the config holds (frontends, backends); render the target model and reload, with no command before or after.
 */
export type Change =
  | { readonly kind: 'runtime'; readonly commands: readonly string[] }
  | { readonly kind: 'reload'; readonly reasons: readonly string[] };

/** What only a reload changes in an authority both models hold: its certificate (files read at load) and its redirect. */
function tlsReasons(from: RoutingModel, to: RoutingModel): string[] {
  const was = new Map(from.authorities.map((a) => [authorityKey(a), a]));
  return to.authorities.flatMap((a) => {
    const old = was.get(authorityKey(a));
    if (old === undefined) return [];
    const certificate = old.tls?.certificate !== a.tls?.certificate || old.tls?.privateKey !== a.tls?.privateKey;
    return [
      ...(certificate ? [`certificate of authority ${authorityKey(a)} changed`] : []),
      ...(old.redirectHttpPort !== a.redirectHttpPort ? [`redirect of authority ${authorityKey(a)} changed`] : []),
    ];
  });
}

function reloadReasons(from: RoutingModel, to: RoutingModel): string[] {
  const fromPorts = new Set(listeningPortsOf(from));
  const fromKeys = new Set(from.authorities.map(authorityKey));
  const toKeys = new Set(to.authorities.map(authorityKey));
  return [
    ...tlsReasons(from, to),
    ...listeningPortsOf(to)
      .filter((p) => !fromPorts.has(p))
      .map((p) => `new listening port ${p}`),
    ...[...toKeys].filter((k) => !fromKeys.has(k)).map((k) => `new authority ${k}`),
    // The Runtime API cannot delete a backend or its Host rule.
    ...[...fromKeys].filter((k) => !toKeys.has(k)).map((k) => `authority ${k} removed`),
  ];
}

function addCommands(backend: string, route: Route, settings: ProxySettings): string[] {
  const server = `${backend}/${serverNameOf(route)}`;
  // A server added at run time starts in maintenance with its health check off.
  const state = { ready: [`enable server ${server}`], drain: [`set server ${server} state drain`], maint: [] }[route.state];
  return [`add server ${server} ${serverOptions(route, settings)}`, `enable health ${server}`, ...state];
}

function updateCommands(backend: string, was: Route, now: Route): string[] {
  const server = `${backend}/${serverNameOf(now)}`;
  // A draining server may run at weight 0 (after a reload, see serverOptions): leaving drain sets its weight again.
  const weightChanged = was.weight !== now.weight || (was.state === 'drain' && now.state !== 'drain');
  return [
    ...(weightChanged ? [`set server ${server} weight ${now.weight}`] : []),
    ...(was.state !== now.state ? [`set server ${server} state ${now.state}`] : []),
  ];
}

const removeCommands = (backend: string, route: Route): string[] => {
  const server = `${backend}/${serverNameOf(route)}`;
  return [`disable server ${server}`, `del server ${server}`];
};

/** Servers are added first and removed last, so that an authority keeps a server to send to throughout. */
function routeCommands(was: Authority, now: Authority, settings: ProxySettings): { add: string[]; update: string[]; remove: string[] } {
  const backend = backendNameOf(now);
  const before = new Map(was.routes.map((r) => [addressOf(r), r]));
  const after = new Set(now.routes.map(addressOf));
  const add: string[] = [];
  const update: string[] = [];
  for (const route of now.routes) {
    const old = before.get(addressOf(route));
    if (old === undefined) add.push(...addCommands(backend, route, settings));
    else update.push(...updateCommands(backend, old, route));
  }
  const remove = was.routes.filter((r) => !after.has(addressOf(r))).flatMap((r) => removeCommands(backend, r));
  return { add, update, remove };
}

/** The change from `from` (what the proxy runs now) to `to`; an empty `commands` list means nothing to do. */
export function planChange(from: RoutingModel, to: RoutingModel, settings: ProxySettings): Change {
  const reasons = reloadReasons(from, to);
  if (reasons.length > 0) return { kind: 'reload', reasons };
  const was = new Map(from.authorities.map((a) => [authorityKey(a), a]));
  // With no reload reason, every authority of `to` is also in `from`.
  const parts = to.authorities.flatMap((a) => {
    const old = was.get(authorityKey(a));
    return old === undefined ? [] : [routeCommands(old, a, settings)];
  });
  return { kind: 'runtime', commands: [...parts.flatMap((p) => p.add), ...parts.flatMap((p) => p.update), ...parts.flatMap((p) => p.remove)] };
}
