import { expect } from 'chai';
import { authSourceRoutes } from '../../../http/routes/auth-sources.js';
import type { AnyRoute } from '../../../http/route.js';
import { AuthSourceSchema, AuthSourceUserSchema, UserSchema } from '../../../entities/auth.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

const routes = authSourceRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Errors = { errors: Array<{ message: string; field?: string }> };
const google = {
  name: 'Google',
  token_info_url: 'https://oauth2.googleapis.com/tokeninfo',
  email_field_name: 'email',
  first_name_field_name: 'given_name',
  last_name_field_name: 'family_name',
};

forEachDatabase('Manager: auth sources', routes, (h) => {
  it('lets viewers read and only admins change', async () => {
    expect((await h().call('GET', '/auth_sources')).status).to.equal(401);
    expect((await h().call('GET', '/auth_sources', { token: h().tokens.viewer })).status).to.equal(200);
    expect((await h().call('POST', '/auth_sources', { token: h().tokens.operator, body: google })).status).to.equal(403);
    expect((await h().call('DELETE', '/auth_sources/1', { token: h().tokens.viewer })).status).to.equal(403);
  });

  it('creates, shows, lists with a total, updates some fields and deletes a source', async () => {
    const admin = h().tokens.admin;
    const created = await h().call('POST', '/auth_sources', { token: admin, body: google });
    expect(created.status).to.equal(201);
    const location = created.headers.get('location')!;
    expect(location).to.match(/^\/auth_sources\/\d+$/);
    expect((await h().call('GET', location, { token: h().tokens.viewer })).body).to.deep.include(google);
    const listed = await h().call('GET', '/auth_sources?limit=5', { token: h().tokens.viewer });
    expect([listed.status, listed.headers.get('x-total-count')]).to.deep.equal([200, '1']);
    const updated = await h().call('PUT', location, { token: admin, body: { email_field_name: 'resource_owner/email' } });
    expect([updated.status, updated.headers.get('location')]).to.deep.equal([204, location]);
    expect((await h().call('GET', location, { token: admin })).body).to.deep.include({ ...google, email_field_name: 'resource_owner/email' });
    expect((await h().call('DELETE', location, { token: admin })).status).to.equal(204);
    expect((await h().call('GET', location, { token: admin })).status).to.equal(404);
  });

  it('deletes the user relations of a source, and keeps the users', async () => {
    const location = (await h().call('POST', '/auth_sources', { token: h().tokens.admin, body: { ...google, token_info_url: 'https://idp.example/rel' } })).headers.get('location')!;
    const sourceId = Number(location.split('/').pop());
    const em = h().db.fork();
    const user = em.create(UserSchema, { first_name: 'K', last_name: 'K', email: 'kept@example.com', role: 'viewer' });
    await em.flush();
    em.create(AuthSourceUserSchema, { auth_source_id: sourceId, user_id: user.id });
    await em.flush();
    expect((await h().call('DELETE', location, { token: h().tokens.admin })).status).to.equal(204);
    const after = h().db.fork();
    expect(await after.count(AuthSourceUserSchema, { auth_source_id: sourceId })).to.equal(0);
    expect(await after.count(UserSchema, { id: user.id })).to.equal(1);
    expect(await after.count(AuthSourceSchema, { id: sourceId })).to.equal(0);
  });

  it('answers 409 for a taken URL, 400 naming the field, 404 for an unknown id', async () => {
    const admin = h().tokens.admin;
    const body = { ...google, token_info_url: 'https://idp.example/dup' };
    const first = (await h().call('POST', '/auth_sources', { token: admin, body })).headers.get('location')!;
    expect((await h().call('POST', '/auth_sources', { token: admin, body })).status).to.equal(409);
    const second = (await h().call('POST', '/auth_sources', { token: admin, body: { ...body, token_info_url: 'https://idp.example/two' } })).headers.get('location')!;
    expect((await h().call('PUT', second, { token: admin, body: { token_info_url: body.token_info_url } })).status).to.equal(409);
    expect((await h().call('PUT', first, { token: admin, body: { token_info_url: body.token_info_url } })).status).to.equal(204);
    const bad = await h().call('POST', '/auth_sources', { token: admin, body: { ...google, token_info_url: 'short', email_field_name: 'a//b', name: '', other: 1 } });
    expect(bad.status).to.equal(400);
    expect((bad.body as Errors).errors.map((e) => e.field)).to.include.members(['token_info_url', 'email_field_name', 'name', 'other']);
    expect((await h().call('GET', '/auth_sources/abc', { token: admin })).status).to.equal(400);
    expect((await h().call('GET', '/auth_sources/999999', { token: admin })).status).to.equal(404);
    expect((await h().call('PUT', '/auth_sources/999999', { token: admin, body: { name: 'x' } })).status).to.equal(404);
    expect((await h().call('DELETE', '/auth_sources/999999', { token: admin })).status).to.equal(404);
  });
});
