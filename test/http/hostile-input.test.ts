import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { MANAGER_ROUTES } from '../../http/routes/index.js';
import type { AnyRoute } from '../../http/route.js';
import { forEachDatabase, type HarnessDeps } from './harness.js';

const routes = MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>;
const fields = (body: unknown): Array<string | undefined> => (body as { errors: Array<{ field?: string }> }).errors.map((e) => e.field);
const messages = (body: unknown): string => (body as { errors: Array<{ message: string }> }).errors.map((e) => e.message).join(' | ');

forEachDatabase('Manager: hostile input', routes, (h) => {
  const asAdmin = () => ({ token: h().tokens.admin });

  it('answers a body that is not what its Content-Encoding says with 400 naming the body, before and after authentication', async () => {
    for (const path of ['/oauth/token', '/products']) {
      const res = await h().call('POST', path, { ...asAdmin(), raw: '{"name":"plain"}', headers: { 'content-encoding': 'gzip' } });
      expect(res.status, path).to.equal(400);
      expect(fields(res.body)).to.deep.equal(['body']);
      expect(messages(res.body)).to.match(/not valid gzip/);
    }
    const cut = await h().call('POST', '/products', { ...asAdmin(), raw: gzipSync('{"name":"cut short"}').subarray(0, 12), headers: { 'content-encoding': 'gzip' } });
    expect(cut.status).to.equal(400);
  });

  it('reads a real gzip body, and refuses one that inflates past the limit with 413', async () => {
    const ok = await h().call('POST', '/products', { ...asAdmin(), raw: gzipSync(JSON.stringify({ name: 'zipped' })), headers: { 'content-encoding': 'gzip' } });
    expect(ok.status).to.equal(201);
    const bomb = gzipSync(JSON.stringify({ name: 'z'.repeat(3_000_000) }));
    const res = await h().call('POST', '/products', { ...asAdmin(), raw: bomb, headers: { 'content-encoding': 'gzip' } });
    expect(res.status).to.equal(413);
    expect(messages(res.body)).to.match(/larger than 1mb/);
  });

  it('answers 415 to an encoding or a type it does not serve, naming it', async () => {
    const compress = await h().call('POST', '/products', { ...asAdmin(), raw: '{"name":"x"}', headers: { 'content-encoding': 'compress' } });
    expect(compress.status).to.equal(415);
    expect(messages(compress.body)).to.match(/compress/);
    const xml = await h().call('POST', '/products', { ...asAdmin(), raw: '<product/>', contentType: 'text/xml' });
    // No body at all is not a type problem: the schema names what is missing.
    expect((await h().call('POST', '/products', asAdmin())).status).to.equal(400);
    expect(xml.status).to.equal(415);
    expect(messages(xml.body)).to.match(/text\/xml/);
  });

  it('answers 400 naming the field to nesting past 64 levels, however deep', async () => {
    for (const depth of [70, 10_000]) {
      const raw = `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const res = await h().call('POST', '/products', { ...asAdmin(), raw });
      expect(res.status, `depth ${depth}`).to.equal(400);
      expect(messages(res.body)).to.match(/nested deeper than 64 levels/);
      expect(fields(res.body)[1]).to.match(/^name/);
    }
  });

  it('answers 400 naming the field to an unpaired surrogate in a value or a key', async () => {
    const value = await h().call('POST', '/products', { ...asAdmin(), raw: '{"name":"bad\\ud800name"}' });
    expect(value.status).to.equal(400);
    expect(fields(value.body)).to.deep.equal([undefined, 'name']);
    expect(messages(value.body)).to.match(/unpaired UTF-16 surrogates/);
    const key = await h().call('POST', '/products', { ...asAdmin(), raw: '{"name":"ok","\\udfff":1}' });
    expect(key.status).to.equal(400);
    // A paired surrogate is an ordinary character.
    expect((await h().call('POST', '/products', { ...asAdmin(), body: { name: 'rocket \u{1F680}' } })).status).to.equal(201);
  });

  it("stores, finds and tells apart names holding ';' and SQL", async () => {
    for (const name of ['semi;colon', "'; drop table products; --"]) {
      const created = await h().call('POST', '/products', { ...asAdmin(), body: { name } });
      expect(created.status, name).to.equal(201);
      const read = await h().call('GET', `/products/${encodeURIComponent(name)}`, asAdmin());
      expect(read.status, name).to.equal(200);
      expect((read.body as { name: string }).name).to.equal(name);
    }
    expect((await h().call('GET', '/products/a;b', asAdmin())).status).to.equal(404);
    expect((await h().call('GET', `/products/${'x'.repeat(130)}`, asAdmin())).status).to.be.oneOf([400, 404]);
  });

  it('sends security headers on every answer, errors too, and no CORS header to another origin', async () => {
    for (const [method, path] of [['GET', '/status'], ['GET', '/products'], ['POST', '/nowhere']] as const) {
      const res = await h().call(method, path, { headers: { origin: 'https://evil.example' } });
      expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
      expect(res.headers.get('x-frame-options')).to.equal('DENY');
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.headers.get('content-security-policy')).to.include("default-src 'none'");
      expect(res.headers.get('access-control-allow-origin')).to.equal(null);
    }
  });

  it('publishes patterns in /openapi.json that a client validator can compile, and docker_url accepts real URLs', async () => {
    const doc = JSON.stringify((await h().call('GET', '/openapi.json')).body);
    const patterns = [...doc.matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(patterns.length).to.be.greaterThan(3);
    for (const pattern of patterns) {
      expect(pattern, pattern).not.to.match(/\/[a-z]+$/);
      expect(() => new RegExp(pattern, 'u'), pattern).not.to.throw();
    }
    const dockerUrl = ((await h().call('GET', '/openapi.json')).body as { paths: Record<string, { post?: { requestBody?: { content: { 'application/json': { schema: { properties?: Record<string, { pattern?: string }> } } } } } }> })
      .paths['/clusters/{etcd_token}/hosts']?.post?.requestBody?.content['application/json'].schema.properties?.docker_url?.pattern;
    expect(dockerUrl).to.be.a('string');
    for (const url of ['tcp://10.0.0.7:2376', 'unix:///var/run/docker.sock', 'ssh://deploy@host.example']) expect(new RegExp(dockerUrl!, 'u').test(url), url).to.equal(true);
    expect(new RegExp(dockerUrl!, 'u').test('tcp://a b')).to.equal(false);
  });
});
