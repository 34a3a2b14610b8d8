import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createApp } from '../../../http/app.js';
import { tokenIssuer } from '../../../http/auth.js';
import { errorReply } from '../../../http/errors.js';
import { workflowRoutes, type WorkflowDeps } from '../../../http/routes/workflows.js';
import { CANCEL_REQUESTED, EXECUTE_REQUESTED } from '../../../actors/orchestrator/messages.js';
import { AuditEventSchema } from '../../../entities/auth.js';
import { MessagingExchangeSchema } from '../../../entities/messaging.js';
import { WorkflowSchema } from '../../../entities/workflows.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import { PublishError } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type ApiHarness, type ApiResponse } from '../harness.js';

const QUEUE = 'workflow_orchestration';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
type Json = Record<string, unknown>;

const messages = (res: ApiResponse): string[] => (res.body as { errors: Array<{ message: string }> }).errors.map((e) => e.message);
const fields = (res: ApiResponse): Array<string | undefined> => (res.body as { errors: Array<{ field?: string }> }).errors.map((e) => e.field);

/** Takes every message waiting on `queue` of exchange 1. */
async function drain(h: ApiHarness, queue = QUEUE): Promise<Array<{ type: string; payload: Json }>> {
  const got: Array<{ type: string; payload: Json }> = [];
  const transport = h.broker.transport({ exchangeId: 1, log: captureLogs().log });
  await transport.consume({
    queue,
    decode: (payload, type) => ({ ok: true, value: { type, payload: payload as Json } }),
    handle: async (m) => {
      got.push(m);
      return { type: 'ack' };
    },
  });
  await waitFor(`${queue} drained`, () => h.broker.depth({ exchangeId: 1, queue }) === 0);
  await new Promise((resolve) => setImmediate(resolve));
  await transport.close();
  return got;
}

