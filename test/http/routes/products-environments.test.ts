import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { ProductDeploymentSchema, ProductEnvironmentalVariableSchema } from '../../../entities/products.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown, token = h.tokens.operator) {
  const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

forEachDatabase('Manager: product environments', routes, (h) => {
  before(async () => {
    await expectStatus(h(), 201, 'POST', '/products', { name: 'Shop' });
  });

  it('creates (201 + Location), shows, lists with a total, renames (204 + Location) and deletes an environment', async () => {
    const created = await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'Staging EU' });
    expect(created.headers.get('location')).to.equal('/products/Shop/environments/Staging%20EU');
    const shown = await expectStatus(h(), 200, 'GET', '/products/SHOP/environments/staging%20eu', undefined, h().tokens.viewer);
    expect(shown.body).to.deep.include({ name: 'Staging EU' });
    expect(Object.keys(shown.body as object)).to.deep.equal(['id', 'product_id', 'name', 'inserted_at', 'updated_at']);
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'prod' });
    const listed = await expectStatus(h(), 200, 'GET', '/products/shop/environments?limit=1', undefined, h().tokens.viewer);
    expect(listed.headers.get('x-total-count')).to.equal('2');
    expect((listed.body as Array<{ name: string }>).map((e) => e.name)).to.deep.equal(['Staging EU']);
    const renamed = await expectStatus(h(), 204, 'PUT', '/products/shop/environments/staging%20eu', { name: 'staging' });
    expect(renamed.headers.get('location')).to.equal('/products/Shop/environments/staging');
    await expectStatus(h(), 204, 'DELETE', '/products/shop/environments/STAGING');
    await expectStatus(h(), 404, 'GET', '/products/shop/environments/staging');
    await expectStatus(h(), 204, 'DELETE', '/products/shop/environments/prod');
  });

  it('answers 400 naming the field, 404 for an unknown product or environment, 409 for a taken name', async () => {
    const bad = await expectStatus(h(), 400, 'POST', '/products/shop/environments', { name: 'x'.repeat(129) });
    expect(errorsOf(bad.body).map((e) => e.field)).to.include('name');
    await expectStatus(h(), 400, 'POST', '/products/shop/environments', {});
    await expectStatus(h(), 400, 'PUT', '/products/shop/environments/any', { name: '' });
    const noProduct = await expectStatus(h(), 404, 'POST', '/products/nope/environments', { name: 'a' });
    expect(errorsOf(noProduct.body)[0]!.message).to.equal('Product was not found');
    await expectStatus(h(), 404, 'GET', '/products/nope/environments');
    const noEnvironment = await expectStatus(h(), 404, 'GET', '/products/shop/environments/nope');
    expect(errorsOf(noEnvironment.body)[0]!.message).to.equal('ProductEnvironment was not found');
    await expectStatus(h(), 404, 'PUT', '/products/shop/environments/nope', { name: 'a' });
    await expectStatus(h(), 404, 'DELETE', '/products/shop/environments/nope');
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'qa' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'dev' });
    const conflict = await expectStatus(h(), 409, 'POST', '/products/shop/environments', { name: 'QA' });
    expect(errorsOf(conflict.body)[0]!.message).to.match(/^A ProductEnvironment already exists with that identifier/);
    await expectStatus(h(), 409, 'PUT', '/products/shop/environments/dev', { name: 'Qa' });
    await expectStatus(h(), 204, 'PUT', '/products/shop/environments/qa', { name: 'QA' });
    // Another product may use the same name.
    await expectStatus(h(), 201, 'POST', '/products', { name: 'other' });
    await expectStatus(h(), 201, 'POST', '/products/other/environments', { name: 'qa' });
    await expectStatus(h(), 403, 'POST', '/products/other/environments', { name: 'x' }, h().tokens.viewer);
  });

  it('deletes an environment with its variables; its deployments stay as history without an environment', async () => {
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'doomed' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments/doomed/variables', { name: 'A', value: '1' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environmental_variables', { name: 'DEFAULT', value: 'd' });
    await expectStatus(h(), 201, 'POST', '/products/shop/deployment_plans', { name: 'plan' });
    const deployment = await expectStatus(h(), 201, 'POST', '/products/shop/deployments', { plan_name: 'plan', environment_name: 'doomed' });
    await expectStatus(h(), 204, 'DELETE', '/products/shop/environments/doomed');
    const em = h().db.fork();
    expect((await em.find(ProductEnvironmentalVariableSchema, {})).map((v) => v.name)).to.deep.equal(['DEFAULT']);
    const id = Number(deployment.headers.get('location')!.split('/').pop());
    expect((await em.findOneOrFail(ProductDeploymentSchema, { id })).product_environment_id).to.equal(null);
    const shown = await expectStatus(h(), 200, 'GET', deployment.headers.get('location')!);
    expect(shown.body).to.deep.include({ product_environment_id: null });
  });
});
