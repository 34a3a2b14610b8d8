/**
 * The Manager's TLS feed laid over the routing model (issue 15 item 3): which authorities are served over TLS, and
 * which plain ports redirect to them. What cannot be served is left out and named, as routingModelOf does for routes:
 * a TLS authority without its key (never served in plain instead), a plain authority on a port that serves TLS (a
 * port is one or the other; the TLS ones stay, so a new authority without its certificate yet takes no other down),
 * a redirect without a certificate, onto a TLS port, or for a Host its port already serves.
 */
import { authorityKey, isTls, type Authority } from '../../../runtime/haproxy/core/model.js';
import type { FeedTls } from '../messages.js';

/** The authorities (in their order) with their TLS and redirects, and what of them is left out. */
export function withTls(authorities: readonly Authority[], feed: readonly FeedTls[]): { authorities: Authority[]; problems: string[] } {
  const problems: string[] = [];
  const byKey = new Map(feed.map((t) => [`${t.hostname.toLowerCase()}:${t.port}`, t]));
  const dressed = authorities.flatMap((a) => {
    const tls = byKey.get(authorityKey(a));
    return tls === undefined ? [a] : dress(a, tls, problems);
  });
  const tlsPorts = new Set(dressed.filter(isTls).map((a) => a.port));
  const served = dressed.filter((a) => {
    if (isTls(a) || !tlsPorts.has(a.port)) return true;
    problems.push(`authority ${authorityKey(a)} left out: port ${a.port} serves TLS and this authority has no certificate`);
    return false;
  });
  return { authorities: checkRedirects(served, tlsPorts, problems), problems };
}

function dress(a: Authority, tls: FeedTls, problems: string[]): Authority[] {
  const key = authorityKey(a);
  if (tls.certificate === null) {
    if (tls.redirect_http_port !== null) problems.push(`authority ${key}: redirect from port ${tls.redirect_http_port} left out: the authority has no certificate`);
    return [a];
  }
  if (tls.private_key === null) {
    problems.push(`authority ${key} left out: its certificate has no private key here (${tls.problem ?? 'the Manager sent none'})`);
    return [];
  }
  const redirect = tls.redirect_http_port === null ? {} : { redirectHttpPort: tls.redirect_http_port };
  return [{ ...a, tls: { certificate: tls.certificate, privateKey: tls.private_key }, ...redirect }];
}

function checkRedirects(authorities: readonly Authority[], tlsPorts: ReadonlySet<number>, problems: string[]): Authority[] {
  const taken = new Set(authorities.filter((a) => !isTls(a)).map(authorityKey));
  return authorities.map((a) => {
    if (a.redirectHttpPort === undefined) return a;
    const from = authorityKey({ hostname: a.hostname, port: a.redirectHttpPort });
    const clash = tlsPorts.has(a.redirectHttpPort) ? `port ${a.redirectHttpPort} serves TLS` : taken.has(from) ? `${from} is already served` : undefined;
    taken.add(from);
    if (clash === undefined) return a;
    problems.push(`authority ${authorityKey(a)}: redirect from port ${a.redirectHttpPort} left out: ${clash}`);
    const { redirectHttpPort: _dropped, ...rest } = a;
    return rest;
  });
}
