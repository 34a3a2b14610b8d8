import { expect } from 'chai';
import { apiClientRoutes } from '../../../http/routes/api-clients.js';
import { statusRoutes } from '../../../http/routes/status.js';
import type { AnyRoute } from '../../../http/route.js';
import { ApiClientSchema } from '../../../entities/auth.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = [...statusRoutes, ...apiClientRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Errors = { errors: Array<{ message: string; field?: string }> };
type Credentials = { client_id: string; client_secret: string };

const tokenFor = (h: ApiHarness, c: Credentials) => h.call('POST', '/oauth/token', { body: { grant_type: 'client_credentials', ...c } });

forEachDatabase('Manager: API clients', routes, (h) => {
  it('is for admins only, reading too', async () => {
    expect((await h().call('GET', '/api_clients')).status).to.equal(401);
    expect((await h().call('GET', '/api_clients', { token: h().tokens.operator })).status).to.equal(403);
    expect((await h().call('POST', '/api_clients', { token: h().tokens.viewer, body: { name: 'x', role: 'viewer' } })).status).to.equal(403);
    expect((await h().call('POST', '/api_clients/1/secret', { token: h().tokens.operator })).status).to.equal(403);
    expect((await h().call('DELETE', '/api_clients/1', { token: h().tokens.operator })).status).to.equal(403);
  });

  it('creates a client whose secret is shown once and works at /oauth/token; lists without secrets', async () => {
    const created = await h().call('POST', '/api_clients', { token: h().tokens.admin, body: { name: 'CI', role: 'operator' } });
    expect(created.status).to.equal(201);
    const location = created.headers.get('location')!;
    expect(location).to.match(/^\/api_clients\/\d+$/);
    const creds = created.body as Credentials;
    expect(creds.client_id).to.match(/^oa-/);
    expect(creds.client_secret).to.have.length.above(30);
    const row = await h().db.fork().findOneOrFail(ApiClientSchema, { client_id: creds.client_id });
    expect(row.secret_hash).to.not.include(creds.client_secret);
    expect((await tokenFor(h(), creds)).status).to.equal(200);
    const listed = await h().call('GET', '/api_clients?limit=10', { token: h().tokens.admin });
    expect(listed.headers.get('x-total-count')).to.equal('4'); // with the harness's three test clients
    expect(JSON.stringify(listed.body)).to.not.include(creds.client_secret).and.to.not.include('secret_hash');
    expect((await h().call('GET', location, { token: h().tokens.admin })).body).to.deep.include({ client_id: creds.client_id, name: 'CI', role: 'operator', disabled_at: null });
  });

  it('disables and re-enables a client, rotates its secret, and deletes it', async () => {
    const admin = h().tokens.admin;
    const created = await h().call('POST', '/api_clients', { token: admin, body: { name: 'deployer', role: 'viewer', client_id: 'deployer-1' } });
    const location = created.headers.get('location')!;
    const creds = created.body as Credentials;
    expect(creds.client_id).to.equal('deployer-1');
    expect((await h().call('PUT', location, { token: admin, body: { disabled: true } })).status).to.equal(204);
    expect((await h().call('GET', location, { token: admin })).body).to.have.property('disabled_at').that.is.a('string');
    expect((await tokenFor(h(), creds)).status).to.equal(401);
    expect((await h().call('PUT', location, { token: admin, body: { disabled: false, role: 'operator' } })).status).to.equal(204);
    expect((await tokenFor(h(), creds)).status).to.equal(200);
    const rotated = await h().call('POST', `${location}/secret`, { token: admin });
    expect(rotated.status).to.equal(200);
    const fresh = rotated.body as Credentials;
    expect((await tokenFor(h(), creds)).status).to.equal(401);
    expect((await tokenFor(h(), fresh)).status).to.equal(200);
    expect((await h().call('DELETE', location, { token: admin })).status).to.equal(204);
    expect((await tokenFor(h(), fresh)).status).to.equal(401);
    expect((await h().call('GET', location, { token: admin })).status).to.equal(404);
  });

  it('never lets a client disable, demote or delete itself', async () => {
    const created = await h().call('POST', '/api_clients', { token: h().tokens.admin, body: { name: 'root', role: 'admin' } });
    const location = created.headers.get('location')!;
    const token = ((await tokenFor(h(), created.body as Credentials)).body as { access_token: string }).access_token;
    for (const [method, body] of [['PUT', { disabled: true }], ['PUT', { role: 'viewer' }], ['DELETE', undefined]] as const) {
      const res = await h().call(method, location, { token, ...(body === undefined ? {} : { body }) });
      expect(res.status, `${method} ${JSON.stringify(body)}`).to.equal(403);
    }
    expect((await h().call('PUT', location, { token, body: { name: 'still root' } })).status).to.equal(204);
  });

  it('answers 409 for a taken client_id, 400 naming the field, 404 for an unknown id', async () => {
    const admin = h().tokens.admin;
    await h().call('POST', '/api_clients', { token: admin, body: { name: 'a', role: 'viewer', client_id: 'taken' } });
    expect((await h().call('POST', '/api_clients', { token: admin, body: { name: 'b', role: 'viewer', client_id: 'taken' } })).status).to.equal(409);
    const bad = await h().call('POST', '/api_clients', { token: admin, body: { name: '', role: 'god', client_id: 'a b', secret_hash: 'x' } });
    expect(bad.status).to.equal(400);
    expect((bad.body as Errors).errors.map((e) => e.field)).to.include.members(['name', 'role', 'client_id', 'secret_hash']);
    expect((await h().call('PUT', '/api_clients/1', { token: admin, body: { disabled: 'yes' } })).status).to.equal(400);
    expect((await h().call('GET', '/api_clients/999999', { token: admin })).status).to.equal(404);
    expect((await h().call('PUT', '/api_clients/999999', { token: admin, body: { name: 'x' } })).status).to.equal(404);
    expect((await h().call('POST', '/api_clients/999999/secret', { token: admin })).status).to.equal(404);
    expect((await h().call('DELETE', '/api_clients/999999', { token: admin })).status).to.equal(404);
  });

  it('keeps generated secrets out of the audit trail', async () => {
    const created = await h().call('POST', '/api_clients', { token: h().tokens.admin, body: { name: 'audited', role: 'viewer' } });
    const rotated = await h().call('POST', `${created.headers.get('location')!}/secret`, { token: h().tokens.admin });
    const events = await h().call('GET', '/api_clients', { token: h().tokens.admin });
    expect(events.status).to.equal(200);
    const trail = JSON.stringify(await h().db.fork().getConnection().execute('select * from audit_events'));
    expect(trail).to.not.include((created.body as Credentials).client_secret).and.to.not.include((rotated.body as Credentials).client_secret);
  });
});
