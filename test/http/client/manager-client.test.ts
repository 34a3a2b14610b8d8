import { expect } from 'chai';
import {
  isManagerApiError,
  isManagerResponseError,
  isManagerUnavailableError,
  managerClient,
  type ManagerApiError,
  type ManagerClient,
  type ManagerClientOptions,
  type ManagerResponseError,
  type ManagerUnavailableError,
} from '../../../http/client/manager-client.js';
import type { Role } from '../../../entities/auth.js';
import { captureLogs, type LogLine } from '../../helpers/log-capture.js';
import { closedPort, startFakeManager, type FakeManager } from './fake-manager.js';
import { forEachManager, recordingFetch, routeRequests, tokenRequests, type LiveManager, type SentRequest } from './live-manager.js';

const FAST = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const retryWarnings = (lines: readonly LogLine[]) => lines.filter((l) => l.msg === 'manager unavailable, retrying');

/** A client of the live Manager with a fresh API client row of `role`, its requests recorded. */
async function clientOf(m: LiveManager, role: Role, extra: Partial<ManagerClientOptions> & { alter?: (r: SentRequest, i: number) => SentRequest } = {}) {
  const { clientId, clientSecret } = await m.addClient(role);
  const { alter, ...options } = extra;
  const recorder = recordingFetch(alter);
  const { log, lines } = captureLogs();
  const client = managerClient({ baseUrl: m.baseUrl, clientId, clientSecret, log, fetch: recorder.fetch, retry: FAST, ...options });
  return { client, sent: recorder.sent, lines };
}

