import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { EtcdClusterPortSchema, EtcdClusterSchema } from '../../../entities/clusters.js';
import {
  ProductClusterSchema,
  ProductComponentOptionSchema,
  ProductComponentSchema,
  ProductDeploymentPlanSchema,
  ProductDeploymentPlanStepOptionSchema,
  ProductDeploymentPlanStepSchema,
  ProductDeploymentSchema,
  ProductDeploymentStepSchema,
  ProductEnvironmentalVariableSchema,
  ProductEnvironmentSchema,
  ProductSchema,
} from '../../../entities/products.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

/** A request that must succeed with `status`; returns the response. */
async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown) {
  const res = await h.call(method, path, { token: h.tokens.operator, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

forEachDatabase('Manager: products', routes, (h) => {
  it('creates (201 + Location), shows, lists with a total, renames (204 + Location) and deletes a product', async () => {
    const created = await expectStatus(h(), 201, 'POST', '/products', { name: 'shop' });
    expect(created.headers.get('location')).to.equal('/products/shop');
    const shown = await h().call('GET', '/products/shop', { token: h().tokens.viewer });
    expect(shown.status).to.equal(200);
    expect(Object.keys(shown.body as object)).to.deep.equal(['id', 'name', 'inserted_at', 'updated_at']);
    expect((shown.body as { inserted_at: string }).inserted_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    await expectStatus(h(), 201, 'POST', '/products', { name: 'shop-two' });
    const page = await h().call('GET', '/products?limit=1&page=2', { token: h().tokens.viewer });
    expect(page.headers.get('x-total-count')).to.equal('2');
    expect((page.body as Array<{ name: string }>).map((p) => p.name)).to.deep.equal(['shop-two']);
    const renamed = await expectStatus(h(), 204, 'PUT', '/products/shop', { name: 'store' });
    expect(renamed.headers.get('location')).to.equal('/products/store');
    await expectStatus(h(), 204, 'DELETE', '/products/store');
    await expectStatus(h(), 404, 'GET', '/products/store');
    await expectStatus(h(), 204, 'DELETE', '/products/shop-two');
  });

  it('matches product names URL-decoded and case-insensitively (reference §3.1)', async () => {
    const created = await expectStatus(h(), 201, 'POST', '/products', { name: 'My Shop/EU' });
    expect(created.headers.get('location')).to.equal('/products/My%20Shop%2FEU');
    expect(((await expectStatus(h(), 200, 'GET', '/products/my%20shop%2Feu')).body as { name: string }).name).to.equal('My Shop/EU');
    // A name that looks like a LIKE pattern matches only itself.
    await expectStatus(h(), 404, 'GET', '/products/my%25');
    await expectStatus(h(), 204, 'DELETE', '/products/MY%20SHOP%2FEU');
  });

  it('answers 400 naming the field, 404 for an unknown product, 409 for a taken name in any case', async () => {
    const missing = await expectStatus(h(), 400, 'POST', '/products', { nom: 'x' });
    expect(errorsOf(missing.body).map((e) => e.field)).to.include.members(['name', 'nom']);
    expect(errorsOf(missing.body)[0]!.message).to.equal('One or more fields for Product were invalid');
    await expectStatus(h(), 400, 'POST', '/products', { name: '   ' });
    await expectStatus(h(), 400, 'POST', '/products', { name: 'x'.repeat(256) });
    await expectStatus(h(), 400, 'GET', '/products?limit=0');
    const notFound = await expectStatus(h(), 404, 'GET', '/products/nope');
    expect(errorsOf(notFound.body)[0]!.message).to.equal('Product was not found');
    await expectStatus(h(), 404, 'PUT', '/products/nope', { name: 'x' });
    await expectStatus(h(), 404, 'DELETE', '/products/nope');
    await expectStatus(h(), 201, 'POST', '/products', { name: 'Taken' });
    const conflict = await expectStatus(h(), 409, 'POST', '/products', { name: 'TAKEN' });
    expect(errorsOf(conflict.body)[0]!.message).to.match(/^A Product already exists with that identifier/);
    await expectStatus(h(), 201, 'POST', '/products', { name: 'other' });
    await expectStatus(h(), 409, 'PUT', '/products/other', { name: 'taken' });
    // Deliberate fix: the product's own name (even in another case) is not a conflict.
    await expectStatus(h(), 204, 'PUT', '/products/taken', { name: 'Taken' });
    await expectStatus(h(), 204, 'PUT', '/products/taken', { name: 'TAKEN' });
  });

  it('answers 401 without a token on every products route and 403 to a viewer on every mutation', async () => {
    const concrete = (path: string) => path.replace(/:([a-z_]+)/g, (_m, name: string) => (name.endsWith('_id') ? '1' : 'nope'));
    for (const route of routes) {
      const path = concrete(route.path);
      const method = route.method.toUpperCase();
      expect((await h().call(method, path)).status, `${method} ${path} without a token`).to.equal(401);
      expect((await h().call(method, path, { token: 'forged' })).status, `${method} ${path} forged`).to.equal(401);
      if (route.method === 'get') {
        expect(route.access, `${method} ${route.path}`).to.equal('viewer');
        continue;
      }
      expect(route.access, `${method} ${route.path}`).to.equal('operator');
      const res = await h().call(method, path, { token: h().tokens.viewer, body: {} });
      expect(res.status, `${method} ${path} as a viewer`).to.equal(403);
    }
  });

  it('deletes everything the product owns, in one go (reference §2.3 cascade), and nothing of other products', async () => {
    for (const name of ['doomed', 'kept']) {
      await expectStatus(h(), 201, 'POST', '/products', { name });
      await expectStatus(h(), 201, 'POST', `/products/${name}/environments`, { name: 'prod' });
      await expectStatus(h(), 201, 'POST', `/products/${name}/environmental_variables`, { name: 'A', value: '1' });
      await expectStatus(h(), 201, 'POST', `/products/${name}/environments/prod/variables`, { name: 'A', value: 's', private: true });
      await expectStatus(h(), 201, 'POST', `/products/${name}/components`, { name: 'web', type: 'web_server', options: [{ name: 'port', value: '80' }] });
      await expectStatus(h(), 201, 'POST', `/products/${name}/deployment_plans`, { name: 'rollout' });
      const steps = { type: 'build_component', options: [{ name: 'o', value: 'v' }], on_success_step: { type: 'deploy_component' } };
      await expectStatus(h(), 201, 'POST', `/products/${name}/deployment_plans/rollout/steps`, steps);
      const deployment = await expectStatus(h(), 201, 'POST', `/products/${name}/deployments`, { plan_name: 'rollout', environment_name: 'prod' });
      await expectStatus(h(), 201, 'POST', `${deployment.headers.get('location')}/steps`, { sequence: 1 });
    }
    const em = h().db.fork();
    const cluster = em.create(EtcdClusterSchema, { etcd_token: 'cascade-token', name: null, hosting_provider_id: null, allow_docker_builds: null, messaging_exchange_id: null });
    await em.flush();
    for (const name of ['doomed', 'kept']) {
      await expectStatus(h(), 201, 'POST', `/products/${name}/clusters`, { clusters: [{ id: cluster.id }] });
      const component = await em.findOneOrFail(ProductComponentSchema, { product_id: (await em.findOneOrFail(ProductSchema, { name })).id });
      em.create(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id, product_component_id: component.id, port: name === 'doomed' ? 45000 : 45001 });
    }
    await em.flush();
    const counts = async () => {
      const c = h().db.fork();
      return {
        products: await c.count(ProductSchema, { name: { $in: ['doomed', 'kept'] } }),
        environments: await c.count(ProductEnvironmentSchema, {}),
        variables: await c.count(ProductEnvironmentalVariableSchema, {}),
        clusters: await c.count(ProductClusterSchema, {}),
        components: await c.count(ProductComponentSchema, {}),
        componentOptions: await c.count(ProductComponentOptionSchema, {}),
        ports: await c.count(EtcdClusterPortSchema, { etcd_cluster_id: cluster.id }),
        plans: await c.count(ProductDeploymentPlanSchema, {}),
        steps: await c.count(ProductDeploymentPlanStepSchema, {}),
        stepOptions: await c.count(ProductDeploymentPlanStepOptionSchema, {}),
        deployments: await c.count(ProductDeploymentSchema, {}),
        deploymentSteps: await c.count(ProductDeploymentStepSchema, {}),
      };
    };
    const before = await counts();
    expect(before).to.deep.equal({
      products: 2, environments: 2, variables: 4, clusters: 2, components: 2, componentOptions: 2, ports: 2,
      plans: 2, steps: 4, stepOptions: 2, deployments: 2, deploymentSteps: 2,
    });
    await expectStatus(h(), 204, 'DELETE', '/products/DOOMED');
    const after = await counts();
    expect(after).to.deep.equal(Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v / 2])));
    expect(await h().db.fork().count(EtcdClusterSchema, { id: cluster.id }), 'the cluster itself stays').to.equal(1);
    await expectStatus(h(), 404, 'GET', '/products/doomed/environments');
    expect(((await expectStatus(h(), 200, 'GET', '/products/kept/components')).body as unknown[]).length).to.equal(1);
    await expectStatus(h(), 204, 'DELETE', '/products/kept');
  });

  it('documents every products route in /openapi.json', async () => {
    const res = await h().call('GET', '/openapi.json');
    expect(res.status).to.equal(200);
    const paths = (res.body as { paths: Record<string, Record<string, unknown>> }).paths;
    for (const route of routes) {
      const path = route.path.replace(/:([a-z_]+)/g, '{$1}');
      expect(paths[path]?.[route.method], `${route.method} ${path}`).to.not.equal(undefined);
    }
  });
});