async function create(h: ApiHarness, body: Json = { deployment_repo: 'acme/shop_docker', milestones: ['build', 'deploy'] }): Promise<string> {
  const res = await h.call('POST', '/workflows', { token: h.tokens.operator, body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.headers.get('location')!;
}

const show = async (h: ApiHarness, location: string): Promise<Json> => (await h.call('GET', location, { token: h.tokens.viewer })).body as Json;

forEachDatabase('Manager: workflows', workflowRoutes, (h) => {
  // A failed test must not leave its messages to the next one.
  beforeEach(() => drain(h()));

  it('answers 401 without a token and 403 to a viewer for every mutation', async () => {
    const location = await create(h());
    expect((await h().call('GET', '/workflows')).status).to.equal(401);
    expect((await h().call('GET', location)).status).to.equal(401);
    const viewer = h().tokens.viewer;
    for (const [method, path] of [['POST', '/workflows'], ['PUT', location], ['DELETE', location], ['POST', `${location}/execute`], ['POST', `${location}/cancel`]] as const) {
      expect((await h().call(method, path, { token: viewer, body: {} })).status, `${method} ${path}`).to.equal(403);
    }
    expect((await h().call('GET', location, { token: viewer })).status).to.equal(200);
  });

  it('creates a workflow normalised as the original: config prepended, repos trimmed, RFC 1123 in, ISO 8601 out', async () => {
    const location = await create(h(), {
      deployment_repo: '  acme/shop_docker/ ',
      source_repo: 'acme/shop\\',
      source_repo_git_ref: 'master',
      milestones: ['deploy'],
      scheduled_start_time: 'Tue, 23 Jun 2015 19:39:11 UTC',
      workflow_step_durations: { build: '3 minute(s)' },
      event_log: ['one'],
    });
    expect(location).to.match(/^\/workflows\/[0-9a-f-]{36}$/);
    const body = await show(h(), location);
    expect(body).to.deep.include({
      id: location.split('/').pop(),
      deployment_repo: 'acme/shop_docker',
      source_repo: 'acme/shop',
      milestones: ['config', 'deploy'],
      scheduled_start_time: '2015-06-23T19:39:11.000Z',
      workflow_step_durations: { build: '3 minute(s)' },
      event_log: ['one'],
      workflow_completed: false,
      current_step: null,
      execute_options: null,
    });
    expect(body.inserted_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(await show(h(), await create(h(), { milestones: ['build', 'deploy'] }))).to.deep.include({ milestones: ['build', 'deploy'] });
    expect((await h().call('POST', '/workflows', { token: h().tokens.operator })).status).to.equal(201);
  });

  it('answers 400 naming the field, and 404 for an unknown or 400 for a malformed id', async () => {
    const op = h().tokens.operator;
    const bad = await h().call('POST', '/workflows', { token: op, body: { scheduled_start_time: 'tomorrow', milestones: 'build', extra: 1, deployment_repo: 'x'.repeat(129) } });
    expect(bad.status).to.equal(400);
    expect(fields(bad)).to.include.members(['scheduled_start_time', 'milestones', 'extra', 'deployment_repo']);
    expect(messages(bad).join()).to.include('RFC 1123');
    expect((await h().call('PUT', await create(h()), { token: op, body: { workflow_completed: 'yes' } })).status).to.equal(400);
    const badId = await h().call('GET', '/workflows/not-a-uuid', { token: op });
    expect([badId.status, fields(badId)]).to.deep.equal([400, [undefined, 'params.id']]);
    for (const [method, suffix] of [['GET', ''], ['PUT', ''], ['DELETE', ''], ['POST', '/execute'], ['POST', '/cancel']] as const) {
      const res = await h().call(method, `/workflows/${UNKNOWN}${suffix}`, { token: op, ...(method === 'GET' ? {} : { body: {} }) });
      expect([res.status, messages(res)], `${method} ${suffix}`).to.deep.equal([404, ['Workflow was not found']]);
    }
  });

  it('refuses milestones that cannot run in their order with 400 naming milestones and the reason, on POST and both PUTs', async () => {
    const op = h().tokens.operator;
    const refusals: Array<[string[], RegExp]> = [
      [['config', 'build'], /^milestones: config comes before build: config verifies that the image is already in the registry.* \(got \["config","build"\]\)$/],
      [['deploy', 'build'], /^milestones: deploy needs a config or build milestone before it, which finds the cluster, the units and the image it deploys/],
      [['build', 'ship'], /^milestones: unknown milestone "ship" \(known: config, build, deploy, deploy_oa, scheduled\)/],
    ];
    for (const [milestones, reason] of refusals) {
      const res = await h().call('POST', '/workflows', { token: op, body: { deployment_repo: 'acme/order_docker', milestones } });
      expect([res.status, fields(res)], JSON.stringify(milestones)).to.deep.equal([400, [undefined, 'milestones']]);
      expect(messages(res)[1]).to.match(reason);
    }
    const accepted: Array<[string[], string[]]> = [
      [['build', 'scheduled', 'deploy'], ['build', 'scheduled', 'deploy']],
      [['build', 'config', 'deploy_oa'], ['build', 'config', 'deploy_oa']],
      [['scheduled', 'deploy'], ['config', 'scheduled', 'deploy']],
    ];
    for (const [milestones, stored] of accepted) {
      expect(await show(h(), await create(h(), { deployment_repo: 'acme/order_docker', milestones }))).to.deep.include({ milestones: stored });
    }
    const location = await create(h());
    const id = location.split('/').pop()!;
    const put = await h().call('PUT', location, { token: op, body: { milestones: ['config', 'build'] } });
    expect([put.status, fields(put)]).to.deep.equal([400, [undefined, 'milestones']]);
    const batch = await h().call('PUT', '/workflows', { token: op, body: { workflows: [{ id, current_step: 'build' }, { id: UNKNOWN, milestones: ['deploy_oa', 'config'] }] } });
    expect([batch.status, fields(batch)]).to.deep.equal([400, [undefined, 'workflows[1].milestones']]);
    expect(messages(batch)[1]).to.match(/^workflows\[1\]\.milestones: deploy_oa needs a config or build milestone before it/);
    expect(await show(h(), location)).to.deep.include({ milestones: ['build', 'deploy'], current_step: null });
  });

  it('updates only what PUT names: an absent workflow_completed is no longer reset (reference §10.1 item 5)', async () => {
    const location = await create(h());
    const op = h().tokens.operator;
    const put = await h().call('PUT', location, { token: op, body: { workflow_completed: true, current_step: 'workflow_completed' } });
    expect([put.status, put.headers.get('location')]).to.deep.equal([204, location]);
    expect((await h().call('PUT', location, { token: op, body: { workflow_duration: '4 minute(s)', milestones: ['deploy_oa'] } })).status).to.equal(204);
    expect(await show(h(), location)).to.deep.include({ workflow_completed: true, workflow_duration: '4 minute(s)', milestones: ['config', 'deploy_oa'], deployment_repo: 'acme/shop_docker' });
    await h().call('PUT', location, { token: op, body: { workflow_completed: null } });
    expect(await show(h(), location)).to.deep.include({ workflow_completed: false });
  });

  it("takes a worker's save (if_dispatch_id) only while the workflow waits for that dispatch: 409 with the reason otherwise", async () => {
    const location = await create(h());
    const op = h().tokens.operator;
    const orchestration = (dispatchId: string) => ({ run: { milestone: 'build', index: 0, dispatchId, confirmed: true, deadlineAt: null, wakeAt: null }, request: {} });
    const save = (dispatchId: string, line: string) => h().call('PUT', `${location}?if_dispatch_id=${dispatchId}`, { token: op, body: { event_log: [line] } });
    expect((await save('d1', 'nothing waits yet')).body).to.deep.include({ errors: [{ message: 'Workflow waits for no dispatch, not for dispatch d1' }] });
    await h().call('PUT', location, { token: op, body: { current_step: 'build', orchestration: orchestration('d1'), event_log: ['started'] } });
    expect((await save('d1', 'build running')).status).to.equal(204);
    expect(await show(h(), location)).to.deep.include({ event_log: ['build running'] });
    await h().call('PUT', location, { token: op, body: { current_step: 'deploy', orchestration: orchestration('d2'), event_log: ['build running', 'deploying'] } });
    const stale = await save('d1', 'a re-run of the build');
    expect([stale.status, messages(stale)]).to.deep.equal([409, ['Workflow waits for dispatch d2, not for dispatch d1']]);
    await h().call('PUT', location, { token: op, body: { workflow_completed: true, event_log: ['build running', 'deploying', 'completed'] } });
    const late = await save('d2', 'a deploy report after the end');
    expect([late.status, messages(late)]).to.deep.equal([409, ['Workflow has already completed: dispatch d2 may not change it']]);
    expect(await show(h(), location)).to.deep.include({ event_log: ['build running', 'deploying', 'completed'] });
    expect((await h().call('PUT', `/workflows/${UNKNOWN}?if_dispatch_id=d1`, { token: op, body: { event_log: [] } })).status).to.equal(404);
    const empty = await h().call('PUT', `${location}?if_dispatch_id=`, { token: op, body: { event_log: [] } });
    expect([empty.status, messages(empty)[1]]).to.deep.equal([400, 'query.if_dispatch_id: must not be empty']);
  });

  it('updates many workflows in one request, each as PUT /workflows/:id, listing the unknown ones', async () => {
    const [a, b] = [await create(h()), await create(h())];
    const [idA, idB] = [a.split('/').pop()!, b.split('/').pop()!];
    const op = h().tokens.operator;
    const res = await h().call('PUT', '/workflows', {
      token: op,
      body: { workflows: [{ id: idA, current_step: 'build', event_log: ['one'] }, { id: UNKNOWN, current_step: 'x' }, { id: idB, workflow_completed: true, milestones: ['deploy'] }] },
    });
    expect([res.status, res.body]).to.deep.equal([200, { updated: [idA, idB], not_found: [UNKNOWN] }]);
    expect(await show(h(), a)).to.deep.include({ current_step: 'build', event_log: ['one'], workflow_completed: false });
    expect(await show(h(), b)).to.deep.include({ workflow_completed: true, milestones: ['config', 'deploy'] });
    const audit = await h().db.fork().find(AuditEventSchema, { action: 'PUT /workflows' });
    expect(audit.map((e) => JSON.parse(e.diff ?? '{}').workflows.length)).to.deep.equal([3]);
  });

  it('refuses a batch update naming the field: empty, unknown fields, bad or repeated ids, a viewer', async () => {
    const id = (await create(h())).split('/').pop()!;
    const op = h().tokens.operator;
    const cases: Array<[unknown, string[]]> = [
      [{ workflows: [] }, ['workflows']],
      [{}, ['workflows']],
      [{ workflows: [{ id, colour: 'red' }] }, ['workflows[0].colour']],
      [{ workflows: [{ id: 'nope' }] }, ['workflows[0].id']],
      [{ workflows: [{ id }, { id, current_step: 'build' }] }, ['workflows[1].id']],
    ];
    for (const [body, named] of cases) {
      const res = await h().call('PUT', '/workflows', { token: op, body });
      expect([res.status, fields(res).filter(Boolean)], JSON.stringify(body)).to.deep.equal([400, named]);
    }
    expect((await h().call('PUT', '/workflows', { token: h().tokens.viewer, body: { workflows: [{ id }] } })).status).to.equal(403);
    expect(await show(h(), `/workflows/${id}`)).to.deep.include({ current_step: null });
  });

  it('lists newest first within the lookback, filters by repo, and pages with a total', async () => {
    const repo = `acme/list${Date.now()}`;
    const old = await create(h(), { deployment_repo: `${repo}_docker` });
    const first = await create(h(), { deployment_repo: `${repo}_docker` });
    const second = await create(h(), { deployment_repo: `${repo}_docker` });
    const em = h().db.fork();
    await em.nativeUpdate(WorkflowSchema, { id: old.split('/').pop()! }, { inserted_at: new Date(Date.now() - 48 * 3_600_000) });
    await em.nativeUpdate(WorkflowSchema, { id: first.split('/').pop()! }, { inserted_at: new Date(Date.now() - 3_600_000) });
    const ids = (res: ApiResponse) => (res.body as Json[]).map((w) => `/workflows/${String(w.id)}`);
    const viewer = h().tokens.viewer;
    const recent = await h().call('GET', `/workflows?source_repo=${encodeURIComponent(repo)}`, { token: viewer });
    expect([recent.status, ids(recent), recent.headers.get('x-total-count')]).to.deep.equal([200, [second, first], '2']);
    const all = await h().call('GET', `/workflows?lookback=0&deployment_repo=${encodeURIComponent(`${repo}_docker`)}`, { token: viewer });
    expect(ids(all)).to.deep.equal([second, first, old]);
    const page = await h().call('GET', `/workflows?lookback=-1&deployment_repo=${encodeURIComponent(`${repo}_docker`)}&limit=1&page=3`, { token: viewer });
    expect([ids(page), page.headers.get('x-total-count')]).to.deep.equal([[old], '3']);
    expect((await h().call('GET', '/workflows?lookback=abc', { token: viewer })).status).to.equal(400);
    expect((await h().call('GET', '/workflows?limit=0', { token: viewer })).status).to.equal(400);
    const unknown = await h().call('GET', '/workflows?repo=x', { token: viewer });
    expect([unknown.status, fields(unknown)]).to.deep.equal([400, [undefined, 'query.repo']]);
  });

  it('executes: 202 once the broker has exactly one §5.2 request; a second execute is 409', async () => {
    const location = await create(h(), { deployment_repo: 'acme/shop_docker', source_repo: 'acme/shop', milestones: ['build', 'deploy'] });
    const id = location.split('/').pop()!;
    const res = await h().call('POST', `${location}/execute`, { token: h().tokens.operator, body: { force_build: true, deploy_messaging_exchange_id: null } });
    expect([res.status, res.headers.get('location')]).to.deep.equal([202, location]);
    expect(res.body).to.deep.include({ id, execute_options: { force_build: true, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null } });
    const published = await drain(h());
    expect(published).to.have.length(1);
    expect(published[0]!.type).to.equal(EXECUTE_REQUESTED);
    const request = published[0]!.payload;
    // Every key of the reference §10A example, and no other.
    expect(Object.keys(request).sort()).to.deep.equal(
      ('id workflow_id deployment_repo deployment_repo_git_ref source_repo source_repo_git_ref source_commit_hash milestones current_step ' +
        'elapsed_step_time elapsed_workflow_time workflow_duration workflow_step_durations workflow_error workflow_completed event_log ' +
        'workflow_start_time step_time scheduled_start_time execute_options force_build build_messaging_exchange_id deploy_messaging_exchange_id ' +
        'orchestration_queue_name workflow_orchestration_exchange_id workflow_orchestration_broker_id notifications_exchange_id notifications_broker_id ' +
        'docker_build_etcd_token etcd_token deployable_units notifications_config fleet_config aws_config ecs_task_definition')
        .split(' ')
        .sort(),
    );
    expect(request).to.deep.include({
      id,
      milestones: ['build', 'deploy'],
      current_step: null,
      workflow_completed: false,
      force_build: true,
      execute_options: { force_build: true, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null },
      orchestration_queue_name: QUEUE,
      workflow_orchestration_exchange_id: '1',
      notifications_exchange_id: '1',
    });
    expect(await show(h(), location)).to.deep.include({ execute_options: { force_build: true, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null } });
    const again = await h().call('POST', `${location}/execute`, { token: h().tokens.operator, body: {} });
    expect([again.status, messages(again)]).to.deep.equal([409, ['Workflow has already been started']]);
    expect(await drain(h())).to.have.length(0);
    const audit = await h().db.fork().find(AuditEventSchema, { target_id: id, action: 'POST /workflows/:id/execute' });
    expect(audit).to.have.length(1);
  });

  it('freezes execute options at the first execute; a re-run keeps them', async () => {
    const em = h().db.fork();
    const exchange = em.create(MessagingExchangeSchema, { name: 'build-zone', failover_exchange_id: null, parent_exchange_id: null, routing_key_fragment: null });
    await em.flush();
    const location = await create(h());
    const op = h().tokens.operator;
    const first = await h().call('POST', `${location}/execute`, { token: op, body: { build_messaging_exchange_id: String(exchange.id) } });
    expect(first.status).to.equal(202);
    expect((await drain(h()))[0]!.payload).to.deep.include({ build_messaging_exchange_id: exchange.id });
    // A re-run: the workflow is made executable again; the new body's options are ignored (reference §3.4).
    expect((await h().call('PUT', location, { token: op, body: { current_step: null, execute_requested_at: null } })).status).to.equal(204);
    expect((await h().call('POST', `${location}/execute`, { token: op, body: { force_build: true, build_messaging_exchange_id: 999_999 } })).status).to.equal(202);
    expect((await drain(h()))[0]!.payload).to.deep.include({ force_build: false, build_messaging_exchange_id: exchange.id });
    const unknown = await h().call('POST', `${await create(h())}/execute`, { token: op, body: { deploy_messaging_exchange_id: 999_999 } });
    expect([unknown.status, fields(unknown)]).to.deep.equal([400, [undefined, 'deploy_messaging_exchange_id']]);
    const badType = await h().call('POST', `${await create(h())}/execute`, { token: op, body: { force_build: 'yes', build_messaging_exchange_id: true } });
    expect([badType.status, fields(badType)]).to.deep.equal([400, [undefined, 'force_build', 'build_messaging_exchange_id']]);
  });

  it('lets only one of two concurrent executes through', async () => {
    const location = await create(h());
    const both = await Promise.all([1, 2].map(() => h().call('POST', `${location}/execute`, { token: h().tokens.operator })));
    expect(both.map((r) => r.status).sort()).to.deep.equal([202, 409]);
    expect(await drain(h())).to.have.length(1);
  });

  it('refuses to execute a completed or started workflow (409)', async () => {
    const op = h().tokens.operator;
    const done = await create(h(), { workflow_completed: true });
    const completed = await h().call('POST', `${done}/execute`, { token: op });
    expect([completed.status, messages(completed)]).to.deep.equal([409, ['Workflow has already completed']]);
    const started = await create(h(), { current_step: 'build' });
    const res = await h().call('POST', `${started}/execute`, { token: op });
    expect([res.status, messages(res)]).to.deep.equal([409, ['Workflow has already been started']]);
    expect(await drain(h())).to.have.length(0);
  });

  it('cancels: failed with "cancelled by <subject>", logged, announced; then 409', async () => {
    const location = await create(h());
    const id = location.split('/').pop()!;
    const op = h().tokens.operator;
    expect((await h().call('POST', `${location}/execute`, { token: op })).status).to.equal(202);
    const res = await h().call('POST', `${location}/cancel`, { token: op });
    expect([res.status, res.headers.get('location')]).to.deep.equal([204, location]);
    const body = await show(h(), location);
    expect(body).to.deep.include({ workflow_completed: true, workflow_error: true });
    expect(body.event_log).to.deep.equal([`[OA][${id}][acme/shop_docker] Workflow has been cancelled.  Reason:  cancelled by test-operator`]);
    const published = await drain(h());
    expect(published.map((m) => m.type)).to.deep.equal([EXECUTE_REQUESTED, CANCEL_REQUESTED]);
    expect(published[1]!.payload).to.deep.equal({ workflow_id: id, reason: 'cancelled by test-operator', cancelled_by: 'test-operator' });
    const again = await h().call('POST', `${location}/cancel`, { token: op });
    expect([again.status, messages(again)]).to.deep.equal([409, ['Workflow has already completed']]);
    expect((await h().call('POST', `${location}/execute`, { token: op })).status).to.equal(409);
    expect(await drain(h())).to.have.length(0);
  });

  it('deletes a workflow', async () => {
    const location = await create(h());
    expect((await h().call('DELETE', location, { token: h().tokens.operator })).status).to.equal(204);
    expect((await h().call('GET', location, { token: h().tokens.viewer })).status).to.equal(404);
  });

  describe('when the broker cannot take the request', () => {
    let call: (path: string) => Promise<ApiResponse>;
    let close: () => Promise<void>;
    before(async () => {
      const { log } = captureLogs();
      const transport = new MemoryBroker().transport({ exchangeId: 1, log });
      await transport.close(); // every publish now fails with PublishError
      const tokens = tokenIssuer({ secret: 'y'.repeat(48), ttlSeconds: 600 });
      const app = createApp<WorkflowDeps>({ db: h().db, tokens, log, transport, exchangeId: 1 }, workflowRoutes);
      const server = app.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const token = (await tokens.issue({ subject: 'op', role: 'operator', kind: 'client' })).access_token;
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      call = async (path) => {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        const text = await res.text();
        return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
      };
      close = () => new Promise((resolve) => server.close(() => resolve()));
    });
    after(() => close());

    it('does not answer 202, publishes nothing, and leaves the workflow executable and running', async () => {
      const location = await create(h());
      expect((await call(`${location}/execute`)).status).to.not.equal(202);
      expect(await show(h(), location)).to.deep.include({ execute_requested_at: null, execute_options: null });
      expect((await call(`${location}/cancel`)).status).to.not.equal(204);
      expect(await show(h(), location)).to.deep.include({ workflow_completed: false, event_log: null });
      expect((await h().call('POST', `${location}/execute`, { token: h().tokens.operator })).status).to.equal(202);
      expect(await drain(h())).to.have.length(1);
    });

    it('answers 503 naming the problem, with Retry-After', async () => {
      expect(errorReply(new PublishError({ exchangeId: 1, queue: QUEUE }, 'probe'))?.status).to.equal(503);
      const res = await call(`${await create(h())}/execute`);
      expect([res.status, res.headers.get('retry-after')]).to.deep.equal([503, '5']);
      expect(messages(res)[0]).to.include('publish to queue workflow_orchestration of exchange 1 failed');
    });
  });

  it('documents its routes in /openapi.json', async () => {
    const res = await h().call('GET', '/openapi.json');
    const paths = Object.keys((res.body as { paths: Json }).paths);
    expect(paths).to.include.members(['/workflows', '/workflows/{id}', '/workflows/{id}/execute', '/workflows/{id}/cancel']);
  });
});