forEachManager('ManagerClient against the real Manager', (m) => {
  describe('token', () => {
    it('asks for one token for many requests, concurrent ones included', async () => {
      const { client, sent } = await clientOf(m(), 'viewer');
      await Promise.all([1, 2, 3, 4, 5].map(() => client.brokers.list()));
      for (let i = 0; i < 5; i += 1) await client.exchanges.list();
      expect([tokenRequests(sent).length, routeRequests(sent).length]).to.deep.equal([1, 10]);
      expect(routeRequests(sent).every((r) => r.authorization?.startsWith('Bearer ey'))).to.equal(true);
    });

    it('fetches a new token 30 s before the old one expires, not earlier', async () => {
      let now = 1_000;
      const { client, sent } = await clientOf(m(), 'viewer', { now: () => now });
      await client.brokers.list();
      now += 600_000 - 31_000; // the Manager's tokens live 600 s
      await client.brokers.list();
      expect(tokenRequests(sent)).to.have.length(1);
      now += 2_000;
      await client.brokers.list();
      expect(tokenRequests(sent)).to.have.length(2);
      // The new token is asked for before the request that needs it.
      expect(sent.map((r) => r.url.endsWith('/oauth/token'))).to.deep.equal([true, false, false, true, false]);
    });

    it('on a 401 fetches one new token and repeats the request once', async () => {
      let forged = false;
      const alter = (r: SentRequest): SentRequest => {
        if (forged || r.url.endsWith('/oauth/token')) return r;
        forged = true;
        return { ...r, authorization: 'Bearer revoked.token.value' };
      };
      const { client, sent } = await clientOf(m(), 'viewer', { alter });
      const page = await client.brokers.list();
      expect(page.total).to.be.a('number');
      expect([tokenRequests(sent).length, routeRequests(sent).length]).to.deep.equal([2, 2]);
    });

    it('a 401 that persists is a ManagerApiError after exactly one refresh', async () => {
      const alter = (r: SentRequest): SentRequest => (r.url.endsWith('/oauth/token') ? r : { ...r, authorization: 'Bearer revoked.token.value' });
      const { client, sent } = await clientOf(m(), 'viewer', { alter });
      const err = (await rejection(client.workflows.get('3f7a3c9e-8a4b-4c1d-9f00-000000000001'))) as ManagerApiError;
      expect(isManagerApiError(err)).to.equal(true);
      expect([err.status, err.route, err.messages]).to.deep.equal([401, 'GET /workflows/:id', ['Unauthorized']]);
      expect([tokenRequests(sent).length, routeRequests(sent).length]).to.deep.equal([2, 2]);
    });

    it('wrong client credentials are a ManagerApiError of POST /oauth/token, asked once', async () => {
      const { clientId } = await m().addClient('viewer');
      const recorder = recordingFetch();
      const client = managerClient({ baseUrl: m().baseUrl, clientId, clientSecret: 'wrong', log: captureLogs().log, fetch: recorder.fetch, retry: FAST });
      const err = (await rejection(client.brokers.list())) as ManagerApiError;
      expect([err.name, err.route, err.status, err.retryable]).to.deep.equal(['ManagerApiError', 'POST /oauth/token', 401, false]);
      expect(recorder.sent).to.have.length(1);
    });
  });

  describe('routes', () => {
    it('workflows: create, get, update, list with filters, execute, cancel, remove', async () => {
      const { client } = await clientOf(m(), 'operator');
      const wf = client.workflows;
      const id = await wf.create({ deployment_repo: ' acme/shop_docker/ ', source_repo: 'acme/shop', milestones: ['deploy'], scheduled_start_time: new Date('2030-01-02T03:04:05Z') });
      const created = await wf.get(id);
      expect(created).to.deep.include({ id, deployment_repo: 'acme/shop_docker', milestones: ['config', 'deploy'], workflow_completed: false, scheduled_start_time: '2030-01-02T03:04:05.000Z' });
      await wf.update(id, { current_step: 'config', event_log: ['started'], workflow_step_durations: { config: '1s' } });
      expect(await wf.get(id)).to.deep.include({ current_step: 'config', event_log: ['started'], workflow_step_durations: { config: '1s' }, workflow_completed: false });
      const run = { milestone: 'config', index: 0, dispatchId: 'd1', confirmed: true, deadlineAt: null, wakeAt: null };
      await wf.update(id, { orchestration: { run, request: {} } });
      expect(await wf.updateForDispatch(id, 'd1', { event_log: ['started', 'config running'] })).to.deep.equal({ updated: true });
      expect(await wf.updateForDispatch(id, 'd0', { event_log: ['a stale run'] })).to.deep.equal({ updated: false, reason: 'Workflow waits for dispatch d1, not for dispatch d0' });
      expect(await wf.get(id)).to.deep.include({ event_log: ['started', 'config running'] });
      const other = await wf.create({ deployment_repo: 'acme/other_docker' });
      const bySource = await wf.list({ source_repo: 'acme/shop', lookback: 0 });
      expect([bySource.items.map((w) => w.id), bySource.total]).to.deep.equal([[id], 1]);
      const firstPage = await wf.list({ lookback: 0, limit: 1 });
      expect(firstPage.items).to.have.length(1);
      expect(firstPage.total).to.be.at.least(2);

      const queued = await wf.execute(other, { force_build: true });
      expect(queued).to.deep.include({ queued: true, execute_options: { force_build: true, build_messaging_exchange_id: null, deploy_messaging_exchange_id: null } });
      expect(await wf.execute(other)).to.deep.equal({ queued: false, reason: 'Workflow has already been started' });
      expect(await wf.cancel(other)).to.deep.equal({ cancelled: true });
      expect(await wf.cancel(other)).to.deep.equal({ cancelled: false, reason: 'Workflow has already completed' });
      expect(await wf.get(other)).to.deep.include({ workflow_completed: true, workflow_error: true });

      expect(await wf.get('3f7a3c9e-8a4b-4c1d-9f00-00000000abcd')).to.equal(undefined);
      expect(await wf.remove(id)).to.equal(true);
      expect(await wf.remove(id)).to.equal(false);
    });

    it('system events: a duplicate `unique` event is an answer, not an error', async () => {
      const { client } = await clientOf(m(), 'operator');
      const event = { type: `disk_full_${Date.now()}`, severity: 'warning', message: 'disk at 95%', data: { host: 'a' }, unique: true };
      const posted = await client.systemEvents.create(event);
      if (!posted.created) throw new Error(`not created: ${posted.reason}`);
      const again = await client.systemEvents.create(event);
      expect(again.created).to.equal(false);
      expect(again.created === false && again.reason).to.match(/already exists/);
      expect(await client.systemEvents.get(posted.id)).to.deep.include({ type: event.type, data: { host: 'a' }, severity: 'warning' });
      const listed = await client.systemEvents.list({ lookback: 1 });
      expect(listed.items.map((e) => e.id)).to.include(posted.id);
      expect(await client.systemEvents.get(999_999)).to.equal(undefined);
    });

    it('exchange modules: upsert by hostname, list, get, remove', async () => {
      const exchange = Number((await m().seed('POST', '/messaging/exchanges', { name: `modules-${Date.now()}` })).location!.split('/').pop());
      const { client } = await clientOf(m(), 'operator');
      const mods = client.exchangeModules;
      await mods.upsert(exchange, { hostname: 'build-1.local', type: 'builder', status: 'active', workload: [{ id: 'w1' }] });
      await mods.upsert(exchange, { hostname: 'build-1.local', type: 'builder', status: 'active', workload: [] });
      const page = await mods.list(exchange);
      expect([page.total, page.items[0]?.hostname, page.items[0]?.workload]).to.deep.equal([1, 'build-1.local', []]);
      expect(await mods.get(exchange, 'build-1.local')).to.deep.include({ type: 'builder', status: 'active' });
      expect(await mods.remove(exchange, 'build-1.local')).to.equal(true);
      expect(await mods.remove(exchange, 'build-1.local')).to.equal(false);
      expect(await mods.get(exchange, 'build-1.local')).to.equal(undefined);
    });

    it('system components and refs: list, get, update, request an upgrade', async () => {
      const exchange = Number((await m().seed('POST', '/messaging/exchanges', { name: `components-${Date.now()}` })).location!.split('/').pop());
      const type = `builder${Date.now()}`;
      await m().seed('POST', '/system_component_refs', { type, source_repo: 'oa/builder', source_repo_git_ref: 'main' });
      const body = { messaging_exchange_id: exchange, type, source_repo: 'oa/builder', source_repo_git_ref: 'main', deployment_repo: 'oa/builder_docker', deployment_repo_git_ref: 'main', upgrade_strategy: 'manual' as const };
      const id = Number((await m().seed('POST', '/system_components', body)).location!.split('/').pop());
      const { client } = await clientOf(m(), 'admin');
      expect(await client.systemComponentRefs.get(type)).to.deep.include({ type, source_repo_git_ref: 'main', auto_upgrade_enabled: true });
      await client.systemComponentRefs.update(type, { type, source_repo: 'oa/builder', source_repo_git_ref: 'v2', auto_upgrade_enabled: false });
      expect((await client.systemComponentRefs.list()).items.find((r) => r.type === type)).to.deep.include({ source_repo_git_ref: 'v2', auto_upgrade_enabled: false });
      expect(await client.systemComponentRefs.get('no-such-type')).to.equal(undefined);

      expect((await client.systemComponents.list({ type })).items.map((c) => c.id)).to.deep.equal([id]);
      expect((await client.systemComponents.listOfExchange(exchange)).total).to.equal(1);
      await client.systemComponents.update(id, { ...body, status: 'upgrade_in_progress', upgrade_status: { target: 'v2' } });
      expect(await client.systemComponents.get(id)).to.deep.include({ status: 'upgrade_in_progress', upgrade_status: { target: 'v2' } });
      await client.systemComponents.requestUpgrade(id);
      expect(await client.systemComponents.get(999_999)).to.equal(undefined);
    });

    it('clusters: list filtered by allow_docker_builds, get by token (any case), hosts', async () => {
      const exchange = Number((await m().seed('POST', '/messaging/exchanges', { name: `clusters-${Date.now()}` })).location!.split('/').pop());
      const token = `Build-${Date.now()}`;
      await m().seed('POST', '/clusters', { etcd_token: token, allow_docker_builds: true, messaging_exchange_id: exchange });
      await m().seed('POST', '/clusters', { etcd_token: `deploy-${Date.now()}`, allow_docker_builds: false, messaging_exchange_id: exchange });
      await m().seed('POST', `/clusters/${token}/hosts`, { name: 'docker-1', docker_url: 'ssh://oa@10.0.0.5', labels: { zone: 'a' } });
      const { client } = await clientOf(m(), 'viewer');
      const builds = await client.clusters.listOfExchange(exchange, { allow_docker_builds: true });
      expect(builds.items.map((c) => c.etcd_token)).to.deep.equal([token]);
      expect((await client.clusters.listOfExchange(exchange)).total).to.equal(2);
      expect((await client.clusters.list({ allow_docker_builds: true })).items.map((c) => c.etcd_token)).to.include(token);
      expect(await client.clusters.get(token.toLowerCase())).to.deep.include({ etcd_token: token, messaging_exchange_id: exchange });
      expect(await client.clusters.get('no-such-cluster')).to.equal(undefined);
      const hosts = await client.clusters.hosts(token);
      expect(hosts.items.map((h) => [h.name, h.docker_url, h.labels, h.ssh_private_key])).to.deep.equal([['docker-1', 'ssh://oa@10.0.0.5', { zone: 'a' }, null]]);
      expect(await client.clusters.host(token, 'docker-1')).to.deep.include({ status: 'active' });
      expect(await client.clusters.host(token, 'docker-2')).to.equal(undefined);
    });

    it('messaging: exchanges with their computed route, brokers, connections (passwords to admins only), restrictions', async () => {
      const suffix = Date.now();
      const root = Number((await m().seed('POST', '/messaging/exchanges', { name: `aws-${suffix}`, routing_key_fragment: 'aws' })).location!.split('/').pop());
      const east = Number((await m().seed('POST', '/messaging/exchanges', { name: `east-${suffix}`, parent_exchange_id: root, routing_key_fragment: 'us-east-1' })).location!.split('/').pop());
      const broker = Number((await m().seed('POST', '/messaging/brokers', { name: `rabbit-${suffix}` })).location!.split('/').pop());
      await m().seed('POST', `/messaging/brokers/${broker}/connections`, { username: 'oa', password: 'hunter2', host: 'rabbit', port: 5672 });
      await m().seed('POST', `/messaging/exchanges/${east}/brokers`, { messaging_broker_id: broker });
      const admin = (await clientOf(m(), 'admin')).client;
      const viewer = (await clientOf(m(), 'viewer')).client;
      expect(await viewer.exchanges.get(east)).to.deep.include({ routing_key: 'aws.us-east-1', root_exchange_name: `aws-${suffix}`, parent_exchange_id: root });
      expect(await viewer.exchanges.get(999_999)).to.equal(undefined);
      expect((await viewer.brokers.get(broker))?.name).to.equal(`rabbit-${suffix}`);
      expect((await viewer.brokers.list()).items.map((b) => b.id)).to.include(broker);
      expect((await admin.brokers.connections(broker)).items.map((c) => [c.username, c.password, c.port])).to.deep.equal([['oa', 'hunter2', 5672]]);
      expect((await viewer.brokers.connections(broker)).items.map((c) => c.password)).to.deep.equal([null]);
      expect((await viewer.exchanges.restrictions(east)).items.map((r) => r.messaging_broker_id)).to.deep.equal([broker]);
      const err = (await rejection(viewer.brokers.connections(999_999))) as ManagerApiError;
      expect([err.status, err.route, err.messages]).to.deep.equal([404, 'GET /messaging/brokers/:id/connections', ['Broker was not found']]);
    });

    it('router: authorities and routes with weight and state, the whole feed, an authority by host:port (any case)', async () => {
      const admin = (await clientOf(m(), 'admin')).client;
      const viewer = (await clientOf(m(), 'viewer')).client;
      const hostname = `shop-${Date.now()}.example.test`;
      const id = await admin.router.createAuthority({ hostname, port: 8080 });
      const stable = await admin.router.addRoute(id, { hostname: '127.0.0.1', port: 21000 });
      const canary = await admin.router.addRoute(id, { hostname: '127.0.0.1', port: 21001, weight: 10, state: 'maint' });
      await admin.router.updateRoute(id, canary, { state: 'ready' });
      const feed = await viewer.router.routes();
      expect(feed.timestamp).to.be.a('number');
      expect(feed.authorities.find((a) => a.hostname === hostname)).to.deep.equal({
        hostname,
        port: 8080,
        routes: [
          { hostname: '127.0.0.1', port: 21000, secure_connection: false, weight: 100, state: 'ready' },
          { hostname: '127.0.0.1', port: 21001, secure_connection: false, weight: 10, state: 'ready' },
        ],
      });
      const found = await viewer.router.authority(hostname.toUpperCase(), 8080);
      expect(found?.id).to.equal(id);
      expect(found?.routes.map((r) => [r.id, r.weight])).to.deep.equal([[stable, 100], [canary, 10]]);
      expect(await viewer.router.authority(hostname, 8081)).to.equal(undefined);
      await admin.router.deleteRoute(id, stable);
      expect((await viewer.router.authority(hostname, 8080))?.routes.map((r) => r.id)).to.deep.equal([canary]);
      const refused = (await rejection(viewer.router.addRoute(id, { hostname: '127.0.0.1', port: 21002 }))) as ManagerApiError;
      expect(refused.status).to.equal(403);
      const invalid = (await rejection(admin.router.updateRoute(id, canary, { weight: 300 }))) as ManagerApiError;
      expect(invalid.status).to.equal(400);
      expect(invalid.messages.join('\n')).to.include('weight');
      await admin.router.deleteAuthority(id);
      expect((await viewer.router.routes()).authorities.map((a) => a.hostname)).not.to.include(hostname);
    });

    it('refusals carry the Manager’s messages: 403 to a viewer, 400 naming the field', async () => {
      const viewer = (await clientOf(m(), 'viewer')).client;
      const forbidden = (await rejection(viewer.workflows.create({ app_name: 'x' }))) as ManagerApiError;
      expect([forbidden.status, forbidden.route, forbidden.retryable]).to.deep.equal([403, 'POST /workflows', false]);
      expect(forbidden.messages[0]).to.match(/role viewer may not create a workflow/);
      const operator = (await clientOf(m(), 'operator')).client;
      const invalid = (await rejection(operator.workflows.get('not-a-uuid'))) as ManagerApiError;
      expect(invalid.status).to.equal(400);
      expect(invalid.messages.join('\n')).to.include('params.id');
      expect(invalid.message).to.include('GET /workflows/:id (/workflows/not-a-uuid) answered 400');
    });
  });

  describe('an unavailable Manager in front of the real one', () => {
    let front: FakeManager | undefined;
    afterEach(async () => front?.close());

    it('retries 503 with backoff, then returns the real answer', async () => {
      front = await startFakeManager(({ path, index }) => (path !== '/oauth/token' && index < 2 ? { status: 503, body: { errors: [{ message: 'broker unreachable' }] } } : undefined), {
        upstream: m().baseUrl,
      });
      const { clientId, clientSecret } = await m().addClient('viewer');
      const { log, lines } = captureLogs();
      const client = managerClient({ baseUrl: front.baseUrl, clientId, clientSecret, log, retry: FAST });
      const page = await client.brokers.list();
      expect(page.items).to.be.an('array');
      expect(front.hits).to.deep.equal(['GET /messaging/brokers', 'GET /messaging/brokers', 'GET /messaging/brokers']);
      expect(retryWarnings(lines).map((l) => [l.route, l.status, l.retry])).to.deep.equal([
        ['GET /messaging/brokers', 503, 1],
        ['GET /messaging/brokers', 503, 2],
      ]);
    });
  });
});

