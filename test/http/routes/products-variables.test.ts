import { expect } from 'chai';
import { allProductRoutes } from '../../../http/routes/products.js';
import type { AnyRoute } from '../../../http/route.js';
import { AuditEventSchema } from '../../../entities/auth.js';
import { ProductEnvironmentalVariableSchema } from '../../../entities/products.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from '../harness.js';

const routes = allProductRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorsOf = (body: unknown) => (body as { errors: Array<{ message: string; field?: string }> }).errors;

interface VariableJson {
  id: number;
  product_environment_id: number | null;
  name: string;
  value: string | null;
  private: boolean | null;
}

async function expectStatus(h: ApiHarness, status: number, method: string, path: string, body?: unknown, token = h.tokens.operator) {
  const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
  return res;
}

const pairs = (body: unknown) => (body as VariableJson[]).map((v) => [v.name, v.value]);
const rowOf = (h: ApiHarness, name: string) => h.db.fork().findOneOrFail(ProductEnvironmentalVariableSchema, { name });

forEachDatabase('Manager: product environment variables', routes, (h) => {
  const env = '/products/shop/environments/prod/variables';
  const defaults = '/products/shop/environmental_variables';

  before(async () => {
    await expectStatus(h(), 201, 'POST', '/products', { name: 'shop' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'prod' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments', { name: 'qa' });
  });

  it('creates (201 + Location), shows, updates (204 + Location) and deletes an environment variable', async () => {
    const created = await expectStatus(h(), 201, 'POST', env, { name: 'Log Level', value: 'debug' });
    expect(created.headers.get('location')).to.equal('/products/shop/environments/prod/variables/Log%20Level');
    const shown = await expectStatus(h(), 200, 'GET', `${env}/LOG%20level`, undefined, h().tokens.viewer);
    expect(Object.keys(shown.body as object)).to.deep.equal(['id', 'product_id', 'product_environment_id', 'name', 'value', 'private', 'inserted_at', 'updated_at']);
    expect(shown.body).to.deep.include({ name: 'Log Level', value: 'debug', private: false });
    const updated = await expectStatus(h(), 204, 'PUT', `${env}/log%20level`, { name: 'LOG_LEVEL', value: 'info' });
    expect(updated.headers.get('location')).to.equal(`${env}/LOG_LEVEL`);
    expect((await expectStatus(h(), 200, 'GET', `${env}/log_level`)).body).to.deep.include({ name: 'LOG_LEVEL', value: 'info' });
    await expectStatus(h(), 204, 'DELETE', `${env}/LOG_LEVEL`);
    await expectStatus(h(), 404, 'GET', `${env}/LOG_LEVEL`);
  });

  it('creates, lists, shows (always a list), updates and deletes a default variable', async () => {
    const created = await expectStatus(h(), 201, 'POST', defaults, { name: 'REGION', value: 'eu' });
    expect(created.headers.get('location')).to.equal(`${defaults}/REGION`);
    const shown = await expectStatus(h(), 200, 'GET', `${defaults}/region`, undefined, h().tokens.viewer);
    expect(pairs(shown.body)).to.deep.equal([['REGION', 'eu']]);
    expect((shown.body as VariableJson[])[0]!.product_environment_id).to.equal(null);
    await expectStatus(h(), 204, 'PUT', `${defaults}/region`, { value: 'us' });
    expect(pairs((await expectStatus(h(), 200, 'GET', defaults)).body)).to.deep.equal([['REGION', 'us']]);
    await expectStatus(h(), 204, 'DELETE', `${defaults}/Region`);
    await expectStatus(h(), 404, 'GET', `${defaults}/region`);
  });

  it('coalesces: defaults plus the environment overrides, one per name, the environment winning (reference §3.5)', async () => {
    for (const [name, value] of [['A', '1'], ['B', '2'], ['C', '3']]) await expectStatus(h(), 201, 'POST', defaults, { name, value });
    await expectStatus(h(), 201, 'POST', env, { name: 'B', value: '23' });
    await expectStatus(h(), 201, 'POST', env, { name: 'D', value: 'prod-only' });
    await expectStatus(h(), 201, 'POST', '/products/shop/environments/qa/variables', { name: 'A', value: 'qa' });

    expect(pairs((await expectStatus(h(), 200, 'GET', env)).body), 'own only').to.deep.equal([['B', '23'], ['D', 'prod-only']]);
    const coalesced = await expectStatus(h(), 200, 'GET', `${env}?coalesced=TRUE`);
    expect(pairs(coalesced.body)).to.deep.equal([['A', '1'], ['B', '23'], ['C', '3'], ['D', 'prod-only']]);
    expect(coalesced.headers.get('x-total-count')).to.equal('4');
    const page = await expectStatus(h(), 200, 'GET', `${env}?coalesced=true&limit=2&page=2`);
    expect(pairs(page.body)).to.deep.equal([['C', '3'], ['D', 'prod-only']]);
    expect(page.headers.get('x-total-count')).to.equal('4');
    expect(pairs((await expectStatus(h(), 200, 'GET', `${env}?coalesced=no`)).body), 'anything but true is false').to.deep.equal([['B', '23'], ['D', 'prod-only']]);

    expect(pairs((await expectStatus(h(), 200, 'GET', defaults)).body), 'defaults only').to.deep.equal([['A', '1'], ['B', '2'], ['C', '3']]);
    const all = await expectStatus(h(), 200, 'GET', `${defaults}?coalesced=true`);
    expect((all.body as unknown[]).length, 'every variable of the product').to.equal(6);
    expect(all.headers.get('x-total-count')).to.equal('6');
    expect(pairs((await expectStatus(h(), 200, 'GET', `${defaults}/b`)).body)).to.deep.equal([['B', '2']]);
    expect(pairs((await expectStatus(h(), 200, 'GET', `${defaults}/b?coalesced=true`)).body)).to.deep.equal([['B', '2'], ['B', '23']]);
    expect(pairs((await expectStatus(h(), 200, 'GET', `${defaults}/d?coalesced=true`)).body), 'an override alone').to.deep.equal([['D', 'prod-only']]);
    await expectStatus(h(), 404, 'GET', `${defaults}/d`);
    for (const name of ['A', 'B', 'C']) await expectStatus(h(), 204, 'DELETE', `${defaults}/${name}`);
    for (const name of ['B', 'D']) await expectStatus(h(), 204, 'DELETE', `${env}/${name}`);
    await expectStatus(h(), 204, 'DELETE', '/products/shop/environments/qa/variables/a');
  });

  it('seals private values at rest and shows them to admins only (deliberate fix, reference §10.1 item 7)', async () => {
    await expectStatus(h(), 201, 'POST', env, { name: 'DB_PASSWORD', value: 'hunter2', private: true });
    await expectStatus(h(), 201, 'POST', defaults, { name: 'API_KEY', value: 'k-123', private: true });
    for (const [name, plaintext] of [['DB_PASSWORD', 'hunter2'], ['API_KEY', 'k-123']] as const) {
      const row = await rowOf(h(), name);
      expect(row.value).to.not.include(plaintext);
      expect(h().secrets.open(row.value!)).to.equal(plaintext);
      expect([row.private, row.value_keyname]).to.deep.equal([true, 'test']);
    }
    expect((await expectStatus(h(), 200, 'GET', `${env}/db_password`, undefined, h().tokens.admin)).body).to.deep.include({ value: 'hunter2', private: true });
    for (const token of [h().tokens.operator, h().tokens.viewer]) {
      expect((await expectStatus(h(), 200, 'GET', `${env}/db_password`, undefined, token)).body).to.deep.include({ value: null, private: true });
      for (const path of [env, `${env}?coalesced=true`, defaults, `${defaults}?coalesced=true`, `${defaults}/api_key`]) {
        const res = await expectStatus(h(), 200, 'GET', path, undefined, token);
        expect(JSON.stringify(res.body), path).to.not.match(/hunter2|k-123/);
      }
    }
    expect(pairs((await expectStatus(h(), 200, 'GET', `${env}?coalesced=true`, undefined, h().tokens.admin)).body)).to.deep.equal([
      ['API_KEY', 'k-123'],
      ['DB_PASSWORD', 'hunter2'],
    ]);
  });

  it('keeps a private value sealed across updates, and seals or opens it when the flag changes', async () => {
    await expectStatus(h(), 201, 'POST', env, { name: 'TOKEN', value: 'first', private: true });
    await expectStatus(h(), 204, 'PUT', `${env}/token`, { value: 'second' });
    let row = await rowOf(h(), 'TOKEN');
    expect(h().secrets.open(row.value!)).to.equal('second');
    await expectStatus(h(), 204, 'PUT', `${env}/token`, { private: false });
    row = await rowOf(h(), 'TOKEN');
    expect([row.value, row.value_keyname, row.private]).to.deep.equal(['second', null, false]);
    expect((await expectStatus(h(), 200, 'GET', `${env}/token`, undefined, h().tokens.viewer)).body).to.deep.include({ value: 'second' });
    await expectStatus(h(), 204, 'PUT', `${env}/token`, { private: true });
    row = await rowOf(h(), 'TOKEN');
    expect([h().secrets.open(row.value!), row.value_keyname, row.private]).to.deep.equal(['second', 'test', true]);
    await expectStatus(h(), 204, 'PUT', `${env}/token`, { name: 'TOKEN_2' });
    expect(h().secrets.open((await rowOf(h(), 'TOKEN_2')).value!), 'a rename leaves the sealed value').to.equal('second');
    await expectStatus(h(), 204, 'DELETE', `${env}/token_2`);
  });

  it('keeps private values out of the audit trail', async () => {
    await expectStatus(h(), 201, 'POST', env, { name: 'AUDITED', value: 'swordfish', private: true });
    await expectStatus(h(), 204, 'PUT', `${env}/audited`, { value: 'marlin' });
    await expectStatus(h(), 201, 'POST', defaults, { name: 'PUBLIC', value: 'visible' });
    const diffs = (await h().db.fork().find(AuditEventSchema, { target_type: 'ProductEnvironmentalVariable' })).map((e) => e.diff ?? '');
    expect(diffs.join()).to.not.match(/swordfish|marlin/);
    expect(diffs.join()).to.include('visible');
  });

  it('answers 409 "already exists" for a taken name in either scope (the default scope said "not found", reference §3.5)', async () => {
    await expectStatus(h(), 201, 'POST', defaults, { name: 'PORT', value: '80' });
    await expectStatus(h(), 201, 'POST', env, { name: 'PORT', value: '8080' });
    for (const path of [defaults, env]) {
      const res = await expectStatus(h(), 409, 'POST', path, { name: 'port', value: 'x' });
      expect(errorsOf(res.body)[0]!.message).to.match(/^A ProductEnvironmentalVariable already exists with that identifier/);
    }
    await expectStatus(h(), 201, 'POST', env, { name: 'HOST' });
    await expectStatus(h(), 409, 'PUT', `${env}/host`, { name: 'Port' });
    await expectStatus(h(), 204, 'PUT', `${env}/host`, { name: 'HOST' });
    await expectStatus(h(), 201, 'POST', defaults, { name: 'HOST' });
    await expectStatus(h(), 409, 'PUT', `${defaults}/host`, { name: 'port' });
  });

  it('answers 400 naming the field and 404 for an unknown product, environment or variable', async () => {
    const bad = await expectStatus(h(), 400, 'POST', env, { value: 3, secret: true });
    expect(errorsOf(bad.body).map((e) => e.field)).to.include.members(['name', 'value', 'secret']);
    await expectStatus(h(), 400, 'POST', defaults, { name: 'X', private: 'yes' });
    // 1024 characters of 4 bytes each would overflow the unique index (a 500); refused as a 400.
    const wide = await expectStatus(h(), 400, 'POST', defaults, { name: '\u{20001}'.repeat(600) });
    expect(errorsOf(wide.body)[1]!.message).to.equal('name: must be at most 2000 bytes in UTF-8');
    await expectStatus(h(), 400, 'PUT', `${env}/port`, { name: '' });
    await expectStatus(h(), 400, 'GET', `${env}?limit=0`);
    await expectStatus(h(), 400, 'GET', `${env}?unknown=1`);
    expect(errorsOf((await expectStatus(h(), 404, 'GET', '/products/nope/environmental_variables')).body)[0]!.message).to.equal('Product was not found');
    expect(errorsOf((await expectStatus(h(), 404, 'POST', '/products/shop/environments/nope/variables', { name: 'X' })).body)[0]!.message).to.equal(
      'ProductEnvironment was not found',
    );
    const missing = await expectStatus(h(), 404, 'PUT', `${env}/nope`, { value: 'x' });
    expect(errorsOf(missing.body)[0]!.message).to.equal('ProductEnvironmentalVariable was not found');
    await expectStatus(h(), 404, 'DELETE', `${env}/nope`);
    await expectStatus(h(), 404, 'PUT', `${defaults}/nope`, { value: 'x' });
    await expectStatus(h(), 404, 'DELETE', `${defaults}/nope`);
    await expectStatus(h(), 403, 'PUT', `${defaults}/port`, { value: 'x' }, h().tokens.viewer);
  });
});
