import { expect } from 'chai';
import { tokenIssuer } from '../../../http/auth.js';
import { systemEventRoutes } from '../../../http/routes/system-events.js';
import { EMAIL_REQUESTED, NOTIFICATIONS_EMAIL_QUEUE } from '../../../actors/notifications/messages.js';
import { UserSchema } from '../../../entities/auth.js';
import { SystemEventSchema } from '../../../entities/system.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type ApiHarness, type ApiResponse } from '../harness.js';

type Json = Record<string, unknown>;
const fields = (res: ApiResponse): Array<string | undefined> => (res.body as { errors: Array<{ field?: string }> }).errors.map((e) => e.field);

/** Takes every e-mail request waiting in exchange 1. */
async function drainEmails(h: ApiHarness): Promise<Array<{ type: string; payload: unknown }>> {
  const queue = NOTIFICATIONS_EMAIL_QUEUE;
  const got: Array<{ type: string; payload: unknown }> = [];
  const transport = h.broker.transport({ exchangeId: 1, log: captureLogs().log });
  await transport.consume({
    queue,
    decode: (payload, type) => ({ ok: true, value: { type, payload } }),
    handle: async (m) => {
      got.push(m);
      return { type: 'ack' };
    },
  });
  await waitFor(`${queue} drained`, () => h.broker.depth({ exchangeId: 1, queue }) === 0);
  await new Promise((resolve) => setImmediate(resolve));
  await transport.close();
  return got;
}

async function user(h: ApiHarness, email: string): Promise<number> {
  const em = h.db.fork();
  const row = em.create(UserSchema, { first_name: 'Ada', last_name: 'Lovelace', email, role: 'admin' });
  await em.flush();
  return row.id;
}

/** A token for a person, as http/external-auth.ts makes them (subject = e-mail); signed with the harness's secret. */
const personToken = async (email: string): Promise<string> =>
  (await tokenIssuer({ secret: 'x'.repeat(48), ttlSeconds: 600 }).issue({ subject: email, role: 'admin', kind: 'user' })).access_token;

async function post(h: ApiHarness, body: Json): Promise<ApiResponse> {
  return h.call('POST', '/system_events', { token: h.tokens.operator, body });
}

const idOf = (res: ApiResponse): number => Number(res.headers.get('location')!.split('/').pop());

