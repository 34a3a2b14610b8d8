import type { Command } from 'commander';
import { CliError } from '../core/errors.js';
import { routeRows, routesTargetOf, type RouteRow, type RoutesTarget } from '../core/routes.js';
import { formatTable } from '../core/table.js';
import type { Context } from '../output.js';
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

export function registerRoutes(program: Command, ctx: () => Context): void {
  program
    .command('routes [product-or-authority]')
    .description("the router's authorities (hostname:port) and the backends serving each, with weight, state and share of new requests: all, a product's, or one hostname:port")
    .action((wanted: string | undefined) => listRoutes(ctx(), wanted));
}
