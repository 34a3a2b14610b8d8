import { expect } from 'chai';
import { auditEventRoutes } from '../../../http/routes/audit-events.js';
import { authSourceRoutes } from '../../../http/routes/auth-sources.js';
import type { AnyRoute } from '../../../http/route.js';
import { AuditEventSchema } from '../../../entities/auth.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

const routes = [...auditEventRoutes, ...authSourceRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Event = { id: number; actor: string; action: string; target_type: string; target_id: string | null; diff: unknown; inserted_at: string };

forEachDatabase('Manager: audit events', routes, (h) => {
  before(async () => {
    // Two actors' events, one of them an hour old.
    const em = h().db.fork();
    em.create(AuditEventSchema, { actor: 'old-bot', actor_role: 'admin', action: 'DELETE /x/:id', target_type: 'X', target_id: '7', diff: null, inserted_at: new Date(Date.now() - 3_600_000) });
    await em.flush();
    for (const n of [1, 2, 3]) {
      const body = { name: `s${n}`, token_info_url: `https://idp.example/${n}`, email_field_name: 'e', first_name_field_name: 'f', last_name_field_name: 'l' };
      expect((await h().call('POST', '/auth_sources', { token: h().tokens.admin, body })).status).to.equal(201);
    }
  });

  it('is for admins only', async () => {
    expect((await h().call('GET', '/audit_events')).status).to.equal(401);
    expect((await h().call('GET', '/audit_events', { token: h().tokens.operator })).status).to.equal(403);
  });

  it('lists every mutation newest first, paginated with a total, its diff as JSON', async () => {
    const page = await h().call('GET', '/audit_events?limit=2', { token: h().tokens.admin });
    expect(page.status).to.equal(200);
    expect(page.headers.get('x-total-count')).to.equal('4');
    const events = page.body as Event[];
    // http/app.ts redacts every key that looks secret, `token_info_url` too.
    expect(events[0]!.diff).to.deep.equal({ name: 's3', token_info_url: '[secret]', email_field_name: 'e', first_name_field_name: 'f', last_name_field_name: 'l' });
    expect(events[0]!.id).to.be.above(events[1]!.id);
    expect(events[0]).to.deep.include({ actor: 'test-admin', action: 'POST /auth_sources', target_type: 'AuthSource' });
    const next = (await h().call('GET', '/audit_events?limit=2&page=2', { token: h().tokens.admin })).body as Event[];
    expect(next.map((e) => e.actor)).to.deep.equal(['test-admin', 'old-bot']);
  });

  it('filters by actor, target_type, target_id and since', async () => {
    const admin = h().tokens.admin;
    const byActor = await h().call('GET', '/audit_events?actor=old-bot', { token: admin });
    expect((byActor.body as Event[]).map((e) => e.target_id)).to.deep.equal(['7']);
    expect((await h().call('GET', '/audit_events?target_type=AuthSource', { token: admin })).headers.get('x-total-count')).to.equal('3');
    expect((await h().call('GET', '/audit_events?target_type=X&target_id=7', { token: admin })).body).to.have.length(1);
    const since = new Date(Date.now() - 600_000);
    const recent = await h().call('GET', `/audit_events?since=${encodeURIComponent(since.toISOString())}`, { token: admin });
    expect(recent.headers.get('x-total-count')).to.equal('3');
    const rfc1123 = since.toUTCString().replace('GMT', 'UTC');
    expect((await h().call('GET', `/audit_events?since=${encodeURIComponent(rfc1123)}`, { token: admin })).headers.get('x-total-count')).to.equal('3');
    expect((await h().call('GET', '/audit_events?actor=nobody', { token: admin })).body).to.deep.equal([]);
  });

  it('answers 400 naming the field for a bad filter', async () => {
    const admin = h().tokens.admin;
    const bad = await h().call('GET', '/audit_events?since=yesterday', { token: admin });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.include('query.since');
    expect((await h().call('GET', '/audit_events?since=2026-02-31T00:00:00Z', { token: admin })).status).to.equal(400);
    expect((await h().call('GET', '/audit_events?since=2026-02-28T10:00:00', { token: admin })).status, 'a time without its zone').to.equal(400);
    expect((await h().call('GET', '/audit_events?colour=red', { token: admin })).status).to.equal(400);
    expect((await h().call('GET', '/audit_events?limit=0', { token: admin })).status).to.equal(400);
  });
});
