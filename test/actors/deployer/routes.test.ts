import { expect } from 'chai';
import { routeKeeper, type RouteTarget } from '../../../actors/deployer/routes.js';
import type { UnitRoute } from '../../../actors/orchestrator/messages.js';
import type { RouterApi } from '../../../http/client/router-api.js';
import type { DetailedAuthority } from '../../../http/client/schemas.js';

/** The Manager's router tables in memory, as far as a RouteKeeper's join uses them. */
function fakeRouter(): { api: RouterApi; authorities: DetailedAuthority[] } {
  const authorities: DetailedAuthority[] = [];
  const at = '2026-12-07T00:00:00.000Z';
  const refuse = (): never => {
    throw new Error('not used by join');
  };
  const api: RouterApi = {
    routes: refuse,
    authorities: refuse,
    deleteAuthority: refuse,
    updateRoute: refuse,
    deleteRoute: refuse,
    updateAuthority: refuse,
    setCertificate: refuse,
    certificate: refuse,
    deleteCertificate: refuse,
    tls: refuse,
    authority: (hostname, port) => Promise.resolve(authorities.find((a) => a.hostname.toLowerCase() === hostname.toLowerCase() && a.port === port)),
    createAuthority(a) {
      const id = authorities.length + 1;
      authorities.push({ id, hostname: a.hostname, port: a.port, redirect_http_port: null, product: a.product ?? null, environment: a.environment ?? null, routes: [], inserted_at: at, updated_at: at });
      return Promise.resolve(id);
    },
    addRoute(authorityId, route) {
      const authority = authorities.find((a) => a.id === authorityId)!;
      const id = authority.routes.length + 1;
      authority.routes.push({ id, authority_id: authorityId, hostname: route.hostname, port: route.port, secure_connection: false, weight: 100, state: 'ready', inserted_at: at, updated_at: at });
      return Promise.resolve(id);
    },
  };
  return { api, authorities };
}

/** A router that serves whatever it is asked to. */
const servingRouter = { request: () => Promise.resolve({ authorities: 1, routes: 1, problems: [] }) };

const route: UnitRoute = { hostname: 'shop.example', port: 8080, drain_seconds: 30 };
const backend = { host: '10.0.0.1', port: 20000 };

describe('Deployer: RouteKeeper.join and whose address it is', () => {
  const keeper = (router: ReturnType<typeof fakeRouter>, target: Omit<RouteTarget, 'exchangeId'>) => routeKeeper({ router: router.api }, servingRouter, { exchangeId: 1, ...target });

  it("creates the authority as the deploy's product and environment, and joins it again (product named without case)", async () => {
    const router = fakeRouter();
    await keeper(router, { product: 'shop', environment: 'prod' }).join(route, backend);
    await keeper(router, { product: 'SHOP', environment: 'prod' }).join(route, { ...backend, port: 20001 });
    expect(router.authorities).to.have.length(1);
    expect(router.authorities[0]).to.deep.include({ hostname: 'shop.example', port: 8080, product: 'shop', environment: 'prod' });
    expect(router.authorities[0]?.routes.map((r) => r.port)).to.deep.equal([20000, 20001]);
  });

  const refusals: Array<[string, string | null, string | null, string]> = [
    ['another product', 'shop', 'blog', 'belongs to product shop, and this deploy is of product blog'],
    ['a deploy of no product', 'shop', null, 'belongs to product shop, and this deploy is of no product'],
    ['a product, to an unowned authority', null, 'blog', 'belongs to no product, and this deploy is of product blog'],
  ];
  for (const [what, owner, product, says] of refusals) {
    it(`refuses ${what}, naming both and the way out, and adds no backend`, async () => {
      const router = fakeRouter();
      await keeper(router, { product: owner, environment: null }).join(route, backend);
      const refused = await keeper(router, { product, environment: null }).join(route, { ...backend, port: 20001 }).then(() => undefined, (err: unknown) => err as Error);
      expect(refused?.name).to.equal('AuthorityOwnedError');
      expect(refused?.message).to.equal(
        `authority shop.example:8080 ${says}: two products do not share an address; give the unit's route another hostname or port in units.json, or change the authority's product (PUT /router/authorities/1)`,
      );
      expect(router.authorities[0]?.routes.map((r) => r.port)).to.deep.equal([20000]);
    });
  }
});
