import { expect } from 'chai';
import { userRoutes } from '../../../http/routes/users.js';
import type { AnyRoute } from '../../../http/route.js';
import { AuthSourceSchema, AuthSourceUserSchema, UserSchema } from '../../../entities/auth.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

const routes = userRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Errors = { errors: Array<{ message: string; field?: string }> };
const ann = { first_name: 'Ann', last_name: 'Admin', email: 'ann@example.com' };

forEachDatabase('Manager: users', routes, (h) => {
  it('needs a token to read, and an admin to change', async () => {
    expect((await h().call('GET', '/users')).status).to.equal(401);
    expect((await h().call('GET', '/users/me')).status).to.equal(401);
    expect((await h().call('POST', '/users', { token: h().tokens.operator, body: ann })).status).to.equal(403);
    expect((await h().call('PUT', '/users/1', { token: h().tokens.viewer, body: { role: 'admin' } })).status).to.equal(403);
    expect((await h().call('DELETE', '/users/1', { token: h().tokens.viewer })).status).to.equal(403);
  });

  it('creates a user (viewer by default), shows, lists with a total, updates and deletes it', async () => {
    const admin = h().tokens.admin;
    const created = await h().call('POST', '/users', { token: admin, body: ann });
    expect(created.status).to.equal(201);
    const location = created.headers.get('location')!;
    const id = location.split('/').pop();
    expect(location).to.match(/^\/users\/\d+$/);
    expect(created.body).to.equal(`Created user ${id}`);
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ ...ann, role: 'viewer' });
    expect((shown.body as { inserted_at: string }).inserted_at).to.match(/^\d{4}-\d\d-\d\dT/);
    const listed = await h().call('GET', '/users?limit=1', { token: h().tokens.viewer });
    expect(listed.status).to.equal(200);
    expect(listed.headers.get('x-total-count')).to.equal('1');
    const updated = await h().call('PUT', location, { token: admin, body: { role: 'operator', last_name: 'Operator' } });
    expect([updated.status, updated.headers.get('location')]).to.deep.equal([204, location]);
    expect((await h().call('GET', location, { token: admin })).body).to.deep.include({ role: 'operator', last_name: 'Operator', first_name: 'Ann' });
    expect((await h().call('DELETE', location, { token: admin })).status).to.equal(204);
    expect((await h().call('GET', location, { token: admin })).status).to.equal(404);
  });

  it('deletes the relations of a deleted user', async () => {
    const em = h().db.fork();
    const source = em.create(AuthSourceSchema, { name: 's', token_info_url: 'https://idp.example/info', email_field_name: 'e', first_name_field_name: 'f', last_name_field_name: 'l' });
    const user = em.create(UserSchema, { first_name: 'R', last_name: 'R', email: 'related@example.com', role: 'viewer' });
    await em.flush();
    em.create(AuthSourceUserSchema, { auth_source_id: source.id, user_id: user.id });
    await em.flush();
    expect((await h().call('DELETE', `/users/${user.id}`, { token: h().tokens.admin })).status).to.equal(204);
    expect(await h().db.fork().count(AuthSourceUserSchema, { user_id: user.id })).to.equal(0);
  });

  it('answers 409 for a taken e-mail, 400 naming the field, 404 for an unknown id', async () => {
    const admin = h().tokens.admin;
    const body = { first_name: 'Bob', last_name: 'B', email: 'bob@example.com' };
    const bob = (await h().call('POST', '/users', { token: admin, body })).headers.get('location')!;
    expect((await h().call('POST', '/users', { token: admin, body })).status).to.equal(409);
    const carol = (await h().call('POST', '/users', { token: admin, body: { ...body, email: 'carol@example.com' } })).headers.get('location')!;
    expect((await h().call('PUT', carol, { token: admin, body: { email: 'bob@example.com' } })).status).to.equal(409);
    // Its own e-mail is no conflict.
    expect((await h().call('PUT', bob, { token: admin, body: { email: 'bob@example.com' } })).status).to.equal(204);
    const bad = await h().call('POST', '/users', { token: admin, body: { first_name: '', last_name: 'x', email: 'a@b', role: 'root', extra: 1 } });
    expect(bad.status).to.equal(400);
    expect((bad.body as Errors).errors.map((e) => e.field)).to.include.members(['first_name', 'email', 'role', 'extra']);
    expect((await h().call('PUT', bob, { token: admin, body: { role: 'superuser' } })).status).to.equal(400);
    expect((await h().call('GET', '/users/abc', { token: admin })).status).to.equal(400);
    expect((await h().call('GET', '/users/999999', { token: admin })).status).to.equal(404);
    expect((await h().call('PUT', '/users/999999', { token: admin, body: { role: 'admin' } })).status).to.equal(404);
    expect((await h().call('DELETE', '/users/999999', { token: admin })).status).to.equal(404);
  });

  it('answers /users/me with 404 for an API client, which is no user', async () => {
    const res = await h().call('GET', '/users/me', { token: h().tokens.viewer });
    expect(res.status).to.equal(404);
    expect((res.body as Errors).errors[0]!.message).to.equal('User was not found');
  });
});
