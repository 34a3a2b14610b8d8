import { expect } from 'chai';
import { clusterPortRoutes } from '../../../http/routes/cluster-ports.js';
import { clusterRoutes } from '../../../http/routes/clusters.js';
import { cloudProviderRoutes } from '../../../http/routes/cloud-providers.js';
import { ClusterHostSchema, EtcdClusterPortSchema, EtcdClusterSchema } from '../../../entities/clusters.js';
import { MessagingExchangeSchema } from '../../../entities/messaging.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';
import type { AnyRoute } from '../../../http/route.js';

const routes = [...clusterRoutes, ...clusterPortRoutes, ...cloudProviderRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;

type Cluster = { id: number; etcd_token: string; allow_docker_builds: boolean | null; messaging_exchange_id: number | null };
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;
const fieldsOf = (body: unknown) => errorsOf(body).flatMap((e) => (e.field === undefined ? [] : [e.field]));

async function exchange(h: ApiHarness, name: string): Promise<number> {
  const em = h.db.fork();
  const row = em.create(MessagingExchangeSchema, { name, failover_exchange_id: null, parent_exchange_id: null, routing_key_fragment: null });
  await em.flush();
  return row.id;
}

async function register(h: ApiHarness, body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/clusters', { token: h.tokens.admin, body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.headers.get('location')!;
}

forEachDatabase('Manager: clusters', routes, (h) => {
  it('registers a cluster: 201, Location by token, "Registered id <id>", then shows it by any case of the token', async () => {
    const res = await h().call('POST', '/clusters', { token: h().tokens.admin, body: { etcd_token: 'Tok-A1', name: 'first', allow_docker_builds: true } });
    expect(res.status).to.equal(201);
    expect(res.headers.get('location')).to.equal('/clusters/Tok-A1');
    const row = await h().db.fork().findOneOrFail(EtcdClusterSchema, { etcd_token: 'Tok-A1' });
    expect(res.body).to.equal(`Registered id ${row.id}`);
    const shown = await h().call('GET', '/clusters/tok-a1', { token: h().tokens.viewer });
    expect(shown.status).to.equal(200);
    expect(shown.body).to.deep.include({ id: row.id, etcd_token: 'Tok-A1', name: 'first', hosting_provider_id: null, allow_docker_builds: true, messaging_exchange_id: null });
    expect((shown.body as { inserted_at: string }).inserted_at).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('lists clusters with a total and filters on allow_docker_builds', async () => {
    await register(h(), { etcd_token: 'list-build', allow_docker_builds: true });
    await register(h(), { etcd_token: 'list-nobuild', allow_docker_builds: false });
    await register(h(), { etcd_token: 'list-unset' });
    const all = await h().call('GET', '/clusters?limit=2', { token: h().tokens.viewer });
    expect(all.status).to.equal(200);
    expect(all.body as Cluster[]).to.have.length(2);
    expect(Number(all.headers.get('x-total-count'))).to.be.at.least(3);
    const builds = (await h().call('GET', '/clusters?allow_docker_builds=true', { token: h().tokens.viewer })).body as Cluster[];
    expect(builds.map((c) => c.etcd_token)).to.include('list-build').and.not.include.members(['list-nobuild', 'list-unset']);
    const others = (await h().call('GET', '/clusters?allow_docker_builds=false', { token: h().tokens.viewer })).body as Cluster[];
    expect(others.map((c) => c.etcd_token)).to.include.members(['list-nobuild', 'list-unset']).and.not.include('list-build');
    const bad = await h().call('GET', '/clusters?allow_docker_builds=yes', { token: h().tokens.viewer });
    expect(bad.status).to.equal(400);
    expect(errorsOf(bad.body).map((e) => e.field)).to.include('query.allow_docker_builds');
  });

  it('keeps port settings: range 20000-29999 and the hosts\' own bind address unless given; PUT changes them', async () => {
    const location = await register(h(), { etcd_token: 'settings' });
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ port_range_start: 20_000, port_range_end: 29_999, bind_address: null });
    const put = await h().call('PUT', location, { token: h().tokens.admin, body: { port_range_start: 61_000, port_range_end: 65_535, bind_address: '127.0.0.1', name: 'renamed' } });
    expect(put.status, JSON.stringify(put.body)).to.equal(204);
    expect(put.headers.get('location')).to.equal(location);
    const changed = await h().call('GET', location, { token: h().tokens.viewer });
    expect(changed.body).to.deep.include({ etcd_token: 'settings', name: 'renamed', port_range_start: 61_000, port_range_end: 65_535, bind_address: '127.0.0.1' });
    expect((await h().call('PUT', location, { token: h().tokens.admin, body: { bind_address: null } })).status).to.equal(204);
    expect((await h().call('GET', location, { token: h().tokens.viewer })).body).to.deep.include({ bind_address: null, port_range_start: 61_000 });
    const created = await register(h(), { etcd_token: 'settings-2', port_range_start: 40_000, port_range_end: 40_099, bind_address: '::1' });
    expect((await h().call('GET', created, { token: h().tokens.viewer })).body).to.deep.include({ port_range_start: 40_000, port_range_end: 40_099, bind_address: '::1' });
  });

  it('refuses bad port settings naming the field: an empty range, a privileged port, an address that is no IP', async () => {
    const location = await register(h(), { etcd_token: 'bad-settings', port_range_start: 30_000, port_range_end: 30_010 });
    const empty = await h().call('PUT', location, { token: h().tokens.admin, body: { port_range_end: 29_000 } });
    expect(empty.status).to.equal(400);
    expect(errorsOf(empty.body).map((e) => e.message)).to.include('port_range_end: the range 30000-29000 is empty (port_range_start must not be above port_range_end)');
    const start = await h().call('PUT', location, { token: h().tokens.admin, body: { port_range_start: 31_000 } });
    expect(fieldsOf(start.body)).to.deep.equal(['port_range_start']);
    const bad = await h().call('POST', '/clusters', { token: h().tokens.admin, body: { etcd_token: 'bad-2', port_range_start: 80, port_range_end: 70_000, bind_address: 'localhost' } });
    expect(bad.status).to.equal(400);
    expect(fieldsOf(bad.body)).to.deep.equal(['port_range_start', 'port_range_end', 'bind_address']);
    expect((await h().call('PUT', location, { token: h().tokens.admin, body: { etcd_token: 'renamed' } })).status).to.equal(400);
    expect((await h().call('PUT', location, { token: h().tokens.operator, body: { name: 'x' } })).status).to.equal(403);
    expect((await h().call('PUT', '/clusters/no-such', { token: h().tokens.admin, body: { name: 'x' } })).status).to.equal(404);
  });

  it('answers 401 without a token and 403 to a viewer or operator mutation', async () => {
    expect((await h().call('GET', '/clusters')).status).to.equal(401);
    expect((await h().call('GET', '/clusters/x/ports')).status).to.equal(401);
    expect((await h().call('POST', '/clusters', { token: h().tokens.viewer, body: { etcd_token: 'v' } })).status).to.equal(403);
    expect((await h().call('POST', '/clusters', { token: h().tokens.operator, body: { etcd_token: 'o' } })).status).to.equal(403);
    await register(h(), { etcd_token: 'guarded' });
    expect((await h().call('DELETE', '/clusters/guarded', { token: h().tokens.viewer })).status).to.equal(403);
  });

  it('answers 409 for a taken token in any case, where the original answered 500', async () => {
    await register(h(), { etcd_token: 'dup-token' });
    const same = await h().call('POST', '/clusters', { token: h().tokens.admin, body: { etcd_token: 'dup-token' } });
    expect(same.status).to.equal(409);
    expect(errorsOf(same.body)[0]!.message).to.match(/A EtcdCluster already exists with that identifier/);
    expect((await h().call('POST', '/clusters', { token: h().tokens.admin, body: { etcd_token: 'DUP-TOKEN' } })).status).to.equal(409);
  });

  it('answers 400 naming each bad field, and for links to a missing provider or exchange', async () => {
    const admin = h().tokens.admin;
    const missing = await h().call('POST', '/clusters', { token: admin, body: { name: 'x', extra: 1 } });
    expect(missing.status).to.equal(400);
    expect(errorsOf(missing.body).map((e) => e.field)).to.include.members(['etcd_token', 'extra']);
    const chars = await h().call('POST', '/clusters', { token: admin, body: { etcd_token: 'a/b c' } });
    expect(errorsOf(chars.body).map((e) => e.field)).to.deep.equal([undefined, 'etcd_token']);
    const types = await h().call('POST', '/clusters', { token: admin, body: { etcd_token: 't', allow_docker_builds: 'yes', hosting_provider_id: -1 } });
    expect(errorsOf(types.body).map((e) => e.field)).to.include.members(['allow_docker_builds', 'hosting_provider_id']);
    const links = await h().call('POST', '/clusters', { token: admin, body: { etcd_token: 'links', hosting_provider_id: 9999, messaging_exchange_id: 9999 } });
    expect(links.status).to.equal(400);
    expect(JSON.stringify(links.body)).to.include('Invalid Cloud Provider').and.include('messaging_exchange_id: exchange 9999 does not exist');
    // PostgreSQL refuses NUL in text: it must be a 400 here, not a 500 from the database.
    const nul = await h().call('POST', '/clusters', { token: admin, body: { etcd_token: 'nul', name: 'a\u0000b' } });
    expect([nul.status, fieldsOf(nul.body)]).to.deep.equal([400, ['name']]);
    for (const path of [`/clusters/${'x'.repeat(300)}`, '/clusters/%00', '/clusters/a%20b/ports']) {
      const res = await h().call('GET', path, { token: admin });
      expect([res.status, fieldsOf(res.body)], path).to.deep.equal([400, ['params.etcd_token']]);
    }
  });

  it('links a cluster to an existing provider and exchange', async () => {
    const provider = await h().call('POST', '/cloud_providers', { token: h().tokens.admin, body: { name: 'aws', type: 'aws' } });
    const providerId = Number(provider.headers.get('location')!.split('/').pop());
    const exchangeId = await exchange(h(), 'linked-exchange');
    const location = await register(h(), { etcd_token: 'linked', hosting_provider_id: providerId, messaging_exchange_id: exchangeId });
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ hosting_provider_id: providerId, messaging_exchange_id: exchangeId });
  });

  it('answers 404 for an unknown token on show, delete and ports', async () => {
    for (const [method, path] of [['GET', '/clusters/nope'], ['DELETE', '/clusters/nope'], ['GET', '/clusters/nope/ports']] as const) {
      const res = await h().call(method, path, { token: h().tokens.admin });
      expect(res.status, `${method} ${path}`).to.equal(404);
      expect(errorsOf(res.body)[0]!.message).to.equal('EtcdCluster was not found');
    }
  });

  it('lists the ports allocated in a cluster, paginated', async () => {
    await register(h(), { etcd_token: 'ported' });
    const em = h().db.fork();
    const cluster = await em.findOneOrFail(EtcdClusterSchema, { etcd_token: 'ported' });
    for (const [component, port] of [[1, 45000], [2, 45001], [3, 45002]] as const) {
      em.create(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, product_component_id: component, port });
    }
    await em.flush();
    const page = await h().call('GET', '/clusters/PORTED/ports?limit=2&page=2', { token: h().tokens.viewer });
    expect(page.status).to.equal(200);
    expect(page.headers.get('x-total-count')).to.equal('3');
    expect((page.body as Array<{ port: number; product_component_id: number }>).map((p) => [p.product_component_id, p.port])).to.deep.equal([[3, 45002]]);
    expect((await h().call('GET', '/clusters/ported/ports?limit=0', { token: h().tokens.viewer })).status).to.equal(400);
  });

  it('deletes a cluster with its hosts and ports (204), then 404', async () => {
    const location = await register(h(), { etcd_token: 'doomed' });
    const em = h().db.fork();
    const cluster = await em.findOneOrFail(EtcdClusterSchema, { etcd_token: 'doomed' });
    em.create(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, product_component_id: 7, port: 45000 });
    em.create(ClusterHostSchema, {
      etcd_cluster_id: cluster.id, name: 'h1', docker_url: 'unix:///var/run/docker.sock', tls_ca: null, tls_ca_keyname: null, tls_cert: null,
      tls_cert_keyname: null, tls_private_key: null, tls_private_key_keyname: null, ssh_user: null, ssh_private_key: null,
      ssh_private_key_keyname: null, labels: '{}', status: 'active',
    });
    await em.flush();
    expect((await h().call('DELETE', '/clusters/DOOMED', { token: h().tokens.admin })).status).to.equal(204);
    expect((await h().call('GET', location, { token: h().tokens.admin })).status).to.equal(404);
    const check = h().db.fork();
    expect(await check.count(ClusterHostSchema, { etcd_cluster_id: cluster.id })).to.equal(0);
    expect(await check.count(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id })).to.equal(0);
  });

  it('refuses to delete a cluster with 409 while a product links it, and keeps its ports', async () => {
    const location = await register(h(), { etcd_token: 'in-use' });
    const conn = h().db.fork().getConnection();
    // The products migration owns these tables; create them when it has not landed yet, to the reference §2.3 shape.
    await conn.execute('create table if not exists products (id serial primary key, name varchar(255) not null unique, inserted_at timestamp not null, updated_at timestamp not null)');
    await conn.execute(`create table if not exists product_clusters (id serial primary key, product_id int not null references products(id),
      etcd_cluster_id int null references etcd_clusters(id), primary_ind boolean null, inserted_at timestamp not null, updated_at timestamp not null)`);
    const [product] = (await conn.execute(`insert into products (name, inserted_at, updated_at) values ('uses-cluster', now(), now()) returning id`)) as Array<{ id: number }>;
    const cluster = await h().db.fork().findOneOrFail(EtcdClusterSchema, { etcd_token: 'in-use' });
    await conn.execute('insert into product_clusters (product_id, etcd_cluster_id, inserted_at, updated_at) values (?, ?, now(), now())', [product!.id, cluster.id]);
    await conn.execute('insert into etcd_cluster_ports (etcd_cluster_id, product_component_id, port, inserted_at, updated_at) values (?, 1, 45000, now(), now())', [cluster.id]);
    const res = await h().call('DELETE', location, { token: h().tokens.admin });
    expect(res.status).to.equal(409);
    expect(errorsOf(res.body)[0]!.message).to.equal(`EtcdCluster in-use is still linked by product(s) ${product!.id}; unlink it first`);
    expect(await h().db.fork().count(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id })).to.equal(1);
    await conn.execute('delete from product_clusters where etcd_cluster_id = ?', [cluster.id]);
    expect((await h().call('DELETE', location, { token: h().tokens.admin })).status).to.equal(204);
  });

  it('turns a foreign key from any other table into a 409 naming it, not a 500', async () => {
    const location = await register(h(), { etcd_token: 'fk-linked' });
    const conn = h().db.fork().getConnection();
    await conn.execute('create table cluster_link_probe (id serial primary key, etcd_cluster_id int not null references etcd_clusters(id))');
    const cluster = await h().db.fork().findOneOrFail(EtcdClusterSchema, { etcd_token: 'fk-linked' });
    await conn.execute('insert into cluster_link_probe (etcd_cluster_id) values (?)', [cluster.id]);
    const res = await h().call('DELETE', location, { token: h().tokens.admin });
    expect(res.status).to.equal(409);
    expect(errorsOf(res.body)[0]!.message).to.equal('EtcdCluster fk-linked is still linked by cluster_link_probe; unlink it first');
    expect((await h().call('GET', location, { token: h().tokens.admin })).status).to.equal(200);
    await conn.execute('drop table cluster_link_probe');
  });

  it("lists an exchange's clusters with the build filter; 404 for an unknown exchange, 400 for a bad id", async () => {
    const exchangeId = await exchange(h(), 'zone-1');
    await register(h(), { etcd_token: 'zone-build', allow_docker_builds: true, messaging_exchange_id: exchangeId });
    await register(h(), { etcd_token: 'zone-run', messaging_exchange_id: exchangeId });
    await register(h(), { etcd_token: 'elsewhere', allow_docker_builds: true });
    const tokens = async (query: string) => {
      const res = await h().call('GET', `/messaging/exchanges/${exchangeId}/clusters${query}`, { token: h().tokens.viewer });
      expect(res.status).to.equal(200);
      return (res.body as Cluster[]).map((c) => c.etcd_token);
    };
    expect(await tokens('')).to.deep.equal(['zone-build', 'zone-run']);
    expect(await tokens('?allow_docker_builds=true')).to.deep.equal(['zone-build']);
    expect(await tokens('?allow_docker_builds=false')).to.deep.equal(['zone-run']);
    expect((await h().call('GET', '/messaging/exchanges/99999/clusters', { token: h().tokens.viewer })).status).to.equal(404);
    expect((await h().call('GET', '/messaging/exchanges/abc/clusters', { token: h().tokens.viewer })).status).to.equal(400);
    expect((await h().call('GET', `/messaging/exchanges/${exchangeId}/clusters`)).status).to.equal(401);
  });
});
