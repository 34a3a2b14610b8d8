import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import { routerRoutes } from '../../../http/routes/router.js';
import type { AnyRoute } from '../../../http/route.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

const routes = [...routerRoutes, ...allProductRoutes] as ReadonlyArray<AnyRoute<HarnessDeps>>;
type Errors = { errors: Array<{ message: string; field?: string }> };
type Owned = { hostname: string; product: string | null; environment: string | null };

/** Issue 15: an authority belongs to a product and one of its environments; the lists filter by product. */
forEachDatabase('Manager: whose address an authority is', routes, (h) => {
  const as = (token: 'admin' | 'operator' | 'viewer') => h().tokens[token];
  const post = (path: string, body: unknown) => h().call('POST', path, { token: as('admin'), body });

  async function product(name: string, ...environments: string[]): Promise<void> {
    expect((await post('/products', { name })).status).to.equal(201);
    for (const environment of environments) expect((await post(`/products/${name}/environments`, { name: environment })).status).to.equal(201);
  }

  async function authority(body: Record<string, unknown>): Promise<string> {
    const res = await post('/router/authorities', { port: 80, ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.headers.get('location')!;
  }

  // The tests share one database: each names its products and hosts after itself.
  let test = 0;
  beforeEach(() => void (test += 1));
  const n = (name: string): string => `${name}${test}`;

  const shown = async (location: string): Promise<Owned> => (await h().call('GET', location, { token: as('viewer') })).body as Owned;

  it('is created with a product and environment (named without case), shown and listed by product', async () => {
    await product(n('shop'), 'prod', 'staging');
    await product(n('blog'));
    const web = await authority({ hostname: n('shop.example'), product: n('SHOP'), environment: 'Prod' });
    await authority({ hostname: n('blog.example'), product: n('blog') });
    await authority({ hostname: n('loose.example') });
    expect(await shown(web)).to.deep.include({ product: n('shop'), environment: 'prod' });
    const list = await h().call('GET', `/router/authorities?product=${n('shop')}`, { token: as('viewer') });
    expect((list.body as Owned[]).map((a) => a.hostname)).to.deep.equal([n('shop.example')]);
    expect(list.headers.get('x-total-count')).to.equal('1');
    const detailed = await h().call('GET', `/router/authorities/detailed?product=${n('Blog')}`, { token: as('viewer') });
    expect(detailed.body).to.have.length(1);
    expect((detailed.body as Array<Owned & { routes: unknown[] }>)[0]).to.deep.include({ hostname: n('blog.example'), product: n('blog'), environment: null, routes: [] });
    const all = (await h().call('GET', '/router/authorities', { token: as('viewer') })).body as Owned[];
    expect(all.find((a) => a.hostname === n('loose.example'))).to.deep.include({ product: null, environment: null });
  });

  it('changes hands with PUT: a new product resets the environment, an environment alone is the current product one', async () => {
    await product(n('shop'), 'prod');
    await product(n('blog'), 'prod');
    const location = await authority({ hostname: n('moving.example'), product: n('shop'), environment: 'prod' });
    const put = (body: unknown) => h().call('PUT', location, { token: as('admin'), body });
    expect((await put({ product: n('blog') })).status).to.equal(204);
    expect(await shown(location)).to.deep.include({ product: n('blog'), environment: null });
    expect((await put({ environment: 'prod' })).status).to.equal(204);
    expect(await shown(location)).to.deep.include({ product: n('blog'), environment: 'prod' });
    expect((await put({ port: 81 })).status).to.equal(204);
    expect(await shown(location)).to.deep.include({ product: n('blog'), environment: 'prod' });
    expect((await put({ product: null })).status).to.equal(204);
    expect(await shown(location)).to.deep.include({ product: null, environment: null });
  });

  it('answers 400 naming the field: an unknown product or environment, an environment without product, a bad filter', async () => {
    await product(n('shop'), 'prod');
    const refused = async (res: Promise<{ status: number; body: unknown }>, field: string, message: string) => {
      const { status, body } = await res;
      expect([status, (body as Errors).errors[1]?.field], JSON.stringify(body)).to.deep.equal([400, field]);
      expect((body as Errors).errors[1]?.message).to.equal(message);
    };
    await refused(post('/router/authorities', { hostname: 'a.example', port: 80, product: 'nope' }), 'product', 'product: no product "nope"');
    await refused(post('/router/authorities', { hostname: 'a.example', port: 80, product: n('shop'), environment: 'qa' }), 'environment', 'environment: the product has no environment "qa"');
    await refused(post('/router/authorities', { hostname: 'a.example', port: 80, environment: 'prod' }), 'environment', 'environment: an environment needs a product');
    await refused(post('/router/authorities', { hostname: 'a.example', port: 80, product: '' }), 'product', 'product: must not be empty');
    await refused(h().call('GET', '/router/authorities?product=nope', { token: as('viewer') }), 'query.product', 'query.product: no product "nope"');
    await refused(h().call('GET', '/router/authorities/detailed?product=', { token: as('viewer') }), 'query.product', 'query.product: must not be empty');
    expect((await h().call('GET', '/router/authorities?hostspec=a.example%3A80', { token: as('viewer') })).body).to.deep.equal([]);
  });

  it('outlives its product and environment, unowned, and is still served', async () => {
    await product(n('gone'), 'prod');
    await product(n('stays'), 'prod', 'qa');
    const gone = await authority({ hostname: n('gone.example'), product: n('gone'), environment: 'prod' });
    const qa = await authority({ hostname: n('qa.example'), product: n('stays'), environment: 'qa' });
    expect((await h().call('DELETE', `/products/${n('gone')}`, { token: as('operator') })).status).to.equal(204);
    expect((await h().call('DELETE', `/products/${n('stays')}/environments/qa`, { token: as('operator') })).status).to.equal(204);
    expect(await shown(gone)).to.deep.include({ hostname: n('gone.example'), product: null, environment: null });
    expect(await shown(qa)).to.deep.include({ hostname: n('qa.example'), product: n('stays'), environment: null });
    expect(Object.keys((await h().call('GET', '/router/routes', { token: as('viewer') })).body as object)).to.include.members([`${n('gone.example')}:80`, `${n('qa.example')}:80`]);
  });
});
