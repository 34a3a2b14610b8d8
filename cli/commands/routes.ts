import type { Command } from 'commander';
import { CliError } from '../core/errors.js';
import { authoritySpec } from '../core/inputs.js';
import { routeRows, type RouteRow } from '../core/routes.js';
import { formatTable } from '../core/table.js';
import type { Context } from '../output.js';
import { routerApi } from '../../http/client/router-api.js';

/** The router's authorities (the addresses clients use) and the backends serving each (reference §3.12, issue 15). */
async function listRoutes(ctx: Context, authority: string | undefined): Promise<void> {
  const wanted = authority === undefined ? undefined : authoritySpec(authority);
  const feed = await routerApi((await ctx.session()).http).routes();
  const authorities = wanted === undefined ? feed.authorities : feed.authorities.filter((a) => a.hostname.toLowerCase() === wanted.hostname.toLowerCase() && a.port === wanted.port);
  if (wanted !== undefined && authorities.length === 0) throw new CliError(`no authority ${wanted.hostname}:${wanted.port} (see: openaperture routes)`);
  const rows = routeRows({ ...feed, authorities });
  ctx.out.result(authority === undefined ? feed.authorities : authorities, () =>
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
    .command('routes [authority]')
    .description("the router's authorities (hostname:port) and the backends serving each, with weight, state and share of new requests")
    .action((authority: string | undefined) => listRoutes(ctx(), authority));
}
