import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { clusterPortRoutes } from '../../../http/routes/cluster-ports.js';
import { clusterRoutes } from '../../../http/routes/clusters.js';
import { allProductRoutes } from '../../../http/routes/products.js';
import { clusterHostRoutes } from '../../../http/routes/cluster-hosts.js';
import { AuditEventSchema } from '../../../entities/auth.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';
import type { AnyRoute } from '../../../http/route.js';

const routes = [...clusterRoutes, ...clusterPortRoutes, ...clusterHostRoutes, ...allProductRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;

interface PortRow {
  id: number;
  port: number;
  holder: string | null;
  host: string | null;
  container_port: number | null;
  workflow_id: string | null;
  product_component_id: number | null;
}
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;
const fieldsOf = (body: unknown) => errorsOf(body).flatMap((e) => (e.field === undefined ? [] : [e.field]));

async function cluster(h: ApiHarness, token: string, settings: Record<string, unknown> = {}): Promise<void> {
  const res = await h.call('POST', '/clusters', { token: h.tokens.admin, body: { etcd_token: token, ...settings } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  for (const name of ['h1', 'h2']) {
    const host = await h.call('POST', `/clusters/${token}/hosts`, { token: h.tokens.admin, body: { name, docker_url: 'unix:///var/run/docker.sock' } });
    expect(host.status, JSON.stringify(host.body)).to.equal(201);
  }
}

/** A workflow row, finished or not: whether a deploy of it can still be running decides what a reconcile releases. */
async function workflow(h: ApiHarness, completed: boolean): Promise<string> {
  const id = randomUUID();
  await h.db.fork().getConnection().execute('insert into workflows (id, workflow_completed, inserted_at, updated_at) values (?, ?, now(), now())', [id, completed]);
  return id;
}

const allocate = (h: ApiHarness, token: string, body: Record<string, unknown>) => h.call('POST', `/clusters/${token}/ports`, { token: h.tokens.operator, body });
const portsOf = (body: unknown) => (body as PortRow[]).map((r) => [r.container_port, r.port]);
async function listed(h: ApiHarness, token: string): Promise<PortRow[]> {
  const res = await h.call('GET', `/clusters/${token}/ports`, { token: h.tokens.viewer });
  expect(res.status).to.equal(200);
  return res.body as PortRow[];
}

forEachDatabase('Manager: cluster port allocations', routes, (h) => {
  it('allocates the lowest free ports of the default range 20000-29999 to a container, lists them, and gives the same ones again', async () => {
    await cluster(h(), 'alloc');
    const wf = await workflow(h(), false);
    const first = await allocate(h(), 'alloc', { holder: 'web-0-abc-n1', host: 'h1', workflow_id: wf, container_ports: [8080, 9090] });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.headers.get('location')).to.equal('/clusters/alloc/ports?holder=web-0-abc-n1');
    expect(portsOf(first.body)).to.deep.equal([[8080, 20_000], [9090, 20_001]]);
    const again = await allocate(h(), 'ALLOC', { holder: 'web-0-abc-n1', host: 'h1', workflow_id: wf, container_ports: [8080, 9090] });
    expect(portsOf(again.body)).to.deep.equal([[8080, 20_000], [9090, 20_001]]);
    await allocate(h(), 'alloc', { holder: 'web-1-abc-n1', host: 'h2', workflow_id: wf, container_ports: [8080] });
    const rows = await listed(h(), 'alloc');
    expect(rows.map((r) => [r.holder, r.host, r.container_port, r.port, r.workflow_id])).to.deep.equal([
      ['web-0-abc-n1', 'h1', 8080, 20_000, wf],
      ['web-0-abc-n1', 'h1', 9090, 20_001, wf],
      ['web-1-abc-n1', 'h2', 8080, 20_002, wf],
    ]);
    const one = await h().call('GET', '/clusters/alloc/ports?holder=web-1-abc-n1', { token: h().tokens.viewer });
    expect(portsOf(one.body)).to.deep.equal([[8080, 20_002]]);
    const audited = await h().db.fork().find(AuditEventSchema, { action: 'POST /clusters/:etcd_token/ports' });
    expect(audited.map((a) => [a.actor, a.target_type])).to.deep.include(['test-operator', 'EtcdClusterPort']);
  });

  it("uses the cluster's own range, skips busy ports, and says so when the range is full", async () => {
    await cluster(h(), 'tight', { port_range_start: 61_000, port_range_end: 61_002 });
    const wf = await workflow(h(), false);
    const a = await allocate(h(), 'tight', { holder: 'a', host: 'h1', workflow_id: wf, container_ports: [80] });
    expect(portsOf(a.body)).to.deep.equal([[80, 61_000]]);
    // 61000 is busy on h1 for holder b: it gets the next free one.
    const b = await allocate(h(), 'tight', { holder: 'b', host: 'h1', workflow_id: wf, container_ports: [80], avoid: [61_001] });
    expect(portsOf(b.body)).to.deep.equal([[80, 61_002]]);
    // Busy is what the asking container found on its host, not a record: another container may get 61001.
    const c = await allocate(h(), 'tight', { holder: 'c', host: 'h2', workflow_id: wf, container_ports: [80] });
    expect(portsOf(c.body)).to.deep.equal([[80, 61_001]]);
    const full = await allocate(h(), 'tight', { holder: 'd', host: 'h1', workflow_id: wf, container_ports: [80] });
    expect(full.status).to.equal(409);
    expect(errorsOf(full.body)[0]!.message).to.equal('Cluster tight: no free host port left in 61000-61002 (3 allocated, 0 busy on the host)');
    // A holder whose port turned out busy gives it up for another.
    expect((await h().call('DELETE', '/clusters/tight/ports/holders/c', { token: h().tokens.operator })).status).to.equal(204);
    const moved = await allocate(h(), 'tight', { holder: 'b', host: 'h1', workflow_id: wf, container_ports: [80], avoid: [61_002] });
    expect(portsOf(moved.body)).to.deep.equal([[80, 61_001]]);
  });

  it('never gives one port to two containers allocating at once', async () => {
    await cluster(h(), 'race');
    const wf = await workflow(h(), false);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => allocate(h(), 'race', { holder: `web-${i}-n`, host: i % 2 ? 'h1' : 'h2', workflow_id: wf, container_ports: [8080] })));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(12).fill(201));
    const ports = (await listed(h(), 'race')).map((r) => r.port).sort((x, y) => x - y);
    expect(ports).to.deep.equal(Array.from({ length: 12 }, (_, i) => 20_000 + i));
  });

  it("links the rows to the product's component of the unit's name when it has one", async () => {
    await cluster(h(), 'linked');
    const wf = await workflow(h(), false);
    expect((await h().call('POST', '/products', { token: h().tokens.admin, body: { name: 'shop' } })).status).to.equal(201);
    expect((await h().call('POST', '/products/shop/components', { token: h().tokens.admin, body: { name: 'web', type: 'web_server', options: [] } })).status).to.equal(201);
    const web = await allocate(h(), 'linked', { holder: 'web-0', host: 'h1', workflow_id: wf, container_ports: [80], product_name: 'SHOP', unit: 'web' });
    const other = await allocate(h(), 'linked', { holder: 'worker-0', host: 'h1', workflow_id: wf, container_ports: [80], product_name: 'shop', unit: 'worker' });
    expect((web.body as PortRow[])[0]!.product_component_id).to.be.a('number');
    expect((other.body as PortRow[])[0]!.product_component_id).to.equal(null);
  });

  it("releases a removed container's ports (twice is harmless); the next allocation takes the freed port", async () => {
    await cluster(h(), 'release');
    const wf = await workflow(h(), false);
    await allocate(h(), 'release', { holder: 'old', host: 'h1', workflow_id: wf, container_ports: [80] });
    await allocate(h(), 'release', { holder: 'kept', host: 'h1', workflow_id: wf, container_ports: [80] });
    for (let i = 0; i < 2; i += 1) expect((await h().call('DELETE', '/clusters/release/ports/holders/old', { token: h().tokens.operator })).status).to.equal(204);
    expect((await listed(h(), 'release')).map((r) => r.holder)).to.deep.equal(['kept']);
    const next = await allocate(h(), 'release', { holder: 'new', host: 'h1', workflow_id: wf, container_ports: [80] });
    expect(portsOf(next.body)).to.deep.equal([[80, 20_000]]);
  });

  it("reconciles: releases gone containers' rows of finished workflows and of the deploying one, keeps a running deploy's, adopts unrecorded live ports", async () => {
    await cluster(h(), 'recon');
    const [done, now, other] = [await workflow(h(), true), await workflow(h(), false), await workflow(h(), false)];
    await allocate(h(), 'recon', { holder: 'gone-done', host: 'h1', workflow_id: done, container_ports: [80] });
    await allocate(h(), 'recon', { holder: 'crashed-attempt', host: 'h2', workflow_id: now, container_ports: [80] });
    await allocate(h(), 'recon', { holder: 'being-started', host: 'h1', workflow_id: other, container_ports: [80] });
    await allocate(h(), 'recon', { holder: 'alive', host: 'h2', workflow_id: done, container_ports: [80] });
    const live = [
      { holder: 'alive', host: 'h2', ports: { 80: 20_003 } },
      { holder: 'legacy', host: 'h1', ports: { 8080: 45_000 } },
    ];
    const res = await h().call('POST', '/clusters/recon/ports/reconcile', { token: h().tokens.operator, body: { workflow_id: now, hosts: ['h1', 'h2'], live } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const body = res.body as { released: PortRow[]; adopted: PortRow[] };
    expect(body.released.map((r) => r.holder)).to.deep.equal(['gone-done', 'crashed-attempt']);
    expect(body.adopted.map((r) => [r.holder, r.host, r.container_port, r.port])).to.deep.equal([['legacy', 'h1', 8080, 45_000]]);
    expect((await listed(h(), 'recon')).map((r) => r.holder)).to.deep.equal(['being-started', 'alive', 'legacy']);
  });

  it('refuses bad bodies naming each field, a viewer with 403, an unknown cluster with 404', async () => {
    await cluster(h(), 'strict');
    const bad = await allocate(h(), 'strict', { holder: '-bad name', host: 'h1', workflow_id: 'nope', container_ports: [80, 80], avoid: [0] });
    expect(bad.status).to.equal(400);
    expect(fieldsOf(bad.body)).to.include.members(['holder', 'workflow_id', 'container_ports', 'avoid[0]']);
    const missing = await allocate(h(), 'strict', { holder: 'a', host: 'h1', workflow_id: randomUUID() });
    expect(fieldsOf(missing.body)).to.deep.equal(['container_ports']);
    const viewer = await h().call('POST', '/clusters/strict/ports', { token: h().tokens.viewer, body: { holder: 'a', host: 'h1', workflow_id: randomUUID(), container_ports: [80] } });
    expect(viewer.status).to.equal(403);
    expect((await h().call('DELETE', '/clusters/strict/ports/holders/a', { token: h().tokens.viewer })).status).to.equal(403);
    expect((await allocate(h(), 'no-such', { holder: 'a', host: 'h1', workflow_id: randomUUID(), container_ports: [80] })).status).to.equal(404);
    const recon = await h().call('POST', '/clusters/strict/ports/reconcile', { token: h().tokens.operator, body: { workflow_id: randomUUID(), hosts: ['h1'], live: [{ holder: 'x', host: 'h1', ports: { http: 80 } }] } });
    expect(fieldsOf(recon.body)).to.deep.equal(['live[0].ports.http']);
  });
});
