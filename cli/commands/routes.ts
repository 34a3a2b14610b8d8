import type { Command } from 'commander';
import { CliError } from '../core/errors.js';
import { authoritySpec } from '../core/inputs.js';
import { routeRows, routesTargetOf, type RouteRow, type RoutesTarget } from '../core/routes.js';
import { formatTable } from '../core/table.js';
import type { Context } from '../output.js';
import { fileText } from './clusters.js';
import type { FeedAuthority } from '../../actors/router/messages.js';
import { MAX_PAGE_SIZE } from '../../http/client/replies.js';
import { routerApi, type RouterApi } from '../../http/client/router-api.js';

/** The authorities `target` names, each with its backends; refused in one line when there are none. */
async function authoritiesOf(router: RouterApi, target: RoutesTarget): Promise<readonly FeedAuthority[]> {
  if (target.kind === 'product') {
    const { items } = await router.authorities({ product: target.product, limit: MAX_PAGE_SIZE });
    if (items.length === 0) throw new CliError(`product ${target.product} has no route: no authority belongs to it (a unit's route in units.json makes one on its first deploy)`);
    return items;
  }
  const { authorities } = await router.routes();
  if (target.kind === 'all') return authorities;
  const found = authorities.filter((a) => a.hostname.toLowerCase() === target.hostname.toLowerCase() && a.port === target.port);
  if (found.length === 0) throw new CliError(`no authority ${target.hostname}:${target.port} (see: openaperture routes)`);
  return found;
}

/** The router's authorities (the addresses clients use) and the backends serving each (reference §3.12, issue 15). */
async function listRoutes(ctx: Context, wanted: string | undefined): Promise<void> {
  const target = routesTargetOf(wanted);
  const authorities = await authoritiesOf(routerApi((await ctx.session()).http), target);
  const rows = routeRows({ authorities });
  ctx.out.result(authorities, () =>
    formatTable<RouteRow>(
      [
        { header: 'AUTHORITY', value: (r) => r.authority },
        { header: 'BACKEND', value: (r) => r.backend },
        { header: 'WEIGHT', value: (r) => r.weight },
        { header: 'STATE', value: (r) => r.state },
        { header: 'SHARE', value: (r) => (r.share === null ? null : `${Math.round(r.share * 1_000) / 10}%`) },
      ],
      rows,
      'no authorities',
    ),
  );
}

/** The router API and the id of the authority `hostname:port`; a CliError when there is none. */
async function authorityOf(ctx: Context, text: string): Promise<{ api: RouterApi; id: number; name: string }> {
  const wanted = authoritySpec(text);
  const api = routerApi((await ctx.session()).http);
  const found = await api.authority(wanted.hostname, wanted.port);
  const name = `${wanted.hostname}:${wanted.port}`;
  if (found === undefined) throw new CliError(`no authority ${name} (see: openaperture routes)`);
  return { api, id: found.id, name };
}

interface CertOptions {
  readonly cert?: string;
  readonly key?: string;
  readonly remove?: boolean;
}

/** Sets (`--cert` and `--key`), removes (`--remove`) or shows an authority's certificate; never prints a key. */
async function certificate(ctx: Context, text: string, o: CertOptions): Promise<void> {
  if ((o.cert === undefined) !== (o.key === undefined)) throw new CliError('--cert and --key go together');
  if (o.remove === true && o.cert !== undefined) throw new CliError('--remove takes no --cert or --key');
  const { api, id, name } = await authorityOf(ctx, text);
  if (o.remove === true) {
    await api.deleteCertificate(id);
    return ctx.out.result({ authority: name, certificate: null }, () => `${name}: certificate removed; served in plain HTTP`);
  }
  const [certificate, private_key] = [await fileText(o.cert, '--cert'), await fileText(o.key, '--key')];
  if (certificate !== undefined && private_key !== undefined) await api.setCertificate(id, { certificate, private_key });
  const info = await api.certificate(id);
  if (info === undefined) throw new CliError(`${name} has no certificate (give one with --cert FILE --key FILE)`);
  ctx.out.result(info, () =>
    [`${name}: ${info.subject} (${info.names.join(', ')})`, `issuer ${info.issuer}`, `valid ${info.not_before} to ${info.not_after}`, `sha256 ${info.fingerprint_sha256}`].join('\n'),
  );
}

/** Sets the plain port that redirects to the authority's https address, or ends the redirect (`off`). */
async function redirect(ctx: Context, text: string, port: string): Promise<void> {
  const redirectPort = port === 'off' ? null : Number(port);
  if (redirectPort !== null && !(Number.isInteger(redirectPort) && redirectPort >= 1 && redirectPort <= 65_535)) throw new CliError(`<port>: expected 1-65535 or off, got ${JSON.stringify(port)}`);
  const { api, id, name } = await authorityOf(ctx, text);
  await api.updateAuthority(id, { redirect_http_port: redirectPort });
  ctx.out.result({ authority: name, redirect_http_port: redirectPort }, () => (redirectPort === null ? `${name}: no redirect` : `${name}: plain HTTP on port ${redirectPort} redirects to https`));
}

export function registerRoutes(program: Command, ctx: () => Context): void {
  const routes = program
    .command('routes [product-or-authority]')
    .description("the router's authorities (hostname:port) and the backends serving each, with weight, state and share of new requests: all, a product's, or one hostname:port")
    .action((wanted: string | undefined) => listRoutes(ctx(), wanted));
  routes
    .command('cert <authority>')
    .description("show an authority's TLS certificate, set it (--cert and --key, PEM files) or remove it; the router serves it by SNI")
    .option('--cert <file>', 'the certificate chain, PEM, leaf first')
    .option('--key <file>', 'its private key, PEM (sealed in the Manager, never shown again)')
    .option('--remove', 'remove the certificate: the authority is served in plain HTTP')
    .action((authority: string, o: CertOptions) => certificate(ctx(), authority, o));
  routes
    .command('redirect <authority> <port>')
    .description("answer plain HTTP on <port> for the authority's hostname with a redirect to its https address; `off` ends it")
    .action((authority: string, port: string) => redirect(ctx(), authority, port));
}
