import { expect } from 'chai';
import { routerCertificateRoutes } from '../../../http/routes/router-certificates.js';
import { routerRoutes } from '../../../http/routes/router.js';
import type { AnyRoute } from '../../../http/route.js';
import { AuthorityCertificateSchema } from '../../../entities/router.js';
import { selfSigned, type TestCertificate } from '../../helpers/certificates.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = [...routerRoutes, ...routerCertificateRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Errors = { errors: Array<{ message: string; field?: string }> };
type TlsItem = { hostname: string; port: number; redirect_http_port: number | null; certificate: string | null; private_key: string | null; problem: string | null };

async function createAuthority(h: ApiHarness, body: { hostname: string; port: number; redirect_http_port?: number }): Promise<string> {
  const res = await h.call('POST', '/router/authorities', { token: h.tokens.admin, body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.headers.get('location')!;
}

const pemOf = (c: TestCertificate) => ({ certificate: c.certificate, private_key: c.privateKey });
const fieldsOf = (body: unknown): Array<string | undefined> => (body as Errors).errors.slice(1).map((e) => e.field);

forEachDatabase('Manager: router certificates', routes, (h) => {
  let shop: TestCertificate;
  let other: TestCertificate;
  before(async () => ([shop, other] = await Promise.all([selfSigned(['shop.test']), selfSigned(['other.test'])])));
  const tlsFeed = async (): Promise<TlsItem[]> => (await h().call('GET', '/router/tls', { token: h().tokens.admin })).body as TlsItem[];

  it('stores the key sealed, shows metadata only, and gives the key to admins in the TLS feed alone', async () => {
    const authority = await createAuthority(h(), { hostname: 'Shop.Test', port: 443 });
    const put = await h().call('PUT', `${authority}/certificate`, { token: h().tokens.admin, body: pemOf(shop) });
    expect(put.status, JSON.stringify(put.body)).to.equal(204);
    const shown = await h().call('GET', `${authority}/certificate`, { token: h().tokens.viewer });
    expect(shown.status).to.equal(200);
    expect(shown.body).to.include({ subject: 'CN=shop.test', chain_length: 1 });
    expect((shown.body as { names: string[] }).names).to.deep.equal(['shop.test']);
    expect(JSON.stringify(shown.body)).not.to.include('PRIVATE KEY');
    const row = await h().db.fork().findOneOrFail(AuthorityCertificateSchema, { authority_id: Number(authority.split('/').pop()) });
    expect(h().secrets.isSealed(row.private_key)).to.equal(true);
    expect(h().secrets.open(row.private_key)).to.equal(shop.privateKey);
    expect(await tlsFeed()).to.deep.include({ hostname: 'Shop.Test', port: 443, redirect_http_port: null, certificate: shop.certificate, private_key: shop.privateKey, problem: null });
    const trail = JSON.stringify(await h().db.fork().getConnection().execute('select diff from audit_events'));
    expect(trail).to.include('[secret]');
    expect(trail).not.to.include('PRIVATE KEY');
    expect(h().logs.map((l) => JSON.stringify(l)).join('\n')).not.to.include('PRIVATE KEY');
  });

  it('lets viewers read metadata only: the TLS feed and every change need an admin', async () => {
    const authority = await createAuthority(h(), { hostname: 'guarded.test', port: 443 });
    for (const token of [h().tokens.viewer, h().tokens.operator]) {
      expect((await h().call('GET', '/router/tls', { token })).status).to.equal(403);
      expect((await h().call('PUT', `${authority}/certificate`, { token, body: pemOf(shop) })).status).to.equal(403);
      expect((await h().call('DELETE', `${authority}/certificate`, { token })).status).to.equal(403);
    }
    expect((await h().call('GET', '/router/tls')).status).to.equal(401);
  });

  it('refuses a bad pair with a 400 naming the field, and stores nothing', async () => {
    const admin = h().tokens.admin;
    const authority = await createAuthority(h(), { hostname: 'shop.test', port: 8443 });
    const cases: Array<[object, string, RegExp]> = [
      [{ ...pemOf(shop), private_key: other.privateKey }, 'private_key', /does not match the certificate/],
      [pemOf(other), 'certificate', /does not cover the authority's hostname shop\.test/],
      [{ ...pemOf(shop), certificate: 'not pem' }, 'certificate', /CERTIFICATE block/],
      [{ ...pemOf(shop), private_key: 'not pem' }, 'private_key', /not a readable/],
      [{ certificate: shop.certificate }, 'private_key', /./],
      [{ ...pemOf(shop), key: shop.privateKey }, 'key', /unknown field/],
    ];
    for (const [body, field, message] of cases) {
      const res = await h().call('PUT', `${authority}/certificate`, { token: admin, body });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(fieldsOf(res.body)).to.deep.equal([field]);
      expect((res.body as Errors).errors[1]?.message).to.match(message);
      expect(JSON.stringify(res.body)).not.to.include('PRIVATE KEY');
    }
    expect((await h().call('GET', `${authority}/certificate`, { token: admin })).status).to.equal(404);
    expect((await h().call('PUT', '/router/authorities/999999/certificate', { token: admin, body: pemOf(shop) })).status).to.equal(404);
  });

  it('replaces and removes a certificate; an authority deleted takes its certificate along', async () => {
    const admin = h().tokens.admin;
    const authority = await createAuthority(h(), { hostname: 'other.test', port: 443 });
    expect((await h().call('PUT', `${authority}/certificate`, { token: admin, body: pemOf(other) })).status).to.equal(204);
    const replacement = await selfSigned(['other.test', 'www.other.test']);
    expect((await h().call('PUT', `${authority}/certificate`, { token: admin, body: pemOf(replacement) })).status).to.equal(204);
    expect(((await h().call('GET', `${authority}/certificate`, { token: admin })).body as { names: string[] }).names).to.deep.equal(['other.test', 'www.other.test']);
    expect((await h().call('DELETE', `${authority}/certificate`, { token: admin })).status).to.equal(204);
    expect((await h().call('DELETE', `${authority}/certificate`, { token: admin })).status).to.equal(404);
    expect((await tlsFeed()).map((t) => t.hostname)).not.to.include('other.test');
    expect((await h().call('PUT', `${authority}/certificate`, { token: admin, body: pemOf(other) })).status).to.equal(204);
    expect((await h().call('DELETE', authority, { token: admin })).status).to.equal(204);
    expect((await tlsFeed()).map((t) => t.hostname)).not.to.include('other.test');
  });

  it('keeps a redirect port per authority: shown, in the TLS feed, never the port it serves', async () => {
    const admin = h().tokens.admin;
    const authority = await createAuthority(h(), { hostname: 'moved.test', port: 443, redirect_http_port: 80 });
    expect((await h().call('GET', authority, { token: h().tokens.viewer })).body).to.include({ redirect_http_port: 80 });
    expect(await tlsFeed()).to.deep.include({ hostname: 'moved.test', port: 443, redirect_http_port: 80, certificate: null, private_key: null, problem: null });
    const same = await h().call('PUT', authority, { token: admin, body: { redirect_http_port: 443 } });
    expect([same.status, ...fieldsOf(same.body)]).to.deep.equal([400, 'redirect_http_port']);
    const moved = await h().call('PUT', authority, { token: admin, body: { port: 80 } });
    expect([moved.status, ...fieldsOf(moved.body)]).to.deep.equal([400, 'redirect_http_port']);
    expect((await h().call('PUT', authority, { token: admin, body: { redirect_http_port: null } })).status).to.equal(204);
    expect((await h().call('GET', authority, { token: admin })).body).to.include({ redirect_http_port: null });
    expect((await tlsFeed()).map((t) => t.hostname)).not.to.include('moved.test');
  });
});
