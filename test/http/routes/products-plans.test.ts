import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { ProductDeploymentPlanStepOptionSchema, ProductDeploymentPlanStepSchema } from '../../../entities/products.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

interface StepJson {
  id: number;
  type: string;
  on_success_step_id: number | null;
  on_failure_step_id: number | null;
  options: Array<{ product_deployment_plan_step_id: number; name: string; value: string | null }>;
  on_success_step: StepJson | null;
  on_failure_step: StepJson | null;
}

async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown, token = h.tokens.operator) {
  const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

/** `type(success,failure)`, `-` for none. */
function shape(node: StepJson | null): string {
  if (node === null) return '-';
  const children = node.on_success_step === null && node.on_failure_step === null ? '' : `(${shape(node.on_success_step)},${shape(node.on_failure_step)})`;
  return `${node.type}${children}`;
}

const treeOf = async (h: ApiHarness, path: string) => (await expectStatus(h, 200, 'GET', path, undefined, h.tokens.viewer)).body as StepJson;

forEachDatabase('Manager: deployment plans and their step trees', routes, (h) => {
  const plans = '/products/shop/deployment_plans';

  before(async () => {
    await expectStatus(h(), 201, 'POST', '/products', { name: 'shop' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'prod' });
  });

  it('creates (201 + Location), shows, lists, renames (204 + Location) and deletes a plan', async () => {
    const created = await expectStatus(h(), 201, 'POST', plans, { name: 'Blue Green' });
    expect(created.headers.get('location')).to.equal(`${plans}/Blue%20Green`);
    const shown = await expectStatus(h(), 200, 'GET', `${plans}/blue%20GREEN`, undefined, h().tokens.viewer);
    expect(Object.keys(shown.body as object)).to.deep.equal(['id', 'product_id', 'name', 'inserted_at', 'updated_at']);
    await expectStatus(h(), 201, 'POST', plans, { name: 'canary' });
    const listed = await expectStatus(h(), 200, 'GET', `${plans}?limit=1`);
    expect(listed.headers.get('x-total-count')).to.equal('2');
    const renamed = await expectStatus(h(), 204, 'PUT', `${plans}/blue%20green`, { name: 'bluegreen' });
    expect(renamed.headers.get('location')).to.equal(`${plans}/bluegreen`);
    await expectStatus(h(), 204, 'PUT', `${plans}/bluegreen`, { name: 'BlueGreen' });
    await expectStatus(h(), 204, 'DELETE', `${plans}/bluegreen`);
    await expectStatus(h(), 404, 'GET', `${plans}/bluegreen`);
    await expectStatus(h(), 204, 'DELETE', `${plans}/canary`);
  });

  it('renaming onto another plan replaces that plan and its steps, as the original did (reference §3.5)', async () => {
    await expectStatus(h(), 201, 'POST', plans, { name: 'old' });
    await expectStatus(h(), 201, 'POST', plans, { name: 'new' });
    await expectStatus(h(), 201, 'POST', `${plans}/old/steps`, { type: 'build_component', options: [{ name: 'o', value: 'v' }] });
    await expectStatus(h(), 204, 'PUT', `${plans}/new`, { name: 'OLD' });
    expect(((await expectStatus(h(), 200, 'GET', plans)).body as Array<{ name: string }>).map((p) => p.name)).to.deep.equal(['OLD']);
    expect(await h().db.fork().count(ProductDeploymentPlanStepSchema, {})).to.equal(0);
    expect(await h().db.fork().count(ProductDeploymentPlanStepOptionSchema, {})).to.equal(0);
    await expectStatus(h(), 204, 'DELETE', plans);
    expect((await expectStatus(h(), 200, 'GET', plans)).body).to.deep.equal([]);
  });

  it('refuses with 409 to delete a plan that deployments ran (the original failed with 500)', async () => {
    await expectStatus(h(), 201, 'POST', plans, { name: 'used' });
    const deployment = await expectStatus(h(), 201, 'POST', '/products/shop/deployments', { plan_name: 'used', environment_name: 'prod' });
    const id = deployment.headers.get('location')!.split('/').pop();
    for (const path of [`${plans}/used`, plans]) {
      const res = await expectStatus(h(), 409, 'DELETE', path);
      expect(errorsOf(res.body)[0]!.message).to.equal(`ProductDeploymentPlan is used by deployment(s) ${id}; delete them first`);
    }
    await expectStatus(h(), 204, 'DELETE', deployment.headers.get('location')!);
    await expectStatus(h(), 204, 'DELETE', `${plans}/used`);
  });

  it('answers 400 naming the field, 404 and 409 for plans', async () => {
    expect(errorsOf((await expectStatus(h(), 400, 'POST', plans, { name: '' })).body).map((e) => e.field)).to.include('name');
    await expectStatus(h(), 400, 'PUT', `${plans}/x`, {});
    await expectStatus(h(), 404, 'GET', '/products/nope/deployment_plans');
    expect(errorsOf((await expectStatus(h(), 404, 'GET', `${plans}/nope`)).body)[0]!.message).to.equal('ProductDeploymentPlan was not found');
    await expectStatus(h(), 404, 'PUT', `${plans}/nope`, { name: 'x' });
    await expectStatus(h(), 404, 'DELETE', `${plans}/nope`);
    await expectStatus(h(), 201, 'POST', plans, { name: 'taken' });
    expect(errorsOf((await expectStatus(h(), 409, 'POST', plans, { name: 'TAKEN' })).body)[0]!.message).to.match(/^A ProductDeploymentPlan already exists/);
    await expectStatus(h(), 204, 'DELETE', `${plans}/taken`);
  });

  it('creates a nested step tree in one request and shows it from its root; 204 while there are no steps', async () => {
    await expectStatus(h(), 201, 'POST', plans, { name: 'tree' });
    const steps = `${plans}/tree/steps`;
    await expectStatus(h(), 204, 'GET', steps);
    const created = await expectStatus(h(), 201, 'POST', steps, {
      type: 'build_component',
      options: [{ name: 'component', value: 'web' }],
      on_success_step: { type: 'deploy_component', on_success_step: { type: 'deploy_script' }, on_failure_step: { type: 'component_script' } },
      on_failure_step: { type: 'execute_plan', options: [{ name: 'plan', value: 'rollback' }] },
    });
    expect(created.headers.get('location')).to.equal(steps);
    const root = await treeOf(h(), `${plans}/TREE/steps`);
    expect(shape(root)).to.equal('build_component(deploy_component(deploy_script,component_script),execute_plan)');
    expect(root.on_success_step_id).to.equal(root.on_success_step!.id);
    expect(root.options.map((o) => [o.name, o.value, o.product_deployment_plan_step_id])).to.deep.equal([['component', 'web', root.id]]);
    expect(root.on_failure_step!.options.map((o) => o.value)).to.deep.equal(['rollback']);
    expect(Object.keys(root)).to.include.members(['id', 'type', 'on_success_step_id', 'on_failure_step_id', 'options', 'inserted_at', 'updated_at']);
  });

  it('hangs a subtree under a free link of a step; a second root or a taken link is a 409', async () => {
    const steps = `${plans}/tree/steps`;
    const root = await treeOf(h(), steps);
    const leaf = root.on_failure_step!;
    const second = await expectStatus(h(), 409, 'POST', steps, { type: 'deploy_script' });
    expect(errorsOf(second.body)[0]!.message).to.match(/already has steps/);
    await expectStatus(h(), 409, 'POST', steps, { type: 'deploy_script', parent_step_id: root.id, step_case: 'success' });
    await expectStatus(h(), 201, 'POST', steps, { type: 'deploy_script', parent_step_id: leaf.id, step_case: 'failure', on_success_step: { type: 'component_script' } });
    expect(shape(await treeOf(h(), steps))).to.equal('build_component(deploy_component(deploy_script,component_script),execute_plan(-,deploy_script(component_script,-)))');
  });

  it('updates a step: type, options replaced, links moved; refuses links that break the tree (400)', async () => {
    const steps = `${plans}/tree/steps`;
    const root = await treeOf(h(), steps);
    const deploy = root.on_success_step!;
    const script = deploy.on_success_step!;
    await expectStatus(h(), 204, 'PUT', `${steps}/${deploy.id}`, { type: 'build_deploy_component', options: [{ name: 'a', value: '1' }, { name: 'b', value: null }] });
    let tree = await treeOf(h(), steps);
    expect(tree.on_success_step!.type).to.equal('build_deploy_component');
    expect(tree.on_success_step!.options.map((o) => [o.name, o.value])).to.deep.equal([['a', '1'], ['b', null]]);
    expect(tree.on_success_step!.on_success_step!.id, 'links not given stay').to.equal(script.id);
    await expectStatus(h(), 204, 'PUT', `${steps}/${deploy.id}`, { type: 'build_deploy_component', on_success_step_id: null });
    await expectStatus(h(), 204, 'PUT', `${steps}/${root.on_failure_step!.id}`, { type: 'execute_plan', on_success_step_id: script.id });
    tree = await treeOf(h(), steps);
    expect(shape(tree)).to.equal('build_component(build_deploy_component(-,component_script),execute_plan(deploy_script,deploy_script(component_script,-)))');
    expect(tree.on_success_step!.options.length, 'options not given stay').to.equal(2);

    const cycle = await expectStatus(h(), 400, 'PUT', `${steps}/${script.id}`, { type: 'deploy_script', on_success_step_id: root.id });
    expect(errorsOf(cycle.body)[1]!.field).to.equal('on_success_step_id');
    expect(errorsOf(cycle.body)[1]!.message).to.match(/^on_success_step_id: the links would form a cycle through step \d+$/);
    const twoParents = await expectStatus(h(), 400, 'PUT', `${steps}/${deploy.id}`, { type: 'deploy_script', on_success_step_id: script.id });
    expect(errorsOf(twoParents.body)[1]!.message).to.match(/already follows step/);
    await expectStatus(h(), 400, 'PUT', `${steps}/${deploy.id}`, { type: 'deploy_script', on_failure_step_id: deploy.id });
    await expectStatus(h(), 201, 'POST', plans, { name: 'other' });
    await expectStatus(h(), 201, 'POST', `${plans}/other/steps`, { type: 'deploy_script' });
    const foreign = (await treeOf(h(), `${plans}/other/steps`)).id;
    const outside = await expectStatus(h(), 400, 'PUT', `${steps}/${deploy.id}`, { type: 'deploy_script', on_failure_step_id: foreign });
    expect(errorsOf(outside.body)[1]!.message).to.equal(`on_failure_step_id: step ${foreign} is not a step of this plan`);
    await expectStatus(h(), 404, 'PUT', `${plans}/other/steps/${deploy.id}`, { type: 'deploy_script' });
    await expectStatus(h(), 400, 'POST', steps, { type: 'deploy_script', parent_step_id: foreign, step_case: 'success' });
  });

  it('deletes a step with the steps under it and unlinks it; deletes all steps', async () => {
    const steps = `${plans}/tree/steps`;
    const root = await treeOf(h(), steps);
    const failure = root.on_failure_step!;
    await expectStatus(h(), 204, 'DELETE', `${steps}/${failure.id}`);
    const tree = await treeOf(h(), steps);
    expect(shape(tree)).to.equal('build_component(build_deploy_component(-,component_script),-)');
    expect(tree.on_failure_step_id).to.equal(null);
    await expectStatus(h(), 404, 'DELETE', `${steps}/${failure.id}`);
    await expectStatus(h(), 204, 'DELETE', steps);
    await expectStatus(h(), 204, 'GET', steps);
    expect(await h().db.fork().count(ProductDeploymentPlanStepOptionSchema, { product_deployment_plan_step_id: root.id })).to.equal(0);
  });

  it('answers 400 for bad steps, too deep or too many, and 404 for unknown plans and steps', async () => {
    const steps = `${plans}/tree/steps`;
    const badType = await expectStatus(h(), 400, 'POST', steps, { type: 'build_deploy', on_success_step: { type: 'nope' } });
    expect(errorsOf(badType.body).map((e) => e.field)).to.include.members(['type', 'on_success_step.type']);
    await expectStatus(h(), 400, 'POST', steps, { type: 'deploy_script', parent_step_id: 1 });
    await expectStatus(h(), 400, 'POST', steps, { type: 'deploy_script', options: [{ value: 'x' }] });
    let deep: Record<string, unknown> = { type: 'deploy_script' };
    for (let i = 0; i < 40; i += 1) deep = { type: 'deploy_script', on_success_step: deep };
    const tooDeep = await expectStatus(h(), 400, 'POST', steps, deep);
    expect(JSON.stringify(tooDeep.body)).to.include('steps nest at most 32 deep');
    // 20,000 levels: refused by the request-wide depth limit (http/route.ts) before this route's schema walks it.
    const raw = `${'{"type":"deploy_script","on_success_step":'.repeat(20_000)}null${'}'.repeat(20_000)}`;
    const huge = await h().call('POST', steps, { token: h().tokens.operator, raw });
    expect(huge.status, 'a very deep body is refused, not a stack overflow').to.equal(400);
    const leaf = (n: number): Record<string, unknown> => (n === 0 ? { type: 'deploy_script' } : { type: 'deploy_script', on_success_step: leaf(n - 1), on_failure_step: leaf(n - 1) });
    const tooMany = await expectStatus(h(), 400, 'POST', steps, leaf(9));
    expect(JSON.stringify(tooMany.body)).to.include('at most 500 steps per request, got 1023');
    await expectStatus(h(), 204, 'GET', steps);
    await expectStatus(h(), 400, 'PUT', `${steps}/abc`, { type: 'deploy_script' });
    await expectStatus(h(), 400, 'PUT', `${steps}/1`, { type: 'deploy_script', on_success_step_id: 'x' });
    await expectStatus(h(), 404, 'PUT', `${steps}/424242`, { type: 'deploy_script' });
    await expectStatus(h(), 404, 'DELETE', `${steps}/424242`);
    expect(errorsOf((await expectStatus(h(), 404, 'GET', `${plans}/nope/steps`)).body)[0]!.message).to.equal('ProductDeploymentPlan was not found');
    await expectStatus(h(), 404, 'POST', `${plans}/nope/steps`, { type: 'deploy_script' });
    await expectStatus(h(), 404, 'DELETE', `${plans}/nope/steps`);
    await expectStatus(h(), 403, 'POST', steps, { type: 'deploy_script' }, h().tokens.viewer);
  });
});
