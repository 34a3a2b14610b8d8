import { expect } from 'chai';
import { systemComponentRoutes } from '../../../http/routes/system-components.js';
import { OVERSEER_QUEUE, UPGRADE_REQUESTED } from '../../../actors/overseer/messages.js';
import { MessagingExchangeSchema } from '../../../entities/messaging.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type ApiHarness, type ApiResponse } from '../harness.js';

type Json = Record<string, unknown>;
const messages = (res: ApiResponse): string[] => (res.body as { errors: Array<{ message: string }> }).errors.map((e) => e.message);
const fields = (res: ApiResponse): Array<string | undefined> => (res.body as { errors: Array<{ field?: string }> }).errors.map((e) => e.field);

/** Takes every message waiting on `queue` of `exchangeId`. */
async function drain(h: ApiHarness, exchangeId: number, queue: string): Promise<Array<{ type: string; payload: unknown }>> {
  const got: Array<{ type: string; payload: unknown }> = [];
  const transport = h.broker.transport({ exchangeId, log: captureLogs().log });
  await transport.consume({
    queue,
    decode: (payload, type) => ({ ok: true, value: { type, payload } }),
    handle: async (m) => {
      got.push(m);
      return { type: 'ack' };
    },
  });
  await waitFor(`${queue} drained`, () => h.broker.depth({ exchangeId, queue }) === 0);
  await new Promise((resolve) => setImmediate(resolve));
  await transport.close();
  return got;
}

async function exchange(h: ApiHarness, name: string): Promise<number> {
  const em = h.db.fork();
  const row = em.create(MessagingExchangeSchema, { name, failover_exchange_id: null, parent_exchange_id: null, routing_key_fragment: null });
  await em.flush();
  return row.id;
}

const ref = (type: string): Json => ({ type, source_repo: 'OpenAperture/builder', source_repo_git_ref: 'abc123' });
const component = (exchangeId: number, type: string): Json => ({
  messaging_exchange_id: exchangeId,
  type,
  source_repo: 'OpenAperture/builder',
  source_repo_git_ref: 'v1',
  deployment_repo: 'acme/builder_docker',
  deployment_repo_git_ref: 'master',
  upgrade_strategy: 'hourly',
});

