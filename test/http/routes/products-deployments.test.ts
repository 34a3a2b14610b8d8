import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { ProductDeploymentSchema, ProductDeploymentStepSchema } from '../../../entities/products.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

interface DeploymentJson {
  id: number;
  product_deployment_plan_id: number;
  product_environment_id: number | null;
  execution_options: unknown;
  completed: boolean | null;
  duration: string | null;
  output: unknown;
}
interface Page {
  deployments: DeploymentJson[];
  total_pages: number;
  total_deployments: number;
}

async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown, token = h.tokens.operator) {
  const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

forEachDatabase('Manager: product deployments and their steps', routes, (h) => {
  const deployments = '/products/shop/deployments';
  const run = { plan_name: 'Rollout', environment_name: 'PROD' };

  before(async () => {
    await expectStatus(h(), 201, 'POST', '/products', { name: 'shop' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'prod' });
    await expectStatus(h(), 201, 'POST', '/products/shop/deployment_plans', { name: 'rollout' });
    await expectStatus(h(), 201, 'POST', '/products/shop/deployment_plans/rollout/steps', { type: 'build_component', on_success_step: { type: 'deploy_component' } });
    await expectStatus(h(), 201, 'POST', '/products', { name: 'other' });
  });

  it('records a deployment (201 + Location), shows it with JSON columns decoded, updates (204) and deletes it', async () => {
    expect((await expectStatus(h(), 200, 'GET', deployments)).body).to.deep.equal({ deployments: [], total_pages: 0, total_deployments: 0 });
    const created = await expectStatus(h(), 201, 'POST', deployments, { ...run, execution_options: { force: true } });
    const location = created.headers.get('location')!;
    expect(location).to.match(/^\/products\/shop\/deployments\/\d+$/);
    const shown = (await expectStatus(h(), 200, 'GET', location, undefined, h().tokens.viewer)).body as DeploymentJson;
    expect(Object.keys(shown)).to.deep.equal([
      'id', 'product_id', 'product_deployment_plan_id', 'product_environment_id', 'execution_options', 'completed', 'duration', 'output', 'inserted_at', 'updated_at',
    ]);
    expect(shown).to.deep.include({ execution_options: { force: true }, completed: false, duration: null, output: [] });
    const updated = await expectStatus(h(), 204, 'PUT', location, { completed: true, duration: 42, output: ['built', 'deployed'] });
    expect(updated.headers.get('location')).to.equal(location);
    const after = (await expectStatus(h(), 200, 'GET', location)).body as DeploymentJson;
    expect(after).to.deep.include({ completed: true, duration: '42', output: ['built', 'deployed'], execution_options: { force: true } });
    await expectStatus(h(), 201, 'POST', `${location}/steps`, { sequence: 1 });
    await expectStatus(h(), 204, 'DELETE', location);
    await expectStatus(h(), 404, 'GET', location);
    expect(await h().db.fork().count(ProductDeploymentStepSchema, {})).to.equal(0);
  });

  it('pages deployments newest first, 20 a page, and `page` works (deliberate fix, reference §10.1 item 8)', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 25; i += 1) ids.push(Number((await expectStatus(h(), 201, 'POST', deployments, run)).headers.get('location')!.split('/').pop()));
    const newestFirst = [...ids].reverse();
    const first = await expectStatus(h(), 200, 'GET', deployments, undefined, h().tokens.viewer);
    const firstPage = first.body as Page;
    expect([firstPage.total_pages, firstPage.total_deployments, firstPage.deployments.length]).to.deep.equal([2, 25, 20]);
    expect(firstPage.deployments.map((d) => d.id)).to.deep.equal(newestFirst.slice(0, 20));
    expect(first.headers.get('x-total-count')).to.equal('25');
    const second = (await expectStatus(h(), 200, 'GET', `${deployments}?page=2`)).body as Page;
    expect(second.deployments.map((d) => d.id)).to.deep.equal(newestFirst.slice(20));
    expect([second.total_pages, second.total_deployments]).to.deep.equal([2, 25]);
    expect(((await expectStatus(h(), 200, 'GET', `${deployments}?page=3`)).body as Page).deployments).to.deep.equal([]);
    const small = (await expectStatus(h(), 200, 'GET', `${deployments}?limit=10&page=3`)).body as Page;
    expect([small.total_pages, small.deployments.map((d) => d.id)]).to.deep.equal([3, newestFirst.slice(20)]);
    expect(((await expectStatus(h(), 200, 'GET', `${deployments}?limit=2&offset=1`)).body as Page).deployments.map((d) => d.id)).to.deep.equal(newestFirst.slice(1, 3));
    for (const id of ids) await expectStatus(h(), 204, 'DELETE', `${deployments}/${id}`);
  });

  it('answers 400 naming the field and 404 for unknown products, plans, environments and deployments', async () => {
    const missing = await expectStatus(h(), 400, 'POST', deployments, { plan_name: 'rollout' });
    expect(errorsOf(missing.body).map((e) => e.field)).to.deep.equal([undefined, 'environment_name']);
    await expectStatus(h(), 400, 'POST', deployments, { environment_name: 'prod' });
    await expectStatus(h(), 400, 'POST', deployments, { ...run, execution_options: 'fast' });
    for (const page of ['0', 'abc', '-1']) await expectStatus(h(), 400, 'GET', `${deployments}?page=${page}`);
    await expectStatus(h(), 400, 'GET', `${deployments}/abc`);
    await expectStatus(h(), 400, 'PUT', `${deployments}/1`, { completed: 'yes' });
    await expectStatus(h(), 400, 'PUT', `${deployments}/1`, { output: 'not a list' });
    expect(errorsOf((await expectStatus(h(), 404, 'POST', deployments, { ...run, plan_name: 'nope' })).body)[0]!.message).to.equal('ProductDeploymentPlan was not found');
    expect(errorsOf((await expectStatus(h(), 404, 'POST', deployments, { ...run, environment_name: 'nope' })).body)[0]!.message).to.equal(
      'ProductEnvironment was not found',
    );
    await expectStatus(h(), 404, 'GET', '/products/nope/deployments');
    const mine = (await expectStatus(h(), 201, 'POST', deployments, run)).headers.get('location')!;
    const id = mine.split('/').pop()!;
    expect(errorsOf((await expectStatus(h(), 404, 'GET', `/products/other/deployments/${id}`)).body)[0]!.message).to.equal('ProductDeployment was not found');
    await expectStatus(h(), 404, 'PUT', '/products/shop/deployments/424242', { completed: true });
    await expectStatus(h(), 404, 'DELETE', '/products/shop/deployments/424242');
    await expectStatus(h(), 403, 'PUT', mine, { completed: true }, h().tokens.viewer);
    await expectStatus(h(), 204, 'DELETE', mine);
  });

  it('records the steps of a deployment (201 + full Location), lists them in sequence, shows, updates and deletes one', async () => {
    const deployment = (await expectStatus(h(), 201, 'POST', deployments, run)).headers.get('location')!;
    const planSteps = (await expectStatus(h(), 200, 'GET', '/products/shop/deployment_plans/rollout/steps')).body as { id: number; on_success_step: { id: number } };
    const second = await expectStatus(h(), 201, 'POST', `${deployment}/steps`, {
      product_deployment_plan_step_id: planSteps.on_success_step.id,
      product_deployment_plan_step_type: 'deploy_component',
      sequence: 2,
    });
    // Deliberate difference: the original's Location was the bare step id (reference §3.5).
    expect(second.headers.get('location')).to.match(new RegExp(`^${deployment}/steps/\\d+$`));
    await expectStatus(h(), 201, 'POST', `${deployment}/steps`, {
      product_deployment_plan_step_id: planSteps.id,
      product_deployment_plan_step_type: 'build_component',
      sequence: 1,
      successful: true,
      duration: '12',
      execution_options: { a: 1 },
      output: ['line'],
    });
    const listed = await expectStatus(h(), 200, 'GET', `${deployment}/steps`, undefined, h().tokens.viewer);
    expect((listed.body as Array<{ sequence: number }>).map((s) => s.sequence)).to.deep.equal([1, 2]);
    expect(listed.headers.get('x-total-count')).to.equal('2');
    expect((listed.body as unknown[])[0]).to.deep.include({ successful: true, duration: '12', execution_options: { a: 1 }, output: ['line'] });
    const location = second.headers.get('location')!;
    await expectStatus(h(), 204, 'PUT', location, { successful: false, output: ['failed'] });
    expect((await expectStatus(h(), 200, 'GET', location)).body).to.deep.include({ successful: false, output: ['failed'], sequence: 2 });
    await expectStatus(h(), 204, 'DELETE', location);
    await expectStatus(h(), 404, 'GET', location);
    expect(await h().db.fork().count(ProductDeploymentSchema, {})).to.equal(1);
  });

  it('answers 400 and 404 for deployment steps', async () => {
    const deployment = (await expectStatus(h(), 201, 'POST', deployments, run)).headers.get('location')!;
    const foreign = await expectStatus(h(), 400, 'POST', `${deployment}/steps`, { product_deployment_plan_step_id: 424242 });
    expect(errorsOf(foreign.body)[1]).to.deep.equal({
      field: 'product_deployment_plan_step_id',
      message: "product_deployment_plan_step_id: step 424242 is not a step of the deployment's plan",
    });
    await expectStatus(h(), 400, 'POST', `${deployment}/steps`, { sequence: -1 });
    await expectStatus(h(), 400, 'POST', `${deployment}/steps`, { unknown: 1 });
    await expectStatus(h(), 400, 'GET', `${deployment}/steps/abc`);
    await expectStatus(h(), 404, 'GET', '/products/shop/deployments/424242/steps');
    await expectStatus(h(), 404, 'POST', '/products/shop/deployments/424242/steps', { sequence: 1 });
    const missing = await expectStatus(h(), 404, 'GET', `${deployment}/steps/424242`);
    expect(errorsOf(missing.body)[0]!.message).to.equal('ProductDeploymentStep was not found');
    await expectStatus(h(), 404, 'PUT', `${deployment}/steps/424242`, { sequence: 1 });
    await expectStatus(h(), 404, 'DELETE', `${deployment}/steps/424242`);
    const step = (await expectStatus(h(), 201, 'POST', `${deployment}/steps`, { sequence: 1 })).headers.get('location')!;
    const otherDeployment = (await expectStatus(h(), 201, 'POST', deployments, run)).headers.get('location')!;
    await expectStatus(h(), 404, 'GET', `${otherDeployment}/steps/${step.split('/').pop()}`);
    await expectStatus(h(), 403, 'DELETE', step, undefined, h().tokens.viewer);
  });
});