describe('ManagerClient against a misbehaving Manager', () => {
  let fake: FakeManager | undefined;
  afterEach(async () => fake?.close());
  const clientAt = (baseUrl: string, extra: Partial<ManagerClientOptions> = {}): { client: ManagerClient; lines: LogLine[] } => {
    const { log, lines } = captureLogs();
    return { client: managerClient({ baseUrl, clientId: 'c', clientSecret: 's', log, retry: FAST, ...extra }), lines };
  };

  it('gives up on a Manager that keeps answering 503: the error names the route and the last status', async () => {
    fake = await startFakeManager(({ path }) => (path === '/oauth/token' ? undefined : { status: 503, body: { errors: [{ message: 'down' }] } }));
    const err = (await rejection(clientAt(fake.baseUrl).client.workflows.get('3f7a3c9e-8a4b-4c1d-9f00-000000000001'))) as ManagerUnavailableError;
    expect(isManagerUnavailableError(err)).to.equal(true);
    expect([err.route, err.lastStatus, err.attempts, err.retryable]).to.deep.equal(['GET /workflows/:id', 503, FAST.maxRetries + 1, true]);
    expect(err.message).to.equal('GET /workflows/:id: Manager unavailable after 4 attempts, last status 503');
    expect(fake.hits).to.have.length(FAST.maxRetries + 1);
  });

  it('retries while the connection is refused, and goes on once the Manager is back', async () => {
    const port = await closedPort();
    let starting: Promise<FakeManager> | undefined;
    const fetchWhileStarting: typeof fetch = async (input, init) => {
      try {
        return await fetch(input, init);
      } catch (err) {
        // The Manager comes up after the first refusal.
        starting ??= startFakeManager(({ path }) => (path === '/messaging/brokers' ? { status: 200, body: [], headers: { 'x-total-count': '0' } } : undefined), { port });
        fake = await starting;
        throw err;
      }
    };
    const { client, lines } = clientAt(`http://127.0.0.1:${port}`, { fetch: fetchWhileStarting });
    expect(await client.brokers.list()).to.deep.equal({ items: [], total: 0 });
    expect(retryWarnings(lines).map((l) => [l.route, l.code])).to.deep.equal([['POST /oauth/token', 'ECONNREFUSED']]);
  });

  it('a Manager that never comes: ManagerUnavailableError without a status, naming the refusal', async () => {
    const port = await closedPort();
    const err = (await rejection(clientAt(`http://127.0.0.1:${port}`).client.brokers.list())) as ManagerUnavailableError;
    expect([err.name, err.route, err.lastStatus, err.attempts]).to.deep.equal(['ManagerUnavailableError', 'POST /oauth/token', undefined, FAST.maxRetries + 1]);
    expect(err.message).to.include('no answer (ECONNREFUSED)');
  });

  it('repeats a GET whose connection dropped, but not a POST that may have arrived', async () => {
    fake = await startFakeManager(({ path, index }) => {
      if (path === '/oauth/token') return undefined;
      if (index === 0 || index === 1) return 'drop';
      return { status: 200, body: [], headers: { 'x-total-count': '0' } };
    });
    const { client } = clientAt(fake.baseUrl);
    const err = (await rejection(client.workflows.create({ app_name: 'x' }))) as ManagerUnavailableError;
    expect([err.name, err.route, err.attempts]).to.deep.equal(['ManagerUnavailableError', 'POST /workflows', 1]);
    expect(await client.brokers.list()).to.deep.equal({ items: [], total: 0 });
    expect(fake.hits).to.deep.equal(['POST /workflows', 'GET /messaging/brokers', 'GET /messaging/brokers']);
  });

  it('reports a malformed body as a ManagerResponseError naming each field', async () => {
    const wrong = { id: 'not-a-uuid', milestones: 'build', workflow_completed: 'no', inserted_at: 'yesterday' };
    fake = await startFakeManager(({ path }) => {
      if (path.startsWith('/workflows/')) return { status: 200, body: wrong };
      if (path === '/messaging/brokers') return { status: 200, body: [] };
      return undefined;
    });
    const { client } = clientAt(fake.baseUrl);
    const err = (await rejection(client.workflows.get('3f7a3c9e-8a4b-4c1d-9f00-000000000001'))) as ManagerResponseError;
    expect(isManagerResponseError(err)).to.equal(true);
    expect([err.route, err.status]).to.deep.equal(['GET /workflows/:id', 200]);
    const fields = err.problems.map((p) => p.split(':')[0]);
    expect(fields).to.include.members(['id', 'milestones', 'workflow_completed', 'inserted_at', 'deployment_repo']);
    const noTotal = (await rejection(client.brokers.list())) as ManagerResponseError;
    expect([noTotal.name, noTotal.problems]).to.deep.equal(['ManagerResponseError', ['X-Total-Count: expected a count, got none']]);
  });

  it('reports a token answer without a token as a ManagerResponseError of POST /oauth/token', async () => {
    fake = await startFakeManager(({ path }) => (path === '/oauth/token' ? { status: 200, body: { token_type: 'bearer', expires_in: 'soon' } } : undefined));
    const err = (await rejection(clientAt(fake.baseUrl).client.brokers.list())) as ManagerResponseError;
    expect([err.name, err.route]).to.deep.equal(['ManagerResponseError', 'POST /oauth/token']);
    expect(err.problems.map((p) => p.split(':')[0])).to.deep.equal(['access_token', 'expires_in']);
  });

  it('a 500 is a retryable ManagerApiError carrying the messages; a non-JSON error body is shown as text', async () => {
    fake = await startFakeManager(({ path }) => {
      if (path === '/system_events') return { status: 500, body: { errors: [{ message: 'An unexpected error occured' }] } };
      if (path === '/clusters/x') return { status: 502, body: 'Bad Gateway' };
      return undefined;
    });
    const { client } = clientAt(fake.baseUrl);
    const err = (await rejection(client.systemEvents.create({ type: 't', severity: 's' }))) as ManagerApiError;
    expect([err.name, err.status, err.retryable, err.messages]).to.deep.equal(['ManagerApiError', 500, true, ['An unexpected error occured']]);
    const gateway = (await rejection(client.clusters.get('x'))) as ManagerApiError;
    expect([gateway.status, gateway.messages]).to.deep.equal([502, ['Bad Gateway']]);
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => clientAt('manager:4000')).to.throw(RangeError, /baseUrl must be an http\(s\) URL/);
  });
});
