import { expect } from 'chai';
import { WORKFLOW_ORCHESTRATION_QUEUE } from '../../actors/orchestrator/messages.js';
import { managerClient } from '../../http/client/manager-client.js';
import { MANAGER_ROUTES } from '../../http/routes/index.js';
import type { AnyRoute } from '../../http/route.js';
import type { ActorSystem } from '../../runtime/actors/system.js';
import { MessagingEnv } from '../../runtime/config.js';
import { meteredTransport } from '../../runtime/messaging/metered.js';
import type { Transport } from '../../runtime/messaging/transport.js';
import { operatorAccess } from '../actors/orchestrator/fixtures/manager.js';
import { seedPlatform, startOrchestrator, testTimeouts } from '../actors/orchestrator/fixtures/platform.js';
import { startTestWorkers } from '../actors/orchestrator/fixtures/test-workers.js';
import { captureLogs } from '../helpers/log-capture.js';
import { sample } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';
import { forEachDatabase, type ApiHarness, type HarnessDeps } from './harness.js';

const routes = MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>;

const scrape = async (h: ApiHarness): Promise<string> => {
  const res = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${h.tokens.viewer}` } });
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

forEachDatabase(
  'Manager: GET /metrics and /docs',
  routes,
  (h) => {
    it('answers /metrics to a viewer token only', async () => {
      expect((await h().call('GET', '/metrics')).status).to.equal(401);
      expect((await h().call('GET', '/metrics', { token: h().tokens.viewer })).status).to.equal(200);
    });

    it('counts answers by route template and status, and workflows by state, with the process metrics', async () => {
      expect((await h().call('GET', '/workflows/00000000-0000-0000-0000-000000000000', { token: h().tokens.viewer })).status).to.equal(404);
      const created = await h().call('POST', '/workflows', { token: h().tokens.operator, body: { deployment_repo: 'test/m_docker', source_repo: 'test/m' } });
      expect(created.status).to.equal(201);
      await h().call('GET', '/no/such/path');
      const text = await scrape(h());
      expect(sample(text, 'openaperture_http_request_duration_seconds_count{method="GET",route="/workflows/:id",status="404"}')).to.equal(1);
      expect(sample(text, 'openaperture_http_request_duration_seconds_count{method="POST",route="/workflows",status="201"}')).to.equal(1);
      expect(sample(text, 'openaperture_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).to.equal(1);
      expect(sample(text, 'openaperture_workflows{state="pending"}')).to.equal(1);
      expect(sample(text, 'openaperture_workflows{state="failed"}')).to.equal(0);
      expect(text).to.match(/^process_cpu_seconds_total /m);
      expect(text).to.match(/^nodejs_eventloop_lag_seconds /m);
    });

    it('serves /docs without a token, and every asset the page names', async () => {
      const page = await fetch(`${h().baseUrl}/docs`);
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets).to.include.members(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);
      for (const asset of assets) {
        const res = await fetch(`${h().baseUrl}${asset}`);
        expect(res.status, asset).to.equal(200);
        expect((await res.arrayBuffer()).byteLength, asset).to.be.above(100);
      }
      expect(await (await fetch(`${h().baseUrl}/docs/init.js`)).text()).to.include("url: '/openapi.json'");
      expect((await fetch(`${h().baseUrl}/docs/package.json`)).status).to.equal(404);
      expect((await fetch(`${h().baseUrl}/docs/..%2Fpackage.json`)).status).to.equal(404);
    });
  },
  { metrics: true },
);

forEachDatabase(
  'Metrics: a workflow through the orchestrator moves the counters',
  routes,
  (h) => {
    const { log } = captureLogs();
    let transport: Transport;
    let system: ActorSystem | undefined;
    let workers: Awaited<ReturnType<typeof startTestWorkers>> | undefined;

    before(async () => {
      const metrics = h().metrics!;
      await seedPlatform(async (method, path, body) => h().call(method, path, { token: h().tokens.admin, body }));
      transport = meteredTransport(h().broker.transport({ exchangeId: 1, log }), metrics);
      const access = await operatorAccess(h().db, h().baseUrl);
      workers = await startTestWorkers({ transport, manager: managerClient({ ...access, log }), log });
      const args = { manager: access, exchangeId: 1, brokerId: 1, timeoutsMs: testTimeouts(5) };
      system = await startOrchestrator(args, transport, MessagingEnv.parse({ EXCHANGE_ID: '1' }), metrics);
    });
    after(async () => {
      await system?.shutdown(2_000);
      await workers?.stop();
      await transport?.close();
    });

    it('records the build and the deploy, the deliveries and the workflow state', async () => {
      const client = managerClient({ ...(await operatorAccess(h().db, h().baseUrl)), log });
      const id = await client.workflows.create({ deployment_repo: 'test/ok_docker', source_repo: 'test/shop', source_repo_git_ref: 'abc123', milestones: ['build', 'deploy'] });
      expect((await h().call('POST', `/workflows/${id}/execute`, { token: h().tokens.operator, body: {} })).status).to.equal(202);
      const delivered = (text: string) => sample(text, `openaperture_messaging_deliveries_total{queue="${WORKFLOW_ORCHESTRATION_QUEUE}"}`);
      const acked = (text: string) => sample(text, `openaperture_messaging_acks_total{queue="${WORKFLOW_ORCHESTRATION_QUEUE}"}`);
      // The workflow is saved as succeeded while its last delivery is still in the handler: its ack comes after.
      const text = await waitFor('the workflow counted as succeeded, every delivery acked', async () => {
        const now = await scrape(h());
        return sample(now, 'openaperture_workflows{state="succeeded"}') === 1 && acked(now) === delivered(now) && now;
      }, 15_000);
      expect(sample(text, 'openaperture_milestone_duration_seconds_count{milestone="build",outcome="succeeded"}')).to.equal(1);
      expect(sample(text, 'openaperture_milestone_duration_seconds_count{milestone="deploy",outcome="succeeded"}')).to.equal(1);
      expect(sample(text, 'openaperture_builds_total{outcome="succeeded"}')).to.equal(1);
      expect(sample(text, 'openaperture_deploys_total{milestone="deploy",outcome="succeeded"}')).to.equal(1);
      expect(delivered(text)).to.be.at.least(3);
      expect(sample(text, 'openaperture_actor_mailbox_depth{actor="orchestrator"}')).to.equal(0);
    });
  },
  { metrics: true },
);
