import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { clusterHostRoutes, parseDockerUrl } from '../../../http/routes/cluster-hosts.js';
import { clusterRoutes } from '../../../http/routes/clusters.js';
import { AuditEventSchema } from '../../../entities/auth.js';
import { ClusterHostSchema } from '../../../entities/clusters.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';
import type { AnyRoute } from '../../../http/route.js';

const routes = [...clusterRoutes, ...clusterHostRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;

const SSH_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const TLS_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
// The routes check the PEM label only; the Docker host driver (issue 7) is what reads the certificate.
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfakecertificatebodyforthetest\n-----END CERTIFICATE-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfakecabodyforthetest\n-----END CERTIFICATE-----\n';

type Host = Record<string, unknown> & { name: string; labels: Record<string, string> };
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;
const fieldsOf = (body: unknown) => errorsOf(body).flatMap((e) => (e.field === undefined ? [] : [e.field]));

describe('parseDockerUrl', () => {
  const cases: Array<[string, string]> = [
    ['unix:///var/run/docker.sock', 'unix'],
    ['tcp://10.0.0.5:2376', 'tcp'],
    ['tcp://docker-1.example.com:2375', 'tcp'],
    ['tcp://[::1]:2376', 'tcp'],
    ['ssh://core@10.0.0.6', 'ssh'],
    ['ssh://core@host.example.com:2222', 'ssh'],
    ['ssh://host.example.com', 'ssh'],
  ];
  for (const [url, scheme] of cases) it(`accepts ${url}`, () => expect(parseDockerUrl(url)).to.deep.include({ ok: true, scheme }));
  const bad: Array<[string, RegExp]> = [
    ['docker.sock', /not a URL/],
    ['http://host:2375', /scheme http is not supported/],
    ['unix://var/run/docker.sock', /has no host/],
    ['unix:///', /needs the socket path/],
    ['tcp://host', /needs a port/],
    ['tcp://host:99999', /not a URL/],
    ['tcp://user@host:2376', /has no user/],
    ['tcp://host:2376/path', /has no path/],
    ['tcp://host:2376?x=1', /query/],
    ['ssh://user:pw@host', /password/],
    ['ssh://user@ho_st', /needs a host/],
  ];
  for (const [url, problem] of bad) {
    it(`refuses ${url}`, () => {
      const parsed = parseDockerUrl(url);
      expect(parsed.ok ? 'accepted' : parsed.problem).to.match(problem);
    });
  }
  it('reads the user of an ssh URL', () => expect(parseDockerUrl('ssh://core@h:22')).to.deep.equal({ ok: true, scheme: 'ssh', user: 'core' }));
});

async function cluster(h: ApiHarness, token: string): Promise<string> {
  const res = await h.call('POST', '/clusters', { token: h.tokens.admin, body: { etcd_token: token } });
  expect(res.status).to.equal(201);
  return `${res.headers.get('location')!}/hosts`;
}

forEachDatabase('Manager: cluster hosts', routes, (h) => {
  it('adds a unix host (201, Location by name), shows it by any case of the name, lists it with a total', async () => {
    const hosts = await cluster(h(), 'hosts-a');
    const res = await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'Local', docker_url: 'unix:///var/run/docker.sock', labels: { zone: 'a' } } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.headers.get('location')).to.equal('/clusters/hosts-a/hosts/Local');
    const shown = await h().call('GET', '/clusters/HOSTS-A/hosts/local', { token: h().tokens.viewer });
    expect(shown.status).to.equal(200);
    expect(shown.body).to.deep.include({ name: 'Local', docker_url: 'unix:///var/run/docker.sock', status: 'active', ssh_user: null, labels: { zone: 'a' } });
    const listed = await h().call('GET', `${hosts}?limit=10`, { token: h().tokens.viewer });
    expect(listed.headers.get('x-total-count')).to.equal('1');
    expect((listed.body as Host[]).map((x) => x.name)).to.deep.equal(['Local']);
  });

  it('seals the SSH key: stored value differs, opens with deps.secrets, key name kept; admins see "[set]", viewers null', async () => {
    const hosts = await cluster(h(), 'hosts-ssh');
    const res = await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'remote', docker_url: 'ssh://core@10.0.0.6:2222', ssh_private_key: SSH_KEY } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const row = await h().db.fork().findOneOrFail(ClusterHostSchema, { name: 'remote' });
    expect(row.ssh_private_key).to.not.equal(SSH_KEY).and.not.include('PRIVATE KEY');
    expect(h().secrets.open(row.ssh_private_key!)).to.equal(SSH_KEY);
    expect(row.ssh_private_key_keyname).to.equal('test');
    const asAdmin = await h().call('GET', `${hosts}/remote`, { token: h().tokens.admin });
    expect(asAdmin.body).to.deep.include({ ssh_private_key: '[set]', tls_ca: null, tls_private_key: null });
    const asViewer = await h().call('GET', `${hosts}/remote`, { token: h().tokens.viewer });
    expect(asViewer.body).to.deep.include({ ssh_private_key: null });
    for (const body of [asAdmin.body, asViewer.body, (await h().call('GET', hosts, { token: h().tokens.operator })).body]) {
      expect(JSON.stringify(body)).to.not.include('PRIVATE KEY').and.not.include(row.ssh_private_key!.slice(0, 40));
    }
  });

  it('opens the secrets of active hosts for admins only at host_connections (the workers\' way to the SSH key)', async () => {
    const hosts = await cluster(h(), 'hosts-conn');
    const connections = hosts.replace(/hosts$/, 'host_connections');
    await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'b-ssh', docker_url: 'ssh://core@10.0.0.6:2222', ssh_private_key: SSH_KEY } });
    await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'a-local', docker_url: 'unix:///var/run/docker.sock', labels: { zone: 'a' } } });
    await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'c-off', docker_url: 'unix:///s', status: 'inactive' } });
    const res = await h().call('GET', connections, { token: h().tokens.admin });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal([
      { name: 'a-local', docker_url: 'unix:///var/run/docker.sock', ssh_user: null, ssh_private_key: null, tls_ca: null, tls_cert: null, tls_private_key: null, labels: { zone: 'a' } },
      { name: 'b-ssh', docker_url: 'ssh://core@10.0.0.6:2222', ssh_user: null, ssh_private_key: SSH_KEY, tls_ca: null, tls_cert: null, tls_private_key: null, labels: {} },
    ]);
    for (const token of [h().tokens.viewer, h().tokens.operator]) expect((await h().call('GET', connections, { token })).status).to.equal(403);
    expect((await h().call('GET', '/clusters/no-such/host_connections', { token: h().tokens.admin })).status).to.equal(404);
  });

  it('seals the TLS material of a tcp host and never shows it, to anyone', async () => {
    const hosts = await cluster(h(), 'hosts-tls');
    const body = { name: 'tls', docker_url: 'tcp://10.0.0.5:2376', tls_ca: CA, tls_cert: CERT, tls_private_key: TLS_KEY };
    expect((await h().call('POST', hosts, { token: h().tokens.admin, body })).status).to.equal(201);
    const row = await h().db.fork().findOneOrFail(ClusterHostSchema, { name: 'tls' });
    expect([row.tls_ca, row.tls_cert, row.tls_private_key].map((v) => h().secrets.open(v!))).to.deep.equal([CA, CERT, TLS_KEY]);
    expect([row.tls_ca_keyname, row.tls_cert_keyname, row.tls_private_key_keyname]).to.deep.equal(['test', 'test', 'test']);
    const asAdmin = await h().call('GET', hosts, { token: h().tokens.admin });
    expect((asAdmin.body as Host[])[0]).to.deep.include({ tls_ca: '[set]', tls_cert: '[set]', tls_private_key: '[set]', ssh_private_key: null });
    const asViewer = JSON.stringify((await h().call('GET', hosts, { token: h().tokens.viewer })).body);
    expect(asViewer).to.not.include('BEGIN').and.not.include('[set]');
  });

  it('keeps secrets out of the audit trail', async () => {
    const hosts = await cluster(h(), 'hosts-audit');
    await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'a', docker_url: 'tcp://h:2376', tls_cert: CERT, tls_private_key: TLS_KEY } });
    await h().call('PUT', `${hosts}/a`, { token: h().tokens.admin, body: { docker_url: 'ssh://u@h', tls_cert: null, tls_private_key: null, ssh_private_key: SSH_KEY } });
    const events = await h().db.fork().find(AuditEventSchema, { action: { $like: '% /clusters/:etcd_token/hosts%' } });
    expect(events.length).to.be.at.least(2);
    expect(events.map((e) => e.diff).join()).to.not.include('PRIVATE KEY');
  });

  it('answers 400 naming docker_url for each malformed form, and naming the field for scheme mismatches', async () => {
    const hosts = await cluster(h(), 'hosts-bad');
    const post = (body: Record<string, unknown>) => h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'x', ...body } });
    for (const url of ['docker.sock', 'http://h:1', 'tcp://h', 'unix://h/sock', 'ssh://u:p@h', '', 'ssh://%ZZ@h', 'tcp://ho\nst:1', 'unix:///a\u0000b']) {
      const res = await post({ docker_url: url });
      expect(res.status, url).to.equal(400);
      expect(fieldsOf(res.body), url).to.deep.equal(['docker_url']);
    }
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ docker_url: 'ssh://h' }, 'docker_url', /needs a user/],
      [{ docker_url: 'ssh://u@h', ssh_user: 'v' }, 'ssh_user', /differs from the user in docker_url \(u\)/],
      [{ docker_url: 'tcp://h:2376', ssh_user: 'u' }, 'ssh_user', /only for ssh:\/\/ hosts/],
      [{ docker_url: 'unix:///s', ssh_private_key: SSH_KEY }, 'ssh_private_key', /only for ssh:\/\/ hosts/],
      [{ docker_url: 'ssh://u@h', tls_ca: CA }, 'tls_ca', /only for tcp:\/\/ hosts, not ssh/],
      [{ docker_url: 'tcp://h:2376', tls_cert: CERT }, 'tls_private_key', /go together/],
      [{ docker_url: 'ssh://u@h', ssh_private_key: 'not a key' }, 'ssh_private_key', /must be PEM text holding a private key/],
      [{ docker_url: 'tcp://h:2376', tls_ca: TLS_KEY }, 'tls_ca', /must be PEM text holding a certificate/],
      [{ docker_url: 'unix:///s', name: '-bad name' }, 'name', /letters, digits/],
      [{ docker_url: 'unix:///s', status: 'gone' }, 'status', /./],
      [{ docker_url: 'unix:///s', labels: { k: 1 } }, 'labels.k', /./],
      [{ docker_url: 'unix:///s', extra: true }, 'extra', /unknown field/],
    ];
    for (const [body, field, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      const problem = errorsOf(res.body).find((e) => e.field === field);
      expect(problem?.message, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`).to.match(message);
    }
    expect(await h().db.fork().count(ClusterHostSchema, { name: 'x' })).to.equal(0);
  });

  it('answers 409 for a name taken in the cluster in any case, and allows it in another cluster', async () => {
    const hosts = await cluster(h(), 'hosts-dup');
    const body = { name: 'node-1', docker_url: 'unix:///s' };
    expect((await h().call('POST', hosts, { token: h().tokens.admin, body })).status).to.equal(201);
    expect((await h().call('POST', hosts, { token: h().tokens.admin, body: { ...body, name: 'NODE-1' } })).status).to.equal(409);
    expect((await h().call('POST', await cluster(h(), 'hosts-dup-2'), { token: h().tokens.admin, body })).status).to.equal(201);
  });

  it('updates only the fields given: rename, status, labels, keeps an omitted secret, removes a null one', async () => {
    const hosts = await cluster(h(), 'hosts-upd');
    const create = { name: 'n1', docker_url: 'ssh://core@h1', ssh_private_key: SSH_KEY, labels: { a: '1' } };
    expect((await h().call('POST', hosts, { token: h().tokens.admin, body: create })).status).to.equal(201);
    const renamed = await h().call('PUT', `${hosts}/N1`, { token: h().tokens.admin, body: { name: 'n2', status: 'inactive', labels: { b: '2' } } });
    expect(renamed.status).to.equal(204);
    expect(renamed.headers.get('location')).to.equal(`${hosts}/n2`);
    const shown = await h().call('GET', `${hosts}/n2`, { token: h().tokens.admin });
    expect(shown.body).to.deep.include({ name: 'n2', status: 'inactive', labels: { b: '2' }, docker_url: 'ssh://core@h1', ssh_private_key: '[set]' });
    expect((await h().call('GET', `${hosts}/n1`, { token: h().tokens.admin })).status).to.equal(404);
    const toTcp = await h().call('PUT', `${hosts}/n2`, { token: h().tokens.admin, body: { docker_url: 'tcp://h1:2376' } });
    expect(toTcp.status).to.equal(400);
    expect(fieldsOf(toTcp.body)).to.deep.equal(['ssh_private_key']);
    const cleared = await h().call('PUT', `${hosts}/n2`, { token: h().tokens.admin, body: { docker_url: 'tcp://h1:2376', ssh_private_key: null } });
    expect(cleared.status).to.equal(204);
    const row = await h().db.fork().findOneOrFail(ClusterHostSchema, { name: 'n2' });
    expect([row.docker_url, row.ssh_private_key, row.ssh_private_key_keyname]).to.deep.equal(['tcp://h1:2376', null, null]);
  });

  it('answers 409 on a rename to a taken name, 400 for a bad field, 404 for an unknown host or cluster', async () => {
    const hosts = await cluster(h(), 'hosts-upd-err');
    for (const name of ['a', 'b']) await h().call('POST', hosts, { token: h().tokens.admin, body: { name, docker_url: 'unix:///s' } });
    expect((await h().call('PUT', `${hosts}/a`, { token: h().tokens.admin, body: { name: 'B' } })).status).to.equal(409);
    expect((await h().call('PUT', `${hosts}/a`, { token: h().tokens.admin, body: { name: 'A' } })).status).to.equal(204);
    const bad = await h().call('PUT', `${hosts}/a`, { token: h().tokens.admin, body: { docker_url: 'tcp://nope' } });
    expect([bad.status, fieldsOf(bad.body)]).to.deep.equal([400, ['docker_url']]);
    const badName = await h().call('GET', `${hosts}/%00`, { token: h().tokens.admin });
    expect([badName.status, fieldsOf(badName.body)]).to.deep.equal([400, ['params.name']]);
    for (const [method, path] of [['GET', `${hosts}/zz`], ['PUT', `${hosts}/zz`], ['DELETE', `${hosts}/zz`], ['GET', '/clusters/none/hosts'], ['POST', '/clusters/none/hosts']] as const) {
      const body = method === 'POST' ? { name: 'q', docker_url: 'unix:///s' } : method === 'PUT' ? { status: 'active' } : undefined;
      const res = await h().call(method, path, { token: h().tokens.admin, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).to.equal(404);
    }
  });

  it('deletes a host (204, then 404); 401 without a token; 403 to viewers and operators', async () => {
    const hosts = await cluster(h(), 'hosts-del');
    await h().call('POST', hosts, { token: h().tokens.admin, body: { name: 'gone', docker_url: 'unix:///s' } });
    expect((await h().call('GET', hosts)).status).to.equal(401);
    for (const token of [h().tokens.viewer, h().tokens.operator]) {
      expect((await h().call('POST', hosts, { token, body: { name: 'v', docker_url: 'unix:///s' } })).status).to.equal(403);
      expect((await h().call('PUT', `${hosts}/gone`, { token, body: { status: 'inactive' } })).status).to.equal(403);
      expect((await h().call('DELETE', `${hosts}/gone`, { token })).status).to.equal(403);
    }
    expect((await h().call('DELETE', `${hosts}/GONE`, { token: h().tokens.admin })).status).to.equal(204);
    expect((await h().call('GET', `${hosts}/gone`, { token: h().tokens.admin })).status).to.equal(404);
  });
});
