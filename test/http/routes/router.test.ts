import { expect } from 'chai';
import { routerRoutes } from '../../../http/routes/router.js';
import type { AnyRoute } from '../../../http/route.js';
import { AuthoritySchema, RouterRouteSchema } from '../../../entities/router.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = routerRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Errors = { errors: Array<{ message: string; field?: string }> };

async function createAuthority(h: ApiHarness, hostname: string, port = 80): Promise<string> {
  const res = await h.call('POST', '/router/authorities', { token: h.tokens.admin, body: { hostname, port } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.headers.get('location')!;
}

async function addRoute(h: ApiHarness, authority: string, hostname: string, port: number, secure = false): Promise<string> {
  const res = await h.call('POST', `${authority}/routes`, { token: h.tokens.admin, body: { hostname, port, secure_connection: secure } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.headers.get('location')!;
}

/** Makes every authority look untouched for an hour, so `updated_since` can tell what changed afterwards. */
async function ageAuthorities(h: ApiHarness): Promise<void> {
  await h.db.fork().nativeUpdate(AuthoritySchema, {}, { updated_at: new Date(Date.now() - 3_600_000) });
}

forEachDatabase('Manager: router tables', routes, (h) => {
  it('needs a token, and an admin to change anything', async () => {
    expect((await h().call('GET', '/router/routes')).status).to.equal(401);
    expect((await h().call('GET', '/router/authorities')).status).to.equal(401);
    const res = await h().call('POST', '/router/authorities', { token: h().tokens.viewer, body: { hostname: 'a.example', port: 80 } });
    expect(res.status).to.equal(403);
    expect((await h().call('POST', '/router/authorities', { token: h().tokens.operator, body: { hostname: 'a.example', port: 80 } })).status).to.equal(403);
  });

  it('creates, shows, lists (with a total and hostspec), renames and deletes an authority', async () => {
    const admin = h().tokens.admin;
    const location = await createAuthority(h(), 'Shop.Example', 443);
    expect(location).to.match(/^\/router\/authorities\/\d+$/);
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ hostname: 'Shop.Example', port: 443 });
    const found = await h().call('GET', '/router/authorities?hostspec=shop.example%3A443', { token: h().tokens.viewer });
    expect((found.body as unknown[]).length).to.equal(1);
    expect(found.headers.get('x-total-count')).to.equal('1');
    const none = await h().call('GET', '/router/authorities?hostspec=shop.example:444', { token: h().tokens.viewer });
    expect(none.body).to.deep.equal([]);
    expect((await h().call('PUT', location, { token: admin, body: { port: 8443 } })).status).to.equal(204);
    expect((await h().call('GET', location, { token: admin })).body).to.deep.include({ hostname: 'Shop.Example', port: 8443 });
    expect((await h().call('DELETE', location, { token: admin })).status).to.equal(204);
    expect((await h().call('GET', location, { token: admin })).status).to.equal(404);
  });

  it('answers 409 for a host:port taken in any case, 400 naming the field, 404 for an unknown id', async () => {
    const admin = h().tokens.admin;
    const first = await createAuthority(h(), 'dup.example', 80);
    const dup = await h().call('POST', '/router/authorities', { token: admin, body: { hostname: 'DUP.example', port: 80 } });
    expect(dup.status).to.equal(409);
    const other = await createAuthority(h(), 'other.example', 80);
    expect((await h().call('PUT', other, { token: admin, body: { hostname: 'Dup.Example' } })).status).to.equal(409);
    expect((await h().call('PUT', first, { token: admin, body: { hostname: 'dup.example', port: 80 } })).status).to.equal(204);
    const badPut = await h().call('PUT', first, { token: admin, body: { port: '80' } });
    expect([badPut.status, (badPut.body as Errors).errors[1]?.field]).to.deep.equal([400, 'port']);
    const bad = await h().call('POST', '/router/authorities', { token: admin, body: { hostname: 'x y', port: 70_000, extra: true } });
    expect(bad.status).to.equal(400);
    expect((bad.body as Errors).errors.map((e) => e.field)).to.include.members(['hostname', 'port', 'extra']);
    const badSpec = await h().call('GET', '/router/authorities?hostspec=nope', { token: admin });
    expect(badSpec.status).to.equal(400);
    expect(JSON.stringify(badSpec.body)).to.include('hostspec');
    expect((await h().call('GET', '/router/authorities/abc', { token: admin })).status).to.equal(400);
    expect((await h().call('GET', '/router/authorities/999999', { token: admin })).status).to.equal(404);
    expect((await h().call('PUT', '/router/authorities/999999', { token: admin, body: { port: 81 } })).status).to.equal(404);
    expect((await h().call('DELETE', '/router/authorities/999999', { token: admin })).status).to.equal(404);
  });

  it('manages the routes of an authority: add, list, show, update, delete, clear, with 404 and 409', async () => {
    const admin = h().tokens.admin;
    const authority = await createAuthority(h(), 'api.example', 80);
    const r1 = await addRoute(h(), authority, 'backend-1', 45000);
    expect(r1).to.match(new RegExp(`^${authority}/routes/\\d+$`));
    await addRoute(h(), authority, 'backend-2', 45001, true);
    expect((await h().call('POST', `${authority}/routes`, { token: admin, body: { hostname: 'BACKEND-1', port: 45000 } })).status).to.equal(409);
    const listed = await h().call('GET', `${authority}/routes?limit=1`, { token: h().tokens.viewer });
    expect(listed.headers.get('x-total-count')).to.equal('2');
    const byHost = await h().call('GET', `${authority}/routes?hostspec=backend-2:45001`, { token: h().tokens.viewer });
    expect(byHost.body).to.have.length(1).and.to.have.nested.property('[0].secure_connection', true);
    expect((await h().call('GET', r1, { token: h().tokens.viewer })).body).to.deep.include({ hostname: 'backend-1', port: 45000, secure_connection: false });
    expect((await h().call('PUT', r1, { token: admin, body: { port: 45002, secure_connection: true } })).status).to.equal(204);
    expect((await h().call('GET', r1, { token: admin })).body).to.deep.include({ port: 45002, secure_connection: true });
    expect((await h().call('PUT', r1, { token: admin, body: { hostname: 'backend-2', port: 45001 } })).status).to.equal(409);
    expect((await h().call('PUT', r1, { token: admin, body: { port: 0 } })).status).to.equal(400);
    // A route is found only under its own authority.
    const other = await createAuthority(h(), 'elsewhere.example', 80);
    const routeId = r1.split('/').pop()!;
    expect((await h().call('GET', `${other}/routes/${routeId}`, { token: admin })).status).to.equal(404);
    expect((await h().call('GET', '/router/authorities/999999/routes', { token: admin })).status).to.equal(404);
    expect((await h().call('POST', '/router/authorities/999999/routes', { token: admin, body: { hostname: 'b', port: 1 } })).status).to.equal(404);
    expect((await h().call('DELETE', r1, { token: h().tokens.viewer })).status).to.equal(403);
    expect((await h().call('DELETE', r1, { token: admin })).status).to.equal(204);
    expect((await h().call('DELETE', r1, { token: admin })).status).to.equal(404);
    expect((await h().call('DELETE', `${authority}/routes/clear`, { token: admin })).status).to.equal(204);
    expect((await h().call('GET', `${authority}/routes`, { token: admin })).body).to.deep.equal([]);
  });

  it("keeps a route's weight and state (ready, weight 100 unless given), served in the route map, 400 naming a bad one", async () => {
    const admin = h().tokens.admin;
    const authority = await createAuthority(h(), 'weights.example', 8080);
    const stable = await addRoute(h(), authority, '127.0.0.1', 21000);
    const canary = await h().call('POST', `${authority}/routes`, { token: admin, body: { hostname: '127.0.0.1', port: 21001, weight: 10, state: 'maint' } });
    expect(canary.status, JSON.stringify(canary.body)).to.equal(201);
    expect((await h().call('GET', stable, { token: h().tokens.viewer })).body).to.deep.include({ weight: 100, state: 'ready' });
    expect((await h().call('PUT', stable, { token: admin, body: { state: 'drain' } })).status).to.equal(204);
    expect((await h().call('PUT', canary.headers.get('location')!, { token: admin, body: { weight: 0, state: 'ready' } })).status).to.equal(204);
    const map = (await h().call('GET', '/router/routes', { token: h().tokens.viewer })).body as Record<string, unknown>;
    expect(map['weights.example:8080']).to.deep.equal([
      { hostname: '127.0.0.1', port: 21000, secure_connection: false, weight: 100, state: 'drain' },
      { hostname: '127.0.0.1', port: 21001, secure_connection: false, weight: 0, state: 'ready' },
    ]);
    for (const [body, field, message] of [
      [{ weight: 257 }, 'weight', /0\.\.256/],
      [{ weight: 1.5 }, 'weight', /whole number/],
      [{ state: 'gone' }, 'state', /ready|drain|maint/],
    ] as const) {
      const res = await h().call('PUT', stable, { token: admin, body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      const error = (res.body as Errors).errors.find((e) => e.field === field);
      expect(error?.message, JSON.stringify(res.body)).to.match(message);
    }
    expect((await h().call('GET', stable, { token: admin })).body, 'a refused change changes nothing').to.deep.include({ weight: 100, state: 'drain' });
  });

  it('shows authorities with their routes (detailed)', async () => {
    const authority = await createAuthority(h(), 'detail.example', 80);
    await addRoute(h(), authority, 'web-1', 45010);
    const one = await h().call('GET', `${authority}/detailed`, { token: h().tokens.viewer });
    expect(one.body).to.deep.include({ hostname: 'detail.example' });
    expect((one.body as { routes: unknown[] }).routes).to.have.length(1).and.to.have.nested.property('[0].hostname', 'web-1');
    const all = await h().call('GET', '/router/authorities/detailed?hostspec=detail.example:80', { token: h().tokens.viewer });
    expect(all.body).to.have.length(1).and.to.have.nested.property('[0].routes[0].port', 45010);
    expect((await h().call('GET', '/router/authorities/999999/detailed', { token: h().tokens.viewer })).status).to.equal(404);
  });

  it('serves the route map; updated_since keeps the authorities a route change touched', async () => {
    const a = await createAuthority(h(), 'map-a.example', 80);
    const b = await createAuthority(h(), 'map-b.example', 8080);
    await addRoute(h(), b, 'b-backend', 45020, true);
    const before = Math.floor(Date.now() / 1_000);
    const full = await h().call('GET', '/router/routes', { token: h().tokens.viewer });
    expect(full.status).to.equal(200);
    const map = full.body as Record<string, unknown>;
    expect(map['map-b.example:8080']).to.deep.equal([{ hostname: 'b-backend', port: 45020, secure_connection: true, weight: 100, state: 'ready' }]);
    expect(map['map-a.example:80']).to.deep.equal([]);
    expect(map.timestamp).to.be.a('number').within(before - 1, before + 5);
    await ageAuthorities(h());
    const since = Math.floor(Date.now() / 1_000) - 60;
    expect(Object.keys((await h().call('GET', `/router/routes?updated_since=${since}`, { token: h().tokens.viewer })).body as object)).to.deep.equal(['timestamp']);
    await addRoute(h(), a, 'a-backend', 45021);
    const changed = (await h().call('GET', `/router/routes?updated_since=${since}`, { token: h().tokens.viewer })).body as Record<string, unknown>;
    expect(Object.keys(changed).sort()).to.deep.equal(['map-a.example:80', 'timestamp']);
    const bad = await h().call('GET', '/router/routes?updated_since=yesterday', { token: h().tokens.viewer });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.include('updated_since');
    expect((await h().call('GET', '/router/routes?updated_since=1.5', { token: h().tokens.viewer })).status).to.equal(400);
  });

  it('bumps the authority on every route change (update, delete, clear)', async () => {
    const authority = await createAuthority(h(), 'bump.example', 80);
    const route = await addRoute(h(), authority, 'bump-backend', 45030);
    const since = Math.floor(Date.now() / 1_000) - 60;
    const touched = async (): Promise<boolean> =>
      Object.hasOwn((await h().call('GET', `/router/routes?updated_since=${since}`, { token: h().tokens.viewer })).body as object, 'bump.example:80');
    for (const change of [
      () => h().call('PUT', route, { token: h().tokens.admin, body: { secure_connection: true } }),
      () => h().call('DELETE', route, { token: h().tokens.admin }),
      () => h().call('DELETE', `${authority}/routes/clear`, { token: h().tokens.admin }),
    ]) {
      await ageAuthorities(h());
      expect(await touched()).to.equal(false);
      expect((await change()).status).to.equal(204);
      expect(await touched()).to.equal(true);
    }
  });

  it('leaves tombstones for renamed and deleted authorities, distinct, filtered by updated_since', async () => {
    const admin = h().tokens.admin;
    const renamed = await createAuthority(h(), 'old-name.example', 80);
    expect((await h().call('PUT', renamed, { token: admin, body: { hostname: 'new-name.example' } })).status).to.equal(204);
    const deleted = await createAuthority(h(), 'gone.example', 80);
    await addRoute(h(), deleted, 'gone-backend', 45040);
    expect((await h().call('DELETE', deleted, { token: admin })).status).to.equal(204);
    expect(await h().db.fork().count(RouterRouteSchema, { hostname: 'gone-backend' })).to.equal(0);
    // The same host:port created and deleted again: one tombstone in the feed.
    const again = await createAuthority(h(), 'gone.example', 80);
    expect((await h().call('DELETE', again, { token: admin })).status).to.equal(204);
    const feed = (await h().call('GET', '/router/routes/deleted', { token: h().tokens.viewer })).body as string[];
    expect(feed).to.include.members(['old-name.example:80', 'gone.example:80']);
    expect(feed.filter((k) => k === 'gone.example:80')).to.have.length(1);
    expect(feed).to.not.include('new-name.example:80');
    const future = Math.floor(Date.now() / 1_000) + 3_600;
    expect((await h().call('GET', `/router/routes/deleted?updated_since=${future}`, { token: h().tokens.viewer })).body).to.deep.equal([]);
    expect((await h().call('GET', '/router/routes/deleted?updated_since=-1', { token: h().tokens.viewer })).status).to.equal(400);
  });
});
