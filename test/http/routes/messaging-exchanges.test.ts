import { expect } from 'chai';
import { exchangeRoutes } from '../../../http/routes/messaging-exchanges.js';
import {
  MessagingBrokerSchema,
  MessagingExchangeBrokerSchema,
  MessagingExchangeModuleSchema,
  MessagingExchangeSchema,
} from '../../../entities/messaging.js';
import { forEachDatabase, type ApiHarness, type ApiResponse } from '../harness.js';

interface Problem {
  readonly message: string;
  readonly field?: string;
}
const problems = (res: ApiResponse): Problem[] => (res.body as { errors: Problem[] }).errors;
const fieldsOf = (res: ApiResponse): Array<string | undefined> => problems(res).map((p) => p.field);

/** Creates an exchange as admin; its id. */
async function exchange(h: ApiHarness, body: Record<string, unknown>): Promise<number> {
  const res = await h.call('POST', '/messaging/exchanges', { token: h.tokens.admin, body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return Number(res.headers.get('location')!.split('/').pop());
}

async function broker(h: ApiHarness, name: string): Promise<number> {
  const em = h.db.fork();
  const row = em.create(MessagingBrokerSchema, { name, failover_broker_id: null });
  await em.flush();
  return row.id;
}

forEachDatabase('Manager: messaging exchanges', exchangeRoutes, (h) => {
  describe('exchanges', () => {
    it('computes routing_key and root_exchange_name for seed 002 (AWS / US-EAST-1 -> aws.us-east-1)', async () => {
      const aws = await exchange(h(), { name: 'AWS', routing_key_fragment: 'aws' });
      const east = await exchange(h(), { name: 'US-EAST-1', parent_exchange_id: aws, routing_key_fragment: 'us-east-1' });
      const shown = await h().call('GET', `/messaging/exchanges/${east}`, { token: h().tokens.viewer });
      expect(shown.status).to.equal(200);
      expect(shown.body).to.deep.include({
        id: east,
        name: 'US-EAST-1',
        parent_exchange_id: aws,
        failover_exchange_id: null,
        routing_key_fragment: 'us-east-1',
        routing_key: 'aws.us-east-1',
        root_exchange_name: 'AWS',
      });
      expect((shown.body as { inserted_at: string }).inserted_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
      const root = await h().call('GET', `/messaging/exchanges/${aws}`, { token: h().tokens.viewer });
      expect(root.body).to.deep.include({ routing_key: 'aws', root_exchange_name: 'AWS' });
    });

    it('lists exchanges a page at a time, with the total and computed keys', async () => {
      await exchange(h(), { name: 'list-a' });
      const all = await h().call('GET', '/messaging/exchanges', { token: h().tokens.viewer });
      const total = Number(all.headers.get('x-total-count'));
      expect(all.status).to.equal(200);
      expect(all.body).to.have.length(total);
      expect((all.body as Array<{ name: string; routing_key: string }>).find((x) => x.name === 'list-a')).to.deep.include({ routing_key: '' });
      const page = await h().call('GET', '/messaging/exchanges?limit=1&page=2', { token: h().tokens.viewer });
      expect(page.body).to.have.length(1);
      expect(page.headers.get('x-total-count')).to.equal(String(total));
      expect((page.body as Array<{ id: number }>)[0]!.id).to.equal((all.body as Array<{ id: number }>)[1]!.id);
      expect((await h().call('GET', '/messaging/exchanges?limit=0', { token: h().tokens.viewer })).status).to.equal(400);
    });

    it('creates with 201 and Location; 409 for a taken name; 400 naming the field', async () => {
      const res = await h().call('POST', '/messaging/exchanges', { token: h().tokens.admin, body: { name: 'dup' } });
      expect(res.status).to.equal(201);
      expect(res.headers.get('location')).to.match(/^\/messaging\/exchanges\/\d+$/);
      expect((await h().call('POST', '/messaging/exchanges', { token: h().tokens.admin, body: { name: 'dup' } })).status).to.equal(409);
      const bad = await h().call('POST', '/messaging/exchanges', { token: h().tokens.admin, body: { name: '', colour: 'red', routing_key_fragment: 7 } });
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.include.members(['name', 'colour', 'routing_key_fragment']);
      expect((await h().call('POST', '/messaging/exchanges', { token: h().tokens.admin, raw: '{"name":' })).status).to.equal(400);
    });

    it('refuses a link to an unknown exchange (400 naming the field)', async () => {
      for (const field of ['parent_exchange_id', 'failover_exchange_id']) {
        const res = await h().call('POST', '/messaging/exchanges', { token: h().tokens.admin, body: { name: `dangling-${field}`, [field]: 424242 } });
        expect(res.status).to.equal(400);
        expect(problems(res)).to.deep.include({ field, message: `${field}: exchange 424242 does not exist` });
      }
    });

    it('refuses a parent link that would close a cycle, and an exchange that is its own parent or failover', async () => {
      const a = await exchange(h(), { name: 'cycle-a', routing_key_fragment: 'a' });
      const b = await exchange(h(), { name: 'cycle-b', parent_exchange_id: a, routing_key_fragment: 'b' });
      const c = await exchange(h(), { name: 'cycle-c', parent_exchange_id: b, routing_key_fragment: 'c' });
      const loop = await h().call('PUT', `/messaging/exchanges/${a}`, { token: h().tokens.admin, body: { parent_exchange_id: c } });
      expect(loop.status).to.equal(400);
      expect(problems(loop)[1]).to.deep.equal({ field: 'parent_exchange_id', message: `parent_exchange_id: exchange tree has a cycle (child -> parent): ${a} -> ${c} -> ${b} -> ${a}` });
      for (const field of ['parent_exchange_id', 'failover_exchange_id']) {
        const self = await h().call('PUT', `/messaging/exchanges/${b}`, { token: h().tokens.admin, body: { [field]: b } });
        expect(self.status).to.equal(400);
        expect(fieldsOf(self)).to.include(field);
      }
      // Nothing changed: the tree still routes.
      const shown = await h().call('GET', `/messaging/exchanges/${c}`, { token: h().tokens.viewer });
      expect(shown.body).to.deep.include({ routing_key: 'a.b.c', root_exchange_name: 'cycle-a' });
    });

    it('shows exchanges a cycle written around the API left unroutable, with null keys, and lets a PUT break it', async () => {
      const a = await exchange(h(), { name: 'legacy-a' });
      const b = await exchange(h(), { name: 'legacy-b', parent_exchange_id: a });
      await h().db.fork().nativeUpdate(MessagingExchangeSchema, { id: a }, { parent_exchange_id: b });
      const shown = await h().call('GET', `/messaging/exchanges/${a}`, { token: h().tokens.viewer });
      expect(shown.status).to.equal(200);
      expect(shown.body).to.deep.include({ routing_key: null, root_exchange_name: null });
      expect((await h().call('GET', '/messaging/exchanges', { token: h().tokens.viewer })).status).to.equal(200);
      expect(h().logs.some((l) => l.msg === 'exchange has no route' && l.exchangeId === a)).to.equal(true);
      expect((await h().call('PUT', `/messaging/exchanges/${a}`, { token: h().tokens.admin, body: { parent_exchange_id: null } })).status).to.equal(204);
      expect((await h().call('GET', `/messaging/exchanges/${b}`, { token: h().tokens.viewer })).body).to.deep.include({ root_exchange_name: 'legacy-a' });
    });

    it('allows mutual failover: failover links are followed one hop only (reference §4.5)', async () => {
      const east = await exchange(h(), { name: 'fo-east' });
      const west = await exchange(h(), { name: 'fo-west', failover_exchange_id: east });
      expect((await h().call('PUT', `/messaging/exchanges/${east}`, { token: h().tokens.admin, body: { failover_exchange_id: west } })).status).to.equal(204);
    });

    it('updates with 204: re-parents, keeps what the body leaves out, allows its own name, 409 for another name', async () => {
      const root = await exchange(h(), { name: 'upd-root', routing_key_fragment: 'r' });
      const id = await exchange(h(), { name: 'upd', routing_key_fragment: 'x' });
      await exchange(h(), { name: 'upd-other' });
      const res = await h().call('PUT', `/messaging/exchanges/${id}`, { token: h().tokens.admin, body: { name: 'upd', parent_exchange_id: root } });
      expect(res.status).to.equal(204);
      expect(res.headers.get('location')).to.equal(`/messaging/exchanges/${id}`);
      const shown = await h().call('GET', `/messaging/exchanges/${id}`, { token: h().tokens.viewer });
      expect(shown.body).to.deep.include({ name: 'upd', parent_exchange_id: root, routing_key_fragment: 'x', routing_key: 'r.x', root_exchange_name: 'upd-root' });
      const detached = await h().call('PUT', `/messaging/exchanges/${id}`, { token: h().tokens.admin, body: { parent_exchange_id: null } });
      expect(detached.status).to.equal(204);
      expect((await h().call('GET', `/messaging/exchanges/${id}`, { token: h().tokens.viewer })).body).to.deep.include({ routing_key: 'x', root_exchange_name: 'upd' });
      expect((await h().call('PUT', `/messaging/exchanges/${id}`, { token: h().tokens.admin, body: { name: 'upd-other' } })).status).to.equal(409);
      const bad = await h().call('PUT', `/messaging/exchanges/${id}`, { token: h().tokens.admin, body: { name: '  ', colour: 'red' } });
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.include.members(['name', 'colour']);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      const admin = h().tokens.admin;
      expect((await h().call('GET', '/messaging/exchanges/999999', { token: admin })).status).to.equal(404);
      expect((await h().call('PUT', '/messaging/exchanges/999999', { token: admin, body: { name: 'x' } })).status).to.equal(404);
      expect((await h().call('DELETE', '/messaging/exchanges/999999', { token: admin })).status).to.equal(404);
      const malformed = await h().call('GET', '/messaging/exchanges/1x', { token: admin });
      expect([malformed.status, fieldsOf(malformed)[1]]).to.deep.equal([400, 'params.id']);
    });

    it('answers 401 without a token and 403 to a viewer on every mutation', async () => {
      const id = await exchange(h(), { name: 'guarded' });
      const paths: Array<[string, string, unknown]> = [
        ['GET', '/messaging/exchanges', undefined],
        ['GET', `/messaging/exchanges/${id}`, undefined],
        ['GET', `/messaging/exchanges/${id}/brokers`, undefined],
        ['GET', `/messaging/exchanges/${id}/modules`, undefined],
        ['GET', `/messaging/exchanges/${id}/modules/h`, undefined],
      ];
      const mutations: Array<[string, string, unknown]> = [
        ['POST', '/messaging/exchanges', { name: 'nope' }],
        ['PUT', `/messaging/exchanges/${id}`, { name: 'nope' }],
        ['DELETE', `/messaging/exchanges/${id}`, undefined],
        ['POST', `/messaging/exchanges/${id}/brokers`, { messaging_broker_id: 1 }],
        ['DELETE', `/messaging/exchanges/${id}/brokers`, undefined],
        ['POST', `/messaging/exchanges/${id}/modules`, { hostname: 'h', type: 'builder', status: 'active' }],
        ['DELETE', `/messaging/exchanges/${id}/modules/h`, undefined],
      ];
      for (const [method, path, body] of [...paths, ...mutations]) {
        expect((await h().call(method, path, { body })).status, `${method} ${path}`).to.equal(401);
      }
      for (const [method, path, body] of mutations) {
        expect((await h().call(method, path, { token: h().tokens.viewer, body })).status, `${method} ${path}`).to.equal(403);
      }
      for (const [method, path, body] of mutations.filter(([, p]) => !p.includes('/modules'))) {
        expect((await h().call(method, path, { token: h().tokens.operator, body })).status, `${method} ${path}`).to.equal(403);
      }
    });

    it('deletes with the reference §2.1 cascade: links cleared, restrictions and modules deleted', async () => {
      const admin = h().tokens.admin;
      const doomed = await exchange(h(), { name: 'doomed', routing_key_fragment: 'd' });
      const child = await exchange(h(), { name: 'doomed-child', parent_exchange_id: doomed, routing_key_fragment: 'c' });
      const backup = await exchange(h(), { name: 'doomed-backup', failover_exchange_id: doomed });
      const b = await broker(h(), 'doomed-broker');
      expect((await h().call('POST', `/messaging/exchanges/${doomed}/brokers`, { token: admin, body: { messaging_broker_id: b } })).status).to.equal(201);
      const mod = { hostname: 'doomed-host', type: 'builder', status: 'active' };
      expect((await h().call('POST', `/messaging/exchanges/${doomed}/modules`, { token: admin, body: mod })).status).to.equal(201);
      expect((await h().call('DELETE', `/messaging/exchanges/${doomed}`, { token: admin })).status).to.equal(204);
      expect((await h().call('GET', `/messaging/exchanges/${doomed}`, { token: admin })).status).to.equal(404);
      const em = h().db.fork();
      expect(await em.findOneOrFail(MessagingExchangeSchema, { id: child })).to.deep.include({ parent_exchange_id: null });
      expect(await em.findOneOrFail(MessagingExchangeSchema, { id: backup })).to.deep.include({ failover_exchange_id: null });
      expect(await em.count(MessagingExchangeBrokerSchema, { messaging_exchange_id: doomed })).to.equal(0);
      expect(await em.count(MessagingExchangeModuleSchema, { messaging_exchange_id: doomed })).to.equal(0);
      expect(await em.count(MessagingBrokerSchema, { id: b })).to.equal(1);
      expect((await h().call('GET', `/messaging/exchanges/${child}`, { token: admin })).body).to.deep.include({ routing_key: 'c', root_exchange_name: 'doomed-child' });
    });

    it('on delete, detaches etcd_clusters and deletes system_components of the exchange once those tables exist', async () => {
      const conn = h().db.fork().getConnection();
      // Stand-ins with the reference §2 columns, for as long as the clusters and system changes have not landed.
      await conn.execute(`create table if not exists etcd_clusters (id serial primary key, etcd_token varchar(255) not null unique,
        messaging_exchange_id int null references messaging_exchanges(id), inserted_at timestamp not null, updated_at timestamp not null)`);
      await conn.execute(`create table if not exists system_components (id serial primary key, messaging_exchange_id int not null
        references messaging_exchanges(id), type varchar(255) not null, source_repo varchar(128) not null, source_repo_git_ref varchar(256) not null,
        deployment_repo varchar(128) not null, deployment_repo_git_ref varchar(256) not null, upgrade_strategy varchar(255) not null,
        inserted_at timestamp not null, updated_at timestamp not null)`);
      const id = await exchange(h(), { name: 'with-clusters' });
      await conn.execute('insert into etcd_clusters (etcd_token, messaging_exchange_id, inserted_at, updated_at) values (?, ?, now(), now())', ['tok-cascade', id]);
      await conn.execute(
        `insert into system_components (messaging_exchange_id, type, source_repo, source_repo_git_ref, deployment_repo, deployment_repo_git_ref,
         upgrade_strategy, inserted_at, updated_at) values (?, 'builder', 'oa/builder', 'main', 'oa/builder_docker', 'main', 'manual', now(), now())`,
        [id],
      );
      expect((await h().call('DELETE', `/messaging/exchanges/${id}`, { token: h().tokens.admin })).status).to.equal(204);
      const clusters = (await conn.execute('select messaging_exchange_id from etcd_clusters where etcd_token = ?', ['tok-cascade'])) as Array<{ messaging_exchange_id: number | null }>;
      expect(clusters).to.deep.equal([{ messaging_exchange_id: null }]);
      const components = (await conn.execute('select count(*)::int as n from system_components where messaging_exchange_id = ?', [id])) as Array<{ n: number }>;
      expect(components).to.deep.equal([{ n: 0 }]);
    });
  });

  describe('broker restrictions', () => {
    it('adds, lists (paginated) and deletes restrictions; Location names the exchange, not the new row', async () => {
      const admin = h().tokens.admin;
      const other = await exchange(h(), { name: 'restr-other' });
      const id = await exchange(h(), { name: 'restr' });
      const [b1, b2] = [await broker(h(), 'restr-b1'), await broker(h(), 'restr-b2')];
      // A row on another exchange first, so the new row's id differs from the exchange id.
      await h().call('POST', `/messaging/exchanges/${other}/brokers`, { token: admin, body: { messaging_broker_id: b1 } });
      const created = await h().call('POST', `/messaging/exchanges/${id}/brokers`, { token: admin, body: { messaging_broker_id: b1 } });
      expect(created.status).to.equal(201);
      // Deliberate fix (reference §3.3): the original put the restriction row's id here.
      expect(created.headers.get('location')).to.equal(`/messaging/exchanges/${id}/brokers`);
      await h().call('POST', `/messaging/exchanges/${id}/brokers`, { token: admin, body: { messaging_broker_id: b2 } });
      const listed = await h().call('GET', `/messaging/exchanges/${id}/brokers?limit=1`, { token: h().tokens.viewer });
      expect(listed.status).to.equal(200);
      expect(listed.headers.get('x-total-count')).to.equal('2');
      expect(listed.body).to.have.length(1);
      expect((listed.body as unknown[])[0]).to.deep.include({ messaging_exchange_id: id, messaging_broker_id: b1 });
      expect((await h().call('DELETE', `/messaging/exchanges/${id}/brokers`, { token: admin })).status).to.equal(204);
      const after = await h().call('GET', `/messaging/exchanges/${id}/brokers`, { token: admin });
      expect([after.body, after.headers.get('x-total-count')]).to.deep.equal([[], '0']);
      expect((await h().call('GET', `/messaging/exchanges/${other}/brokers`, { token: admin })).body).to.have.length(1);
    });

    it('answers 400 for an unknown broker, 409 for a duplicate, 404 for an unknown exchange', async () => {
      const admin = h().tokens.admin;
      const id = await exchange(h(), { name: 'restr-errors' });
      const b = await broker(h(), 'restr-errors-b');
      const unknown = await h().call('POST', `/messaging/exchanges/${id}/brokers`, { token: admin, body: { messaging_broker_id: 424242 } });
      expect(unknown.status).to.equal(400);
      expect(problems(unknown)).to.deep.include({ field: 'messaging_broker_id', message: 'messaging_broker_id: broker 424242 does not exist' });
      const wrongType = await h().call('POST', `/messaging/exchanges/${id}/brokers`, { token: admin, body: { messaging_broker_id: 'one' } });
      expect([wrongType.status, fieldsOf(wrongType)[1]]).to.deep.equal([400, 'messaging_broker_id']);
      expect((await h().call('POST', `/messaging/exchanges/${id}/brokers`, { token: admin, body: { messaging_broker_id: b } })).status).to.equal(201);
      expect((await h().call('POST', `/messaging/exchanges/${id}/brokers`, { token: admin, body: { messaging_broker_id: b } })).status).to.equal(409);
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await h().call(method, '/messaging/exchanges/999999/brokers', { token: admin, ...(method === 'POST' ? { body: { messaging_broker_id: b } } : {}) });
        expect([res.status, problems(res)[0]!.message], method).to.deep.equal([404, 'Exchange was not found']);
      }
    });
  });

  describe('modules', () => {
    const heartbeat = { hostname: 'builder-7f3a', type: 'builder', status: 'active', workload: [] };

    it('registers a module as an operator, with 201 and a Location naming the hostname', async () => {
      const id = await exchange(h(), { name: 'mods' });
      const res = await h().call('POST', `/messaging/exchanges/${id}/modules`, { token: h().tokens.operator, body: heartbeat });
      expect(res.status).to.equal(201);
      expect(res.headers.get('location')).to.equal(`/messaging/exchanges/${id}/modules/builder-7f3a`);
      const shown = await h().call('GET', res.headers.get('location')!, { token: h().tokens.viewer });
      expect(shown.status).to.equal(200);
      expect(shown.body).to.deep.include({ messaging_exchange_id: id, hostname: 'builder-7f3a', type: 'builder', status: 'active', workload: [], source_repo: null });
    });

    it('upserts by hostname: a second post replaces the row, workload stored as JSON and decoded', async () => {
      const id = await exchange(h(), { name: 'mods-upsert' });
      const path = `/messaging/exchanges/${id}/modules`;
      await h().call('POST', path, { token: h().tokens.operator, body: heartbeat });
      await h().call('POST', path, { token: h().tokens.operator, body: { ...heartbeat, hostname: 'deployer-1', type: 'deployer' } });
      const first = (await h().call('GET', `${path}/builder-7f3a`, { token: h().tokens.viewer })).body as { id: number };
      const workload = [{ workflow_id: 'w1', step: 'build' }];
      const again = { ...heartbeat, status: 'inactive', workload, source_repo: 'OpenAperture/builder', source_repo_git_ref: 'abc123' };
      expect((await h().call('POST', path, { token: h().tokens.operator, body: again })).status).to.equal(201);
      const listed = await h().call('GET', path, { token: h().tokens.viewer });
      expect(listed.headers.get('x-total-count')).to.equal('2');
      const rows = (listed.body as Array<{ id: number; hostname: string }>).filter((m) => m.hostname === 'builder-7f3a');
      expect(rows).to.have.length(1);
      expect(rows[0]).to.deep.include({ status: 'inactive', workload, source_repo: 'OpenAperture/builder', source_repo_git_ref: 'abc123' });
      expect(rows[0]!.id).to.not.equal(first.id);
      const stored = await h().db.fork().findOneOrFail(MessagingExchangeModuleSchema, { id: rows[0]!.id });
      expect(stored.workload).to.equal(JSON.stringify(workload));
      const paged = await h().call('GET', `${path}?limit=1&offset=1`, { token: h().tokens.viewer });
      expect((paged.body as Array<{ hostname: string }>).map((m) => m.hostname)).to.deep.equal(['builder-7f3a']);
    });

    it('deletes a module by hostname as an operator (the Overseer, reference §8.2); 404 after', async () => {
      const id = await exchange(h(), { name: 'mods-delete' });
      const path = `/messaging/exchanges/${id}/modules/builder-7f3a`;
      await h().call('POST', `/messaging/exchanges/${id}/modules`, { token: h().tokens.operator, body: heartbeat });
      expect((await h().call('DELETE', path, { token: h().tokens.operator })).status).to.equal(204);
      expect((await h().call('GET', path, { token: h().tokens.viewer })).status).to.equal(404);
      const again = await h().call('DELETE', path, { token: h().tokens.operator });
      expect([again.status, problems(again)[0]!.message]).to.deep.equal([404, 'ExchangeModule was not found']);
    });

    it('answers 400 naming the field, and 404 for an unknown exchange', async () => {
      const id = await exchange(h(), { name: 'mods-errors' });
      const bad = await h().call('POST', `/messaging/exchanges/${id}/modules`, { token: h().tokens.operator, body: { hostname: '', type: 'builder', status: 'asleep', extra: true } });
      expect(bad.status).to.equal(400);
      expect(fieldsOf(bad)).to.include.members(['hostname', 'status', 'extra']);
      const longRepo = await h().call('POST', `/messaging/exchanges/${id}/modules`, { token: h().tokens.operator, body: { ...heartbeat, source_repo: 'r'.repeat(129) } });
      expect(fieldsOf(longRepo)).to.include('source_repo');
      for (const [method, path] of [['GET', ''], ['POST', ''], ['GET', '/x'], ['DELETE', '/x']] as const) {
        const res = await h().call(method, `/messaging/exchanges/999999/modules${path}`, { token: h().tokens.operator, ...(method === 'POST' ? { body: heartbeat } : {}) });
        expect([res.status, problems(res)[0]!.message], `${method} ${path}`).to.deep.equal([404, 'Exchange was not found']);
      }
    });
  });

  it('documents every route in /openapi.json', async () => {
    const doc = await h().call('GET', '/openapi.json');
    const paths = Object.keys((doc.body as { paths: Record<string, unknown> }).paths);
    expect(paths).to.include.members([
      '/messaging/exchanges',
      '/messaging/exchanges/{id}',
      '/messaging/exchanges/{id}/brokers',
      '/messaging/exchanges/{id}/modules',
      '/messaging/exchanges/{id}/modules/{hostname}',
    ]);
  });
});
