import { expect } from 'chai';
import { rpcRequestRoutes } from '../../../http/routes/messaging-rpc.js';
import { MessagingRpcRequestSchema } from '../../../entities/messaging.js';
import { forEachDatabase, type ApiHarness, type ApiResponse } from '../harness.js';

interface Problem {
  readonly message: string;
  readonly field?: string;
}
const problems = (res: ApiResponse): Problem[] => (res.body as { errors: Problem[] }).errors;

// Reference §10A: the FleetManager RPC request.
const request_body = { etcd_token: 'abc123', action: 'unit_logs', action_parameters: { unit_name: 'shop@0.service' } };

/** Creates an RPC request as an operator; its id. */
async function rpc(h: ApiHarness, body: Record<string, unknown> = { status: 'not_started', request_body }): Promise<number> {
  const res = await h.call('POST', '/messaging/rpc_requests', { token: h.tokens.operator, body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return Number(res.headers.get('location')!.split('/').pop());
}

forEachDatabase('Manager: messaging RPC requests', rpcRequestRoutes, (h) => {
  it('creates as an operator with 201 and Location, storing bodies as JSON text and decoding them on output', async () => {
    const res = await h().call('POST', '/messaging/rpc_requests', { token: h().tokens.operator, body: { status: 'not_started', request_body } });
    expect(res.status).to.equal(201);
    const location = res.headers.get('location')!;
    expect(location).to.match(/^\/messaging\/rpc_requests\/\d+$/);
    const id = Number(location.split('/').pop());
    const row = await h().db.fork().findOneOrFail(MessagingRpcRequestSchema, { id });
    expect([row.request_body, row.response_body]).to.deep.equal([JSON.stringify(request_body), null]);
    const shown = await h().call('GET', location, { token: h().tokens.viewer });
    expect(shown.status).to.equal(200);
    expect(shown.body).to.deep.include({ id, status: 'not_started', request_body, response_body: null });
    expect((shown.body as { updated_at: string }).updated_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('round-trips any JSON body: objects, arrays, strings, numbers, booleans', async () => {
    for (const value of [{ errors: ['boom'] }, [1, 'two', { three: 3 }], 'journal line\n\nstderr', 42, false]) {
      const id = await rpc(h(), { status: 'completed', request_body: value, response_body: value });
      const shown = await h().call('GET', `/messaging/rpc_requests/${id}`, { token: h().tokens.viewer });
      expect(shown.body, JSON.stringify(value)).to.deep.include({ request_body: value, response_body: value });
    }
  });

  it('updates as an operator with 204: the server writes status and response, the request body is kept', async () => {
    const id = await rpc(h());
    const path = `/messaging/rpc_requests/${id}`;
    const res = await h().call('PUT', path, { token: h().tokens.operator, body: { status: 'completed', response_body: '<journal text>' } });
    expect([res.status, res.headers.get('location')]).to.deep.equal([204, path]);
    const shown = await h().call('GET', path, { token: h().tokens.viewer });
    expect(shown.body).to.deep.include({ status: 'completed', request_body, response_body: '<journal text>' });
    await h().call('PUT', path, { token: h().tokens.operator, body: { status: 'error', response_body: null } });
    expect((await h().call('GET', path, { token: h().tokens.viewer })).body).to.deep.include({ status: 'error', request_body, response_body: null });
  });

  it('lists a page at a time with the total', async () => {
    await rpc(h());
    await rpc(h());
    const all = await h().call('GET', '/messaging/rpc_requests', { token: h().tokens.viewer });
    const total = Number(all.headers.get('x-total-count'));
    expect(all.status).to.equal(200);
    expect(total).to.be.at.least(2);
    expect(all.body).to.have.length(total);
    const page = await h().call('GET', `/messaging/rpc_requests?limit=1&offset=${total - 1}`, { token: h().tokens.viewer });
    expect(page.headers.get('x-total-count')).to.equal(String(total));
    expect(page.body).to.deep.equal([(all.body as unknown[])[total - 1]]);
    const bad = await h().call('GET', '/messaging/rpc_requests?page=0&sort=id', { token: h().tokens.viewer });
    expect(bad.status).to.equal(400);
    expect(problems(bad).map((p) => p.field)).to.include.members(['query.page', 'query.sort']);
  });

  it('deletes as an admin with 204, then 404', async () => {
    const id = await rpc(h());
    const path = `/messaging/rpc_requests/${id}`;
    expect((await h().call('DELETE', path, { token: h().tokens.admin })).status).to.equal(204);
    expect((await h().call('GET', path, { token: h().tokens.admin })).status).to.equal(404);
    expect(await h().db.fork().count(MessagingRpcRequestSchema, { id })).to.equal(0);
  });

  it('answers 400 naming the field', async () => {
    const operator = h().tokens.operator;
    const bad = await h().call('POST', '/messaging/rpc_requests', { token: operator, body: { status: 'done', reply_to: 'q' } });
    expect(bad.status).to.equal(400);
    expect(problems(bad)[0]!.message).to.equal('One or more fields for RpcRequest were invalid');
    expect(problems(bad).map((p) => p.field)).to.include.members(['status', 'reply_to']);
    const missing = await h().call('POST', '/messaging/rpc_requests', { token: operator, body: { request_body } });
    expect(problems(missing).map((p) => p.field)).to.include('status');
    const id = await rpc(h());
    const badPut = await h().call('PUT', `/messaging/rpc_requests/${id}`, { token: operator, body: { status: 7 } });
    expect([badPut.status, problems(badPut)[1]!.field]).to.deep.equal([400, 'status']);
    const badId = await h().call('GET', '/messaging/rpc_requests/-1', { token: operator });
    expect([badId.status, problems(badId)[1]!.field]).to.deep.equal([400, 'params.id']);
    expect((await h().call('POST', '/messaging/rpc_requests', { token: operator, raw: '[1,' })).status).to.equal(400);
  });

  it('answers 404 for an unknown id', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await h().call(method, '/messaging/rpc_requests/999999', { token: h().tokens.admin, ...(method === 'PUT' ? { body: { status: 'completed' } } : {}) });
      expect([res.status, problems(res)[0]!.message], method).to.deep.equal([404, 'RpcRequest was not found']);
    }
  });

  it('answers 401 without a token, 403 to a viewer on every mutation, and 403 to an operator on delete', async () => {
    const id = await rpc(h());
    const reads: Array<[string, string, unknown]> = [
      ['GET', '/messaging/rpc_requests', undefined],
      ['GET', `/messaging/rpc_requests/${id}`, undefined],
    ];
    const mutations: Array<[string, string, unknown]> = [
      ['POST', '/messaging/rpc_requests', { status: 'not_started' }],
      ['PUT', `/messaging/rpc_requests/${id}`, { status: 'completed' }],
      ['DELETE', `/messaging/rpc_requests/${id}`, undefined],
    ];
    for (const [method, path, body] of [...reads, ...mutations]) {
      expect((await h().call(method, path, { body })).status, `${method} ${path}`).to.equal(401);
    }
    for (const [method, path, body] of mutations) {
      expect((await h().call(method, path, { token: h().tokens.viewer, body })).status, `${method} ${path}`).to.equal(403);
    }
    expect((await h().call('DELETE', `/messaging/rpc_requests/${id}`, { token: h().tokens.operator })).status).to.equal(403);
    expect((await h().call('GET', `/messaging/rpc_requests/${id}`, { token: h().tokens.viewer })).body).to.deep.include({ status: 'not_started' });
  });

  it('documents every route in /openapi.json', async () => {
    const doc = await h().call('GET', '/openapi.json');
    expect(Object.keys((doc.body as { paths: Record<string, unknown> }).paths)).to.include.members(['/messaging/rpc_requests', '/messaging/rpc_requests/{id}']);
  });
});
