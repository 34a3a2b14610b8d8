import { expect } from 'chai';
import { readdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { needs } from '../../helpers/services.js';
import { closedPort } from '../../helpers/ports.js';
import { selfSigned, type TestCertificate } from '../../helpers/certificates.js';
import { get, Harness, modelOf, route, type Backend } from './harness.js';

interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
  /** The CN of the certificate the proxy presented. */
  readonly servedCn: string;
}

/** One GET over TLS to 127.0.0.1:`port`, SNI and Host `host`, trusting only `ca`. */
function httpsGet(port: number, host: string, ca: string, path = '/'): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: host, ca, agent: false, headers: { host } }, (res) => {
      const servedCn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, servedCn }));
    });
    req.on('error', reject);
    req.end();
  });
}

const tlsOf = (c: TestCertificate) => ({ certificate: c.certificate, privateKey: c.privateKey });

describe('runtime/haproxy: TLS authorities served by SNI, and redirects to them', function () {
  this.timeout(30_000);
  needs('haproxy');
  const h = new Harness();
  let shop: TestCertificate;
  let blog: TestCertificate;
  before(async () => ([shop, blog] = await Promise.all([selfSigned(['shop.test']), selfSigned(['blog.test'])])));
  afterEach(() => h.cleanUp());

  async function twoSites(): Promise<{ port: number; plain: number; a: Backend; b: Backend; dir: string }> {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const [port, plain] = [await closedPort(), await closedPort()];
    return { port, plain, a, b, dir: h.newDir() };
  }

  it('serves two TLS authorities on one port, each with its own certificate, and tells backends https', async () => {
    const { port, plain, a, b, dir } = await twoSites();
    await h.proxy(
      modelOf(
        { hostname: 'shop.test', port, routes: [route(a)], tls: tlsOf(shop), redirectHttpPort: plain },
        { hostname: 'blog.test', port, routes: [route(b)], tls: tlsOf(blog) },
      ),
      dir,
    );
    expect(await httpsGet(port, 'shop.test', shop.certificate)).to.deep.equal({ status: 200, body: 'a', servedCn: 'shop.test' });
    expect(await httpsGet(port, 'blog.test', blog.certificate)).to.deep.equal({ status: 200, body: 'b', servedCn: 'blog.test' });
    expect((await httpsGet(port, 'shop.test', shop.certificate, '/header/x-forwarded-proto')).body).to.equal('https');
    // Trusting only shop's certificate, blog's name cannot pass: the certificate really is chosen by SNI.
    const wrong = await httpsGet(port, 'blog.test', shop.certificate).then(() => 'accepted', (err: Error) => err.message);
    expect(wrong).to.match(/self[- ]signed|unable to verify|certificate/i);
    const certs = join(dir, 'certs');
    for (const file of readdirSync(certs)) expect(statSync(join(certs, file)).mode & 0o777, file).to.equal(0o600);
    expect(statSync(certs).mode & 0o777).to.equal(0o700);
  });

  it('answers the redirect port with a 308 to the https address, path and query kept; other Hosts get 503', async () => {
    const { port, plain, a, dir } = await twoSites();
    await h.proxy(modelOf({ hostname: 'shop.test', port, routes: [route(a)], tls: tlsOf(shop), redirectHttpPort: plain }), dir);
    const answer = await redirectOf(plain, 'shop.test', '/cart?item=1');
    expect(answer).to.deep.equal({ status: 308, location: `https://shop.test:${port}/cart?item=1` });
    expect((await get(plain, 'other.test')).status).to.equal(503);
  });

  it('serves a new certificate after a hitless reload, and removes the files of an authority no longer served', async () => {
    const { port, a, b, dir } = await twoSites();
    const proxy = await h.proxy(modelOf({ hostname: 'shop.test', port, routes: [route(a)], tls: tlsOf(shop) }, { hostname: 'blog.test', port, routes: [route(b)], tls: tlsOf(blog) }), dir);
    const renewed = await selfSigned(['shop.test', 'www.shop.test']);
    const change = await proxy.apply(modelOf({ hostname: 'shop.test', port, routes: [route(a)], tls: tlsOf(renewed) }));
    expect(change).to.deep.equal({ kind: 'reload', reasons: [`certificate of authority shop.test:${port} changed`, `authority blog.test:${port} removed`] });
    expect(await httpsGet(port, 'shop.test', renewed.certificate)).to.include({ status: 200, body: 'a' });
    expect(readdirSync(join(dir, 'certs')).sort()).to.deep.equal([`be_shop.test_${port}.pem`, `fe_${port}.crtlist`]);
  });
});

/** One GET on a new plain connection, not following a redirect: its status and Location. */
function redirectOf(port: number, host: string, path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}
