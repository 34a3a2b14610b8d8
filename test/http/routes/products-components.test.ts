import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { EtcdClusterPortSchema, EtcdClusterSchema } from '../../../entities/clusters.js';
import { ProductComponentOptionSchema, ProductComponentSchema } from '../../../entities/products.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

interface ComponentJson {
  id: number;
  name: string;
  type: string;
  options: Array<{ product_component_id: number; name: string; value: string | null }>;
}

async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown, token = h.tokens.operator) {
  const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

forEachDatabase('Manager: product components', routes, (h) => {
  const base = '/products/shop/components';
  const web = { name: 'Web Front', type: 'web_server', options: [{ name: 'port', value: '80' }, { name: 'health', value: '/status' }] };

  before(async () => {
    await expectStatus(h(), 201, 'POST', '/products', { name: 'shop' });
  });

  it('creates a component with its options (201 + URL-encoded Location), shows and lists them', async () => {
    const created = await expectStatus(h(), 201, 'POST', base, web);
    expect(created.headers.get('location')).to.equal(`${base}/Web%20Front`);
    const shown = (await expectStatus(h(), 200, 'GET', `${base}/web%20FRONT`, undefined, h().tokens.viewer)).body as ComponentJson;
    expect(shown).to.deep.include({ name: 'Web Front', type: 'web_server' });
    expect(shown.options.map((o) => [o.name, o.value, o.product_component_id])).to.deep.equal([['port', '80', shown.id], ['health', '/status', shown.id]]);
    await expectStatus(h(), 201, 'POST', base, { name: 'db', type: 'db' });
    const listed = await expectStatus(h(), 200, 'GET', `${base}?limit=1&offset=1`, undefined, h().tokens.viewer);
    expect(listed.headers.get('x-total-count')).to.equal('2');
    expect((listed.body as ComponentJson[]).map((c) => [c.name, c.options.length])).to.deep.equal([['db', 0]]);
  });

  it('replaces a component on PUT, keeping its id and cluster ports (deliberate difference, reference §3.5)', async () => {
    const before = (await expectStatus(h(), 200, 'GET', `${base}/web%20front`)).body as ComponentJson;
    const em = h().db.fork();
    const cluster = em.create(EtcdClusterSchema, { etcd_token: 'components', name: null, hosting_provider_id: null, allow_docker_builds: null, messaging_exchange_id: null });
    await em.flush();
    em.create(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, product_component_id: before.id, port: 45000 });
    await em.flush();
    const replaced = await expectStatus(h(), 204, 'PUT', `${base}/WEB%20FRONT`, { name: 'web', type: 'web_server', options: [{ name: 'port', value: '8080' }] });
    expect(replaced.headers.get('location')).to.equal(`${base}/web`);
    await expectStatus(h(), 404, 'GET', `${base}/web%20front`);
    const after = (await expectStatus(h(), 200, 'GET', `${base}/web`)).body as ComponentJson;
    expect(after.id).to.equal(before.id);
    expect(after.options.map((o) => [o.name, o.value])).to.deep.equal([['port', '8080']]);
    expect(await h().db.fork().count(EtcdClusterPortSchema, { product_component_id: before.id })).to.equal(1);
  });

  it('deletes a component with its options and cluster ports, and all components at once', async () => {
    const web = (await expectStatus(h(), 200, 'GET', `${base}/web`)).body as ComponentJson;
    await expectStatus(h(), 204, 'DELETE', `${base}/WEB`);
    await expectStatus(h(), 404, 'GET', `${base}/web`);
    const em = h().db.fork();
    expect(await em.count(ProductComponentOptionSchema, { product_component_id: web.id })).to.equal(0);
    expect(await em.count(EtcdClusterPortSchema, { product_component_id: web.id })).to.equal(0);
    await expectStatus(h(), 201, 'POST', base, { name: 'worker', type: 'web_server', options: [{ name: 'a', value: 'b' }] });
    await expectStatus(h(), 204, 'DELETE', base);
    expect((await expectStatus(h(), 200, 'GET', base)).body).to.deep.equal([]);
    expect(await em.count(ProductComponentSchema, {})).to.equal(0);
    expect(await em.count(ProductComponentOptionSchema, {})).to.equal(0);
  });

  it('answers 400 naming the field, 404 and 409 (names compared case-insensitively)', async () => {
    const bad = await expectStatus(h(), 400, 'POST', base, { name: 'x', type: 'mainframe', options: [{ value: 'v' }] });
    expect(errorsOf(bad.body).map((e) => e.field)).to.include.members(['type', 'options[0].name']);
    await expectStatus(h(), 400, 'POST', base, { type: 'db' });
    await expectStatus(h(), 400, 'PUT', `${base}/any`, { name: 'x' });
    expect(errorsOf((await expectStatus(h(), 404, 'GET', '/products/nope/components')).body)[0]!.message).to.equal('Product was not found');
    const missing = await expectStatus(h(), 404, 'GET', `${base}/nope`);
    expect(errorsOf(missing.body)[0]!.message).to.equal('ProductComponent was not found');
    await expectStatus(h(), 404, 'PUT', `${base}/nope`, { name: 'nope', type: 'db' });
    await expectStatus(h(), 404, 'DELETE', `${base}/nope`);
    await expectStatus(h(), 404, 'DELETE', '/products/nope/components');
    await expectStatus(h(), 201, 'POST', base, { name: 'api', type: 'web_server' });
    await expectStatus(h(), 201, 'POST', base, { name: 'cache', type: 'db' });
    const conflict = await expectStatus(h(), 409, 'POST', base, { name: 'API', type: 'db' });
    expect(errorsOf(conflict.body)[0]!.message).to.match(/^A ProductComponent already exists with that identifier/);
    // Deliberate fix: the original let PUT rename onto another component's name, making both ambiguous.
    await expectStatus(h(), 409, 'PUT', `${base}/cache`, { name: 'Api', type: 'db' });
    await expectStatus(h(), 204, 'PUT', `${base}/cache`, { name: 'CACHE', type: 'db' });
    await expectStatus(h(), 403, 'DELETE', base, undefined, h().tokens.viewer);
  });
});
