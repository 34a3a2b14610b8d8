import { expect } from 'chai';
import { cloudProviderRoutes } from '../../../http/routes/cloud-providers.js';
import { clusterRoutes } from '../../../http/routes/clusters.js';
import { CloudProviderSchema } from '../../../entities/clusters.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';
import type { AnyRoute } from '../../../http/route.js';

const routes = [...cloudProviderRoutes, ...clusterRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;

type Provider = { id: number; name: string; type: string; configuration: unknown };
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;
const fieldsOf = (body: unknown) => errorsOf(body).flatMap((e) => (e.field === undefined ? [] : [e.field]));

async function provider(h: ApiHarness, body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/cloud_providers', { token: h.tokens.admin, body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.headers.get('location')!;
}

forEachDatabase('Manager: cloud providers', routes, (h) => {
  it('creates a provider (201, Location), stores configuration as JSON text and decodes it on show and on list', async () => {
    const configuration = { region: 'us-east-1', zones: ['a', 'b'], spot: true };
    const location = await provider(h(), { name: 'aws-east', type: 'aws', configuration });
    expect(location).to.match(/^\/cloud_providers\/\d+$/);
    const id = Number(location.split('/').pop());
    const row = await h().db.fork().findOneOrFail(CloudProviderSchema, { id });
    expect(JSON.parse(row.configuration!)).to.deep.equal(configuration);
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.status).to.equal(200);
    expect(shown.body).to.deep.include({ id, name: 'aws-east', type: 'aws', configuration });
    const listed = await h().call('GET', '/cloud_providers', { token: h().tokens.viewer });
    expect(listed.status).to.equal(200);
    // Reference §3.10 listed the raw string; we decode everywhere.
    expect((listed.body as Provider[]).find((p) => p.id === id)?.configuration).to.deep.equal(configuration);
  });

  it('lists with a total and pages', async () => {
    for (const name of ['p1', 'p2', 'p3']) await provider(h(), { name, type: 'docker' });
    const page = await h().call('GET', '/cloud_providers?limit=2&offset=1', { token: h().tokens.viewer });
    expect(page.body as Provider[]).to.have.length(2);
    expect(Number(page.headers.get('x-total-count'))).to.be.at.least(3);
    expect((await h().call('GET', '/cloud_providers?limit=5000', { token: h().tokens.viewer })).status).to.equal(400);
  });

  it('shows a hand-written configuration that is not JSON as stored, and null as null', async () => {
    const em = h().db.fork();
    const raw = em.create(CloudProviderSchema, { name: 'legacy', type: 'misc', configuration: 'region=eu' });
    const none = em.create(CloudProviderSchema, { name: 'bare', type: 'misc', configuration: null });
    await em.flush();
    expect((await h().call('GET', `/cloud_providers/${raw.id}`, { token: h().tokens.viewer })).body).to.deep.include({ configuration: 'region=eu' });
    expect((await h().call('GET', `/cloud_providers/${none.id}`, { token: h().tokens.viewer })).body).to.deep.include({ configuration: null });
  });

  it('updates only the fields given (204, Location), and clears configuration with null', async () => {
    const location = await provider(h(), { name: 'gcp', type: 'gcp', configuration: { project: 'x' } });
    const res = await h().call('PUT', location, { token: h().tokens.admin, body: { name: 'gcp-eu' } });
    expect([res.status, res.headers.get('location')]).to.deep.equal([204, location]);
    expect((await h().call('GET', location, { token: h().tokens.admin })).body).to.deep.include({ name: 'gcp-eu', type: 'gcp', configuration: { project: 'x' } });
    expect((await h().call('PUT', location, { token: h().tokens.admin, body: { configuration: null } })).status).to.equal(204);
    expect((await h().call('GET', location, { token: h().tokens.admin })).body).to.deep.include({ configuration: null });
  });

  it('answers 400 naming the field for bad bodies and ids', async () => {
    const admin = h().tokens.admin;
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ type: 'aws' }, ['name']],
      [{ name: ' ', type: 'aws' }, ['name']],
      [{ name: 'a', type: 'aws', configuration: ['not', 'an', 'object'] }, ['configuration']],
      [{ name: 'a', type: 'aws', configuration: 'text' }, ['configuration']],
      [{ name: 'a', type: 'aws', configuration: { big: 'x'.repeat(70_000) } }, ['configuration']],
      [{ name: 'a', type: 'aws', extra: 1 }, ['extra']],
      [{ name: 'a\u0000', type: 'aws' }, ['name']],
    ];
    for (const [body, fields] of cases) {
      const res = await h().call('POST', '/cloud_providers', { token: admin, body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(400);
      expect(fieldsOf(res.body)).to.deep.equal(fields);
    }
    const location = await provider(h(), { name: 'v', type: 'aws' });
    const put = await h().call('PUT', location, { token: admin, body: { type: '' } });
    expect([put.status, fieldsOf(put.body)]).to.deep.equal([400, ['type']]);
    const badId = await h().call('GET', '/cloud_providers/abc', { token: admin });
    expect([badId.status, fieldsOf(badId.body)]).to.deep.equal([400, ['params.id']]);
  });

  it('answers 404 for an unknown id on every route', async () => {
    const admin = h().tokens.admin;
    for (const [method, path, body] of [
      ['GET', '/cloud_providers/999999', undefined],
      ['PUT', '/cloud_providers/999999', { name: 'x' }],
      ['DELETE', '/cloud_providers/999999', undefined],
      ['GET', '/cloud_providers/999999/clusters', undefined],
    ] as const) {
      const res = await h().call(method, path, { token: admin, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).to.equal(404);
      expect(errorsOf(res.body)[0]!.message).to.equal('CloudProvider was not found');
    }
  });

  it('answers 401 without a token and 403 to viewer and operator mutations', async () => {
    const location = await provider(h(), { name: 'guarded', type: 'aws' });
    expect((await h().call('GET', '/cloud_providers')).status).to.equal(401);
    expect((await h().call('GET', `${location}/clusters`)).status).to.equal(401);
    for (const token of [h().tokens.viewer, h().tokens.operator]) {
      expect((await h().call('POST', '/cloud_providers', { token, body: { name: 'n', type: 't' } })).status).to.equal(403);
      expect((await h().call('PUT', location, { token, body: { name: 'n' } })).status).to.equal(403);
      expect((await h().call('DELETE', location, { token })).status).to.equal(403);
    }
  });

  it('lists the clusters it hosts, refuses deletion with 409 while any remain, then deletes (204)', async () => {
    const location = await provider(h(), { name: 'hosting', type: 'aws' });
    const id = Number(location.split('/').pop());
    for (const token of ['hosted-1', 'hosted-2']) {
      expect((await h().call('POST', '/clusters', { token: h().tokens.admin, body: { etcd_token: token, hosting_provider_id: id } })).status).to.equal(201);
    }
    await h().call('POST', '/clusters', { token: h().tokens.admin, body: { etcd_token: 'not-hosted' } });
    const clusters = await h().call('GET', `${location}/clusters?limit=1`, { token: h().tokens.viewer });
    expect(clusters.status).to.equal(200);
    expect(clusters.headers.get('x-total-count')).to.equal('2');
    expect((clusters.body as Array<{ etcd_token: string }>).map((c) => c.etcd_token)).to.deep.equal(['hosted-1']);
    const refused = await h().call('DELETE', location, { token: h().tokens.admin });
    expect(refused.status).to.equal(409);
    expect(errorsOf(refused.body)[0]!.message).to.equal(`CloudProvider ${id} still hosts 2 cluster(s); move or delete them first`);
    for (const token of ['hosted-1', 'hosted-2']) await h().call('DELETE', `/clusters/${token}`, { token: h().tokens.admin });
    expect((await h().call('DELETE', location, { token: h().tokens.admin })).status).to.equal(204);
    expect((await h().call('GET', location, { token: h().tokens.admin })).status).to.equal(404);
  });
});