forEachDatabase('Manager: system component refs and components', systemComponentRoutes, (h) => {
  describe('refs (reference §3.6)', () => {
    it('creates, shows, lists, updates and deletes a ref keyed by type', async () => {
      const admin = h().tokens.admin;
      const created = await h().call('POST', '/system_component_refs', { token: admin, body: ref('builder') });
      expect([created.status, created.headers.get('location')]).to.deep.equal([201, '/system_component_refs/builder']);
      const shown = await h().call('GET', '/system_component_refs/builder', { token: h().tokens.viewer });
      expect(shown.body).to.deep.include({ type: 'builder', source_repo: 'OpenAperture/builder', source_repo_git_ref: 'abc123', auto_upgrade_enabled: true });
      const list = await h().call('GET', '/system_component_refs?limit=1', { token: h().tokens.viewer });
      expect([list.status, (list.body as Json[]).length, list.headers.get('x-total-count')]).to.deep.equal([200, 1, '1']);
      const put = await h().call('PUT', '/system_component_refs/builder', { token: admin, body: { ...ref('builder'), source_repo_git_ref: 'def456', auto_upgrade_enabled: false } });
      expect([put.status, put.headers.get('location')]).to.deep.equal([204, '/system_component_refs/builder']);
      expect((await h().call('GET', '/system_component_refs/builder', { token: admin })).body).to.deep.include({ source_repo_git_ref: 'def456', auto_upgrade_enabled: false });
      expect((await h().call('DELETE', '/system_component_refs/builder', { token: admin })).status).to.equal(204);
      expect((await h().call('GET', '/system_component_refs/builder', { token: admin })).status).to.equal(404);
      const spaced = await h().call('POST', '/system_component_refs', { token: admin, body: ref('odd type/1') });
      expect(spaced.headers.get('location')).to.equal('/system_component_refs/odd%20type%2F1');
      expect((await h().call('GET', spaced.headers.get('location')!, { token: admin })).body).to.deep.include({ type: 'odd type/1' });
    });

    it('answers 409 for a taken type, 400 naming the field, 404, 401 and 403', async () => {
      const admin = h().tokens.admin;
      await h().call('POST', '/system_component_refs', { token: admin, body: ref('deployer') });
      await h().call('POST', '/system_component_refs', { token: admin, body: ref('overseer') });
      expect((await h().call('POST', '/system_component_refs', { token: admin, body: ref('deployer') })).status).to.equal(409);
      expect((await h().call('PUT', '/system_component_refs/overseer', { token: admin, body: ref('deployer') })).status).to.equal(409);
      const bad = await h().call('POST', '/system_component_refs', { token: admin, body: { type: '', source_repo: 'x'.repeat(129), auto_upgrade_enabled: 'y' } });
      expect(bad.status).to.equal(400);
      expect(fields(bad)).to.include.members(['type', 'source_repo', 'source_repo_git_ref', 'auto_upgrade_enabled']);
      expect((await h().call('PUT', '/system_component_refs/overseer', { token: admin, body: { type: 'overseer' } })).status).to.equal(400);
      expect((await h().call('PUT', '/system_component_refs/nope', { token: admin, body: ref('nope') })).status).to.equal(404);
      expect((await h().call('DELETE', '/system_component_refs/nope', { token: admin })).status).to.equal(404);
      expect((await h().call('GET', '/system_component_refs')).status).to.equal(401);
      expect((await h().call('POST', '/system_component_refs', { token: h().tokens.operator, body: ref('x') })).status).to.equal(403);
      expect((await h().call('DELETE', '/system_component_refs/deployer', { token: h().tokens.viewer })).status).to.equal(403);
    });
  });

  describe('components (reference §3.7)', () => {
    it('creates, shows, lists (by type and by exchange), updates and deletes a component', async () => {
      const admin = h().tokens.admin;
      const zone = await exchange(h(), 'zone-a');
      const created = await h().call('POST', '/system_components', { token: admin, body: { ...component(zone, 'builder'), upgrade_status: { workflows: ['w1'] } } });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const location = created.headers.get('location')!;
      expect(location).to.match(/^\/system_components\/\d+$/);
      const shown = await h().call('GET', location, { token: h().tokens.viewer });
      expect(shown.body).to.deep.include({ messaging_exchange_id: zone, type: 'builder', upgrade_strategy: 'hourly', status: null, upgrade_status: { workflows: ['w1'] } });
      await h().call('POST', '/system_components', { token: admin, body: component(zone, 'deployer') });
      const byType = await h().call('GET', '/system_components?type=deployer', { token: h().tokens.viewer });
      expect((byType.body as Json[]).map((c) => c.type)).to.deep.equal(['deployer']);
      const ofZone = await h().call('GET', `/messaging/exchanges/${zone}/system_components?limit=1`, { token: h().tokens.viewer });
      expect([ofZone.status, (ofZone.body as Json[]).length, ofZone.headers.get('x-total-count')]).to.deep.equal([200, 1, '2']);
      const put = await h().call('PUT', location, { token: admin, body: { ...component(zone, 'builder'), status: 'upgrade_in_progress', upgrade_status: null } });
      expect([put.status, put.headers.get('location')]).to.deep.equal([204, location]);
      expect((await h().call('GET', location, { token: admin })).body).to.deep.include({ status: 'upgrade_in_progress', upgrade_status: null });
      expect((await h().call('DELETE', location, { token: admin })).status).to.equal(204);
      expect((await h().call('GET', location, { token: admin })).status).to.equal(404);
    });

    it('answers 409 for a type already in the exchange, 400 for an unknown exchange or bad field, 404, 401 and 403', async () => {
      const admin = h().tokens.admin;
      const zone = await exchange(h(), 'zone-b');
      const other = await exchange(h(), 'zone-c');
      const first = (await h().call('POST', '/system_components', { token: admin, body: component(zone, 'builder') })).headers.get('location')!;
      const second = (await h().call('POST', '/system_components', { token: admin, body: component(zone, 'overseer') })).headers.get('location')!;
      const dup = await h().call('POST', '/system_components', { token: admin, body: component(zone, 'builder') });
      expect([dup.status, messages(dup)]).to.deep.equal([409, [`A SystemComponent already exists with that identifier: type builder in exchange ${zone}`]]);
      expect((await h().call('POST', '/system_components', { token: admin, body: component(other, 'builder') })).status).to.equal(201);
      expect((await h().call('PUT', second, { token: admin, body: component(zone, 'builder') })).status).to.equal(409);
      expect((await h().call('PUT', first, { token: admin, body: component(zone, 'builder') })).status).to.equal(204);
      const unknown = await h().call('POST', '/system_components', { token: admin, body: component(999_999, 'builder') });
      expect([unknown.status, fields(unknown)]).to.deep.equal([400, [undefined, 'messaging_exchange_id']]);
      const bad = await h().call('POST', '/system_components', { token: admin, body: { ...component(zone, 'x'), upgrade_strategy: 'weekly', status: 'odd', deployment_repo: undefined } });
      expect(fields(bad)).to.include.members(['upgrade_strategy', 'status', 'deployment_repo']);
      expect((await h().call('GET', '/system_components/abc', { token: admin })).status).to.equal(400);
      expect((await h().call('GET', '/system_components/999999', { token: admin })).status).to.equal(404);
      expect((await h().call('PUT', '/system_components/999999', { token: admin, body: component(zone, 'x') })).status).to.equal(404);
      expect((await h().call('POST', '/system_components/999999/upgrade', { token: admin })).status).to.equal(404);
      expect((await h().call('GET', '/messaging/exchanges/999999/system_components', { token: admin })).status).to.equal(404);
      expect((await h().call('GET', '/system_components')).status).to.equal(401);
      expect((await h().call('POST', '/system_components', { token: h().tokens.operator, body: component(zone, 'x') })).status).to.equal(403);
      expect((await h().call('POST', `${first}/upgrade`, { token: h().tokens.operator })).status).to.equal(403);
    });

    it('asks the Overseer of the component\'s exchange for an upgrade (reference §3.7, §10A)', async () => {
      const admin = h().tokens.admin;
      const zone = await exchange(h(), 'zone-d');
      const location = (await h().call('POST', '/system_components', { token: admin, body: component(zone, 'builder') })).headers.get('location')!;
      const res = await h().call('POST', `${location}/upgrade`, { token: admin });
      expect(res.status).to.equal(204);
      expect(await drain(h(), zone, OVERSEER_QUEUE)).to.deep.equal([
        { type: UPGRADE_REQUESTED, payload: { action: 'upgrade_request', options: { component_type: 'builder' } } },
      ]);
      expect(await drain(h(), 1, OVERSEER_QUEUE)).to.deep.equal([]);
    });
  });

  it('documents its routes in /openapi.json', async () => {
    const paths = Object.keys(((await h().call('GET', '/openapi.json')).body as { paths: Json }).paths);
    expect(paths).to.include.members(['/system_component_refs/{type}', '/system_components/{id}/upgrade', '/messaging/exchanges/{id}/system_components']);
  });
});
