import { expect } from 'chai';
import { hashSecret } from '../../../http/auth.js';
import { brokerRoutes } from '../../../http/routes/messaging-brokers.js';
import { statusRoutes } from '../../../http/routes/status.js';
import { ApiClientSchema, AuditEventSchema } from '../../../entities/auth.js';
import { MessagingBrokerConnectionSchema } from '../../../entities/messaging.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';
import type { AnyRoute } from '../../../http/route.js';

const routes = [...statusRoutes, ...brokerRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;

forEachDatabase('Manager: status, tokens and brokers', routes, (h) => {
  it('answers GET /status without a token', async () => {
    const res = await h().call('GET', '/status');
    expect([res.status, res.body]).to.deep.equal([200, '']);
  });

  it('issues a token to an API client for its client credentials, and refuses a wrong secret', async () => {
    const em = h().db.fork();
    em.create(ApiClientSchema, { client_id: 'ci-bot', name: 'CI', secret_hash: hashSecret('s3cret'), role: 'operator', disabled_at: null });
    await em.flush();
    const good = await h().call('POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: 'ci-bot', client_secret: 's3cret' } });
    expect(good.status).to.equal(200);
    const { access_token } = good.body as { access_token: string };
    expect((await h().call('GET', '/messaging/brokers', { token: access_token })).status).to.equal(200);
    const bad = await h().call('POST', '/oauth/token', { body: { grant_type: 'client_credentials', client_id: 'ci-bot', client_secret: 'nope' } });
    expect(bad.status).to.equal(401);
    const form = await h().call('POST', '/oauth/token', { raw: 'grant_type=client_credentials&client_id=ci-bot&client_secret=s3cret', contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).to.equal(200);
  });

  it('refuses a missing or forged token with 401, and a viewer mutation with 403', async () => {
    expect((await h().call('GET', '/messaging/brokers')).status).to.equal(401);
    expect((await h().call('GET', '/messaging/brokers', { token: 'forged.jwt.value' })).status).to.equal(401);
    const res = await h().call('POST', '/messaging/brokers', { token: h().tokens.viewer, body: { name: 'b' } });
    expect(res.status).to.equal(403);
    expect((res.body as { errors: Array<{ message: string }> }).errors[0]!.message).to.match(/role viewer may not create a broker \(needs admin\)/);
  });

  it('creates, shows, lists (with a total), renames and deletes a broker', async () => {
    const admin = h().tokens.admin;
    const created = await h().call('POST', '/messaging/brokers', { token: admin, body: { name: 'east' } });
    expect(created.status).to.equal(201);
    const location = created.headers.get('location')!;
    expect(location).to.match(/^\/messaging\/brokers\/\d+$/);
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ name: 'east', failover_broker_id: null });
    expect((shown.body as { inserted_at: string }).inserted_at).to.match(/^\d{4}-\d\d-\d\dT/);
    const listed = await h().call('GET', '/messaging/brokers?limit=1', { token: h().tokens.viewer });
    expect(listed.headers.get('x-total-count')).to.equal('1');
    // Deliberate fix (reference §10.1 item 6): PUT with the broker's own name is not a conflict.
    expect((await h().call('PUT', location, { token: admin, body: { name: 'east' } })).status).to.equal(204);
    expect((await h().call('DELETE', location, { token: admin })).status).to.equal(204);
    expect((await h().call('GET', location, { token: admin })).status).to.equal(404);
  });

  it('answers 409 for a taken name, 400 naming the field, 404 for an unknown id', async () => {
    const admin = h().tokens.admin;
    await h().call('POST', '/messaging/brokers', { token: admin, body: { name: 'west' } });
    expect((await h().call('POST', '/messaging/brokers', { token: admin, body: { name: 'west' } })).status).to.equal(409);
    const bad = await h().call('POST', '/messaging/brokers', { token: admin, body: { name: '', extra: 1 } });
    expect(bad.status).to.equal(400);
    const fields = (bad.body as { errors: Array<{ field?: string }> }).errors.map((e) => e.field);
    expect(fields).to.include.members(['name', 'extra']);
    const badId = await h().call('GET', '/messaging/brokers/abc', { token: admin });
    expect(badId.status).to.equal(400);
    expect(JSON.stringify(badId.body)).to.include('params.id');
    expect((await h().call('GET', '/messaging/brokers/999999', { token: admin })).status).to.equal(404);
    const noFailover = await h().call('POST', '/messaging/brokers', { token: admin, body: { name: 'north', failover_broker_id: 424242 } });
    expect(noFailover.status).to.equal(400);
    expect(JSON.stringify(noFailover.body)).to.include('failover_broker_id: broker 424242 does not exist');
    const badJson = await h().call('POST', '/messaging/brokers', { token: admin, raw: '{"name":', contentType: 'application/json' });
    expect(badJson.status).to.equal(400);
  });

  it('stores connection passwords sealed, keeps the port and key name, and shows passwords to admins only', async () => {
    const admin = h().tokens.admin;
    const broker = (await h().call('POST', '/messaging/brokers', { token: admin, body: { name: 'secure' } })).headers.get('location')!;
    const created = await h().call('POST', `${broker}/connections`, { token: admin, body: { username: 'oa', password: 'hunter2', host: '10.0.0.1', port: 5673 } });
    expect(created.status).to.equal(201);
    const row = await h().db.fork().findOneOrFail(MessagingBrokerConnectionSchema, { username: 'oa', host: '10.0.0.1' });
    expect(row.password).to.not.include('hunter2');
    expect(h().secrets.open(row.password)).to.equal('hunter2');
    expect(row.password_keyname).to.equal('test');
    expect(row.port).to.equal(5673);
    const asAdmin = await h().call('GET', `${broker}/connections`, { token: admin });
    expect((asAdmin.body as Array<{ password: string | null }>)[0]!.password).to.equal('hunter2');
    const asViewer = await h().call('GET', `${broker}/connections`, { token: h().tokens.viewer });
    expect((asViewer.body as Array<{ password: string | null }>)[0]!.password).to.equal(null);
    expect(JSON.stringify(asViewer.body)).to.not.include('hunter2');
  });

  it('writes an audit event for every mutation, without secrets', async () => {
    const admin = h().tokens.admin;
    const broker = (await h().call('POST', '/messaging/brokers', { token: admin, body: { name: 'audited' } })).headers.get('location')!;
    await h().call('POST', `${broker}/connections`, { token: admin, body: { username: 'oa', password: 'topsecret', host: 'h' } });
    const id = broker.split('/').pop()!;
    const events = await h().db.fork().find(AuditEventSchema, { target_id: id }, { orderBy: { id: 'asc' } });
    const mine = events.filter((e) => e.action.startsWith('POST'));
    expect(mine.map((e) => e.action)).to.deep.equal(['POST /messaging/brokers', 'POST /messaging/brokers/:id/connections']);
    expect(mine.map((e) => [e.actor, e.actor_role])).to.deep.equal([['test-admin', 'admin'], ['test-admin', 'admin']]);
    expect(mine.map((e) => e.diff).join()).to.not.include('topsecret');
    expect(mine[1]!.diff).to.include('"password":"[secret]"');
  });
});
