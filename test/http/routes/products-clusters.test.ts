import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { EtcdClusterSchema, type EtcdCluster } from '../../../entities/clusters.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown, token = h.tokens.operator) {
  const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

forEachDatabase('Manager: product clusters', routes, (h) => {
  const links = '/products/shop/clusters';
  let east: EtcdCluster;
  let west: EtcdCluster;

  before(async () => {
    await expectStatus(h(), 201, 'POST', '/products', { name: 'shop' });
    await expectStatus(h(), 201, 'POST', '/products', { name: 'blog' });
    const em = h().db.fork();
    east = em.create(EtcdClusterSchema, { etcd_token: 'EastToken', name: 'east', hosting_provider_id: null, allow_docker_builds: true, messaging_exchange_id: null });
    west = em.create(EtcdClusterSchema, { etcd_token: 'west-token', name: 'west', hosting_provider_id: null, allow_docker_builds: false, messaging_exchange_id: null });
    await em.flush();
  });

  it('replaces the cluster set (201) and lists whole cluster objects (deliberate fix, reference §3.5)', async () => {
    expect((await expectStatus(h(), 200, 'GET', links)).body).to.deep.equal([]);
    const replaced = await expectStatus(h(), 201, 'POST', links, { clusters: [{ id: east.id, primary_ind: true }, { id: west.id }, { id: west.id }] });
    expect(replaced.headers.get('location')).to.equal(links);
    const listed = await expectStatus(h(), 200, 'GET', '/products/SHOP/clusters', undefined, h().tokens.viewer);
    expect(listed.headers.get('x-total-count')).to.equal('2');
    const [first, second] = listed.body as Array<Record<string, unknown>>;
    expect(Object.keys(first!)).to.deep.equal([
      'id', 'etcd_token', 'name', 'hosting_provider_id', 'allow_docker_builds', 'messaging_exchange_id', 'port_range_start', 'port_range_end', 'bind_address',
      'inserted_at', 'updated_at', 'primary_ind',
    ]);
    expect(first).to.deep.include({ id: east.id, etcd_token: 'EastToken', name: 'east', allow_docker_builds: true, primary_ind: true });
    expect(second).to.deep.include({ id: west.id, etcd_token: 'west-token', allow_docker_builds: false, primary_ind: null });
    await expectStatus(h(), 201, 'POST', links, { clusters: [{ id: west.id }] });
    expect(((await expectStatus(h(), 200, 'GET', links)).body as Array<{ id: number }>).map((c) => c.id)).to.deep.equal([west.id]);
    await expectStatus(h(), 204, 'DELETE', links);
    expect((await expectStatus(h(), 200, 'GET', links)).body).to.deep.equal([]);
  });

  it('lists the products of a cluster by its token, case-insensitively (reference §3.2)', async () => {
    await expectStatus(h(), 201, 'POST', links, { clusters: [{ id: east.id }] });
    await expectStatus(h(), 201, 'POST', '/products/blog/clusters', { clusters: [{ id: east.id }, { id: west.id }] });
    const products = await expectStatus(h(), 200, 'GET', '/clusters/easttoken/products', undefined, h().tokens.viewer);
    expect((products.body as Array<{ name: string }>).map((p) => p.name)).to.deep.equal(['shop', 'blog']);
    expect(Object.keys((products.body as object[])[0]!)).to.deep.equal(['id', 'name', 'inserted_at', 'updated_at']);
    expect(products.headers.get('x-total-count')).to.equal('2');
    const page = await expectStatus(h(), 200, 'GET', '/clusters/EASTTOKEN/products?limit=1&page=2');
    expect((page.body as Array<{ name: string }>).map((p) => p.name)).to.deep.equal(['blog']);
    expect(((await expectStatus(h(), 200, 'GET', '/clusters/west-token/products')).body as Array<{ name: string }>).map((p) => p.name)).to.deep.equal(['blog']);
    const missing = await expectStatus(h(), 404, 'GET', '/clusters/nope/products');
    expect(errorsOf(missing.body)[0]!.message).to.equal('EtcdCluster was not found');
    await expectStatus(h(), 400, 'GET', '/clusters/easttoken/products?limit=abc');
  });

  it('answers 400 naming unknown clusters (and changes nothing), 400 without `clusters`, 404 for an unknown product', async () => {
    await expectStatus(h(), 201, 'POST', links, { clusters: [{ id: east.id }] });
    const unknown = await expectStatus(h(), 400, 'POST', links, { clusters: [{ id: east.id }, { id: 424242 }, { id: 424243 }] });
    expect(errorsOf(unknown.body)[1]).to.deep.equal({ field: 'clusters', message: 'Cluster(s) [424242, 424243] could not be found.' });
    expect(((await expectStatus(h(), 200, 'GET', links)).body as Array<{ id: number }>).map((c) => c.id)).to.deep.equal([east.id]);
    expect(errorsOf((await expectStatus(h(), 400, 'POST', links, {})).body).map((e) => e.field)).to.include('clusters');
    await expectStatus(h(), 400, 'POST', links, { clusters: [{ id: 'east' }] });
    await expectStatus(h(), 400, 'POST', links, { clusters: [{ etcd_cluster_id: east.id }] });
    for (const [method, body] of [['GET', undefined], ['POST', { clusters: [] }], ['DELETE', undefined]] as const) {
      expect(errorsOf((await expectStatus(h(), 404, method, '/products/nope/clusters', body)).body)[0]!.message).to.equal('Product was not found');
    }
    await expectStatus(h(), 403, 'POST', links, { clusters: [] }, h().tokens.viewer);
    await expectStatus(h(), 201, 'POST', links, { clusters: [] });
    expect((await expectStatus(h(), 200, 'GET', links)).body).to.deep.equal([]);
  });
});