forEachDatabase('Manager: system events', systemEventRoutes, (h) => {
  beforeEach(() => drainEmails(h()));

  it('creates an event (operator) and shows it with its data decoded', async () => {
    const created = await post(h(), { type: 'failed_unit', severity: 'warning', message: 'Unit shop@1 is in a failed state!', data: { unit_name: 'shop@1' } });
    expect(created.status).to.equal(201);
    expect(created.headers.get('location')).to.match(/^\/system_events\/\d+$/);
    const shown = await h().call('GET', created.headers.get('location')!, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ type: 'failed_unit', severity: 'warning', data: { unit_name: 'shop@1' }, assignee_id: null, dismissed_at: null });
    expect((shown.body as Json).inserted_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect((await post(h(), { type: 'bare', severity: 'error' })).status).to.equal(201);
  });

  it('answers 400 naming the field, 404, 401 and 403', async () => {
    const bad = await post(h(), { type: '', data: [1], unique: 'yes', other: 1 });
    expect(bad.status).to.equal(400);
    expect(fields(bad)).to.include.members(['type', 'severity', 'data', 'unique', 'other']);
    expect((await h().call('GET', '/system_events/abc', { token: h().tokens.viewer })).status).to.equal(400);
    expect((await h().call('GET', '/system_events/999999', { token: h().tokens.viewer })).status).to.equal(404);
    expect((await h().call('POST', '/system_events/999999/assign', { token: h().tokens.admin, body: { assignee_id: 1 } })).status).to.equal(404);
    expect((await h().call('POST', '/system_events/999999/dismiss', { token: h().tokens.admin, body: {} })).status).to.equal(404);
    expect((await h().call('GET', '/system_events')).status).to.equal(401);
    expect((await h().call('POST', '/system_events', { token: h().tokens.viewer, body: { type: 't', severity: 's' } })).status).to.equal(403);
    const id = idOf(await post(h(), { type: 'roles', severity: 'warning' }));
    expect((await h().call('POST', `/system_events/${id}/assign`, { token: h().tokens.operator, body: { assignee_id: 1 } })).status).to.equal(403);
    expect((await h().call('POST', `/system_events/${id}/dismiss`, { token: h().tokens.operator, body: {} })).status).to.equal(403);
  });

  it('de-duplicates unique events of the last hour by type and data (reference §3.8)', async () => {
    const type = 'docker_disk_space_percent';
    const data = { docker_disk_space_percent: 84, hostname: '10.0.0.5', etcd_token: 'abc123' };
    const first = await post(h(), { unique: true, type, severity: 'warning', data });
    expect(first.status).to.equal(201);
    const again = await post(h(), { unique: true, type, severity: 'warning', data: { etcd_token: 'abc123', hostname: '10.0.0.5', docker_disk_space_percent: 84 } });
    expect(again.status).to.equal(409);
    expect((await post(h(), { unique: true, type, severity: 'error', data: { ...data, docker_disk_space_percent: 91 } })).status).to.equal(201);
    expect((await post(h(), { unique: true, type, severity: 'warning' })).status, 'no data of its own').to.equal(409);
    expect((await post(h(), { type, severity: 'warning', data })).status, 'not unique').to.equal(201);
    expect((await post(h(), { unique: true, type: 'failed_unit_other', severity: 'warning', data })).status, 'another type').to.equal(201);
    // An hour later the same complaint is news again.
    await h().db.fork().nativeUpdate(SystemEventSchema, { type }, { inserted_at: new Date(Date.now() - 61 * 60_000) });
    expect((await post(h(), { unique: true, type, severity: 'warning', data })).status).to.equal(201);
  });

  it('keeps one of a storm of identical unique events posted at once', async () => {
    const body = { unique: true, type: 'storm', severity: 'warning', data: { host: 'h1' } };
    const results = await Promise.all(Array.from({ length: 30 }, () => post(h(), body)));
    expect(results.filter((r) => r.status === 201)).to.have.length(1);
    expect(results.filter((r) => r.status === 409)).to.have.length(29);
    expect(await h().db.fork().count(SystemEventSchema, { type: 'storm' })).to.equal(1);
  });

  it('lists the last 24 hours newest first by default, by lookback or by assignee (lookback wins), a page at a time', async () => {
    const type = `list-${Date.now()}`;
    const old = idOf(await post(h(), { type, severity: 'warning' }));
    const a = idOf(await post(h(), { type, severity: 'warning' }));
    const b = idOf(await post(h(), { type, severity: 'warning' }));
    const em = h().db.fork();
    await em.nativeUpdate(SystemEventSchema, { id: old }, { inserted_at: new Date(Date.now() - 30 * 3_600_000) });
    await em.nativeUpdate(SystemEventSchema, { id: a }, { inserted_at: new Date(Date.now() - 2 * 3_600_000) });
    const assignee = await user(h(), `list-${Date.now()}@example.com`);
    await em.nativeUpdate(SystemEventSchema, { id: { $in: [old, b] } }, { assignee_id: assignee });
    const ids = async (query: string): Promise<number[]> => {
      const res = await h().call('GET', `/system_events${query}`, { token: h().tokens.viewer });
      expect(res.status).to.equal(200);
      return (res.body as Json[]).filter((e) => e.type === type).map((e) => Number(e.id));
    };
    expect(await ids('')).to.deep.equal([b, a]);
    expect(await ids('?lookback=1')).to.deep.equal([b]);
    expect(await ids('?lookback=0&limit=1000')).to.deep.equal([b, a, old]);
    expect(await ids(`?assignee_id=${assignee}`)).to.deep.equal([b, old]);
    expect(await ids(`?lookback=1&assignee_id=${assignee + 1}`)).to.deep.equal([b]);
    const page = await h().call('GET', `/system_events?assignee_id=${assignee}&limit=1&offset=1`, { token: h().tokens.viewer });
    expect([(page.body as Json[]).map((e) => e.id), page.headers.get('x-total-count')]).to.deep.equal([[old], '2']);
    expect((await h().call('GET', '/system_events?assignee_id=x', { token: h().tokens.viewer })).status).to.equal(400);
  });

  it('assigns an event and asks Notifications to e-mail the assignee', async () => {
    const id = idOf(await post(h(), { type: 'assign', severity: 'error', message: 'Host 10.0.0.5 is full' }));
    const assignee = await user(h(), 'assignee@example.com');
    const res = await h().call('POST', `/system_events/${id}/assign`, { token: h().tokens.admin, body: { assignee_id: assignee } });
    expect([res.status, res.headers.get('location')]).to.deep.equal([204, `/system_events/${id}`]);
    const shown = (await h().call('GET', `/system_events/${id}`, { token: h().tokens.viewer })).body as Json;
    // An API client has no user row: assigned_by_id stays null and the audit trail names it.
    expect(shown).to.deep.include({ assignee_id: assignee, assigned_by_id: null });
    expect(shown.assigned_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(await drainEmails(h())).to.deep.equal([
      {
        type: EMAIL_REQUESTED,
        payload: {
          prefix: '[OpenAperture][SystemEvent]',
          message: `System event ${id} has been assigned to you: Host 10.0.0.5 is full.`,
          notifications: { email_addresses: ['assignee@example.com'] },
        },
      },
    ]);
    const person = 'lead@example.com';
    const lead = await user(h(), person);
    expect((await h().call('POST', `/system_events/${id}/assign`, { token: await personToken(person), body: { assignee_id: assignee } })).status).to.equal(204);
    expect((await h().call('GET', `/system_events/${id}`, { token: h().tokens.viewer })).body).to.deep.include({ assigned_by_id: lead });
    const unknown = await h().call('POST', `/system_events/${id}/assign`, { token: h().tokens.admin, body: { assignee_id: 999_999 } });
    expect([unknown.status, fields(unknown)]).to.deep.equal([400, [undefined, 'assignee_id']]);
    expect((await h().call('POST', `/system_events/${id}/assign`, { token: h().tokens.admin, body: {} })).status).to.equal(400);
  });

  it('dismisses an event, by the caller or a named user, and tells the assignee', async () => {
    const quiet = idOf(await post(h(), { type: 'dismiss', severity: 'warning' }));
    const res = await h().call('POST', `/system_events/${quiet}/dismiss`, { token: h().tokens.admin, body: { dismissed_reason: 'known issue' } });
    expect(res.status).to.equal(204);
    const shown = (await h().call('GET', `/system_events/${quiet}`, { token: h().tokens.viewer })).body as Json;
    expect(shown).to.deep.include({ dismissed_reason: 'known issue', dismissed_by_id: null });
    expect(shown.dismissed_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(await drainEmails(h()), 'nobody is assigned').to.deep.equal([]);

    const assigned = idOf(await post(h(), { type: 'dismiss', severity: 'warning' }));
    const assignee = await user(h(), 'owner@example.com');
    const by = await user(h(), 'closer@example.com');
    await h().call('POST', `/system_events/${assigned}/assign`, { token: h().tokens.admin, body: { assignee_id: assignee } });
    await drainEmails(h());
    expect((await h().call('POST', `/system_events/${assigned}/dismiss`, { token: h().tokens.admin, body: { dismissed_by_id: by } })).status).to.equal(204);
    expect((await h().call('GET', `/system_events/${assigned}`, { token: h().tokens.viewer })).body).to.deep.include({ dismissed_by_id: by, dismissed_reason: null });
    const emails = await drainEmails(h());
    expect(emails.map((e) => e.payload)).to.deep.equal([
      { prefix: '[OpenAperture][SystemEvent]', message: `System event ${assigned} is assigned to you and has been dismissed.`, notifications: { email_addresses: ['owner@example.com'] } },
    ]);
    const unknown = await h().call('POST', `/system_events/${assigned}/dismiss`, { token: h().tokens.admin, body: { dismissed_by_id: 999_999 } });
    expect([unknown.status, fields(unknown)]).to.deep.equal([400, [undefined, 'dismissed_by_id']]);
  });

  it('documents its routes in /openapi.json', async () => {
    const paths = Object.keys(((await h().call('GET', '/openapi.json')).body as { paths: Json }).paths);
    expect(paths).to.include.members(['/system_events', '/system_events/{id}', '/system_events/{id}/assign', '/system_events/{id}/dismiss']);
  });
});
