import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { EmailRequested, NOTIFICATIONS_EMAIL_QUEUE } from '../../../actors/notifications/messages.js';
import { STEP_COMPLETED, WORKFLOW_ORCHESTRATION_QUEUE, type OrchestrationRequest } from '../../../actors/orchestrator/messages.js';
import orchestrator from '../../../actors/orchestrator/orchestrator.actor.js';
import { managerClient, type ManagerClient, type Workflow } from '../../../http/client/manager-client.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import type { AnyRoute } from '../../../http/route.js';
import type { ActorSystem } from '../../../runtime/actors/system.js';
import { MessagingEnv } from '../../../runtime/config.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import { operatorAccess } from './fixtures/manager.js';
import { seedPlatform, startOrchestrator, testTimeouts } from './fixtures/platform.js';
import { COMPLETION_RECIPIENT, startTestWorkers } from './fixtures/test-workers.js';

const TIMEOUT_S = 2;
const ORCHESTRATION = { exchangeId: 1, queue: WORKFLOW_ORCHESTRATION_QUEUE };

/** Holds worker answers the test asks it to hold, until released. */
class Gates {
  private readonly held = new Map<string, { released: Promise<void>; release: () => void; reached: boolean }>();
  hold(workflowId: string, milestone: string): void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.held.set(`${workflowId}/${milestone}`, { released, release, reached: false });
  }
  reached = (workflowId: string, milestone: string): boolean => this.held.get(`${workflowId}/${milestone}`)?.reached === true;
  release = (workflowId: string, milestone: string): void => this.held.get(`${workflowId}/${milestone}`)?.release();
  wait = async (request: OrchestrationRequest): Promise<void> => {
    const gate = this.held.get(`${request.id}/${request.current_step ?? ''}`);
    if (!gate) return;
    gate.reached = true;
    await gate.released;
  };
}

forEachDatabase('WorkflowOrchestrator with test workers (in-memory transport, real Manager)', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h) => {
  const env = MessagingEnv.parse({ EXCHANGE_ID: '1' });
  const { log } = captureLogs();
  const emails: EmailRequested[] = [];
  const gates = new Gates();
  let transport: Transport;
  let client: ManagerClient;
  let system: ActorSystem | undefined;
  let workers: Awaited<ReturnType<typeof startTestWorkers>>;
  let args: Parameters<typeof startOrchestrator>[0];

  const api = (method: string, path: string, body?: unknown) => h().call(method, path, { token: h().tokens.operator, ...(body === undefined ? {} : { body }) });
  const start = async () => (system = await startOrchestrator(args, transport, env));

  before(async () => {
    const seed = async (method: string, path: string, body?: unknown) => {
      const res = await h().call(method, path, { token: h().tokens.admin, body });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    await seedPlatform(seed);
    transport = h().broker.transport({ exchangeId: 1, log });
    const access = await operatorAccess(h().db, h().baseUrl);
    client = managerClient({ ...access, log });
    args = { manager: access, exchangeId: 1, brokerId: 1, uiUrl: 'https://ui.example', timeoutsMs: testTimeouts(TIMEOUT_S) };
    workers = await startTestWorkers({ transport, manager: client, log, beforeAnswer: gates.wait });
    await transport.consume({
      queue: NOTIFICATIONS_EMAIL_QUEUE,
      decode: (payload) => ({ ok: true, value: EmailRequested.parse(payload) }),
      handle: async (email) => {
        emails.push(email);
        return { type: 'ack' };
      },
    });
    await start();
  });
  after(async () => {
    await system?.shutdown(2_000);
    await workers?.stop();
    await transport?.close();
  });

  async function executed(repo: string, milestones = ['build', 'deploy']): Promise<string> {
    const id = await client.workflows.create({ deployment_repo: repo, source_repo: 'test/shop', source_repo_git_ref: 'abc123', milestones });
    expect((await api('POST', `/workflows/${id}/execute`, {})).status).to.equal(202);
    return id;
  }
  const finished = (id: string): Promise<Workflow> =>
    waitFor(`workflow ${id} to complete`, async () => {
      const w = await client.workflows.get(id);
      return w?.workflow_completed && (w.event_log ?? []).some((l) => / Workflow (completed|has failed) in /.test(l)) ? w : undefined;
    }, 15_000);
  const lines = (w: Workflow): string[] => (w.event_log ?? []).map((l) => l.replace(/^\[OA\]\[[^\]]+\]\[[^\]]+\] /, ''));
  const emailsOf = (id: string) => emails.filter((e) => e.prefix.includes(id));
  const receivedBy = (id: string) => workers.received.filter((r) => r.workflowId === id).map((r) => r.milestone);

  it('runs a [build, deploy] workflow to completion, saved, logged and e-mailed once', async () => {
    const id = await executed('test/ok_docker');
    const w = await finished(id);
    expect([w.workflow_error, w.current_step]).to.deep.equal([false, 'workflow_completed']);
    expect(lines(w)).to.include.members([
      'Starting workflow...',
      'Starting Workflow Milestone:  :build',
      'Dispatching a build request to exchange 1, docker build cluster build-tok...',
      'builder double running build',
      'Starting Workflow Milestone:  :deploy',
      'Dispatching a deploy request to exchange 1, deployment cluster deploy-tok...',
      'deployer double running deploy',
    ]);
    expect(lines(w).filter((l) => l.startsWith('Workflow completed in'))).to.have.length(1);
    expect(Object.keys(w.workflow_step_durations ?? {})).to.deep.equal(['build', 'deploy']);
    expect(receivedBy(id)).to.deep.equal(['build', 'deploy']);
    await waitFor('the completion e-mail', () => emailsOf(id).length === 1);
    expect(emailsOf(id)[0]).to.deep.include({ prefix: `SUCCEEDED [OA][${id}][test/ok_docker]`, notifications: { email_addresses: [COMPLETION_RECIPIENT] } });
    expect(emailsOf(id)[0]!.message).to.include(`https://ui.example/index.html#/oa/workflows/workflows/${id}`);
  });

  it('fails the workflow when a worker fails, with the worker reason in the event log', async () => {
    const id = await executed('test/fail-build_docker');
    const w = await finished(id);
    expect([w.workflow_error, w.current_step]).to.deep.equal([true, 'build']);
    expect(lines(w)).to.include('Workflow Milestone Failed:  :build.  Reason:  the builder double was told to fail build');
    expect(lines(w).some((l) => l.startsWith('Workflow has failed in'))).to.equal(true);
    expect(receivedBy(id)).to.deep.equal(['build']);
  });

  it('times out a milestone whose worker never answers', async () => {
    const id = await executed('test/silent-deploy_docker');
    const w = await finished(id);
    expect([w.workflow_error, w.current_step]).to.deep.equal([true, 'deploy']);
    expect(lines(w)).to.include(`Workflow Milestone Failed:  :deploy.  Reason:  milestone deploy timed out after ${TIMEOUT_S} second(s)`);
  });

  it('ignores a duplicate callback, while running and after completion', async () => {
    const realId = await executed('test/ok_docker');
    gates.hold(realId, 'deploy');
    await waitFor('the deploy to reach the worker', () => gates.reached(realId, 'deploy'));
    const build = workers.received.find((r) => r.workflowId === realId && r.milestone === 'build')!;
    const row = (await client.workflows.get(realId))!;
    const stale = { ...(row.orchestration?.['request'] as object), event_log: row.event_log, id: realId, current_step: 'build', dispatch_id: build.dispatchId };
    await transport.publish(ORCHESTRATION, STEP_COMPLETED, stale);
    gates.release(realId, 'deploy');
    const w = await finished(realId);
    await transport.publish(ORCHESTRATION, STEP_COMPLETED, stale);
    await transport.publish(ORCHESTRATION, STEP_COMPLETED, { ...stale, current_step: 'deploy' });
    await waitFor('the duplicates to be consumed', () => h().broker.depth(ORCHESTRATION) === 0);
    const after = (await client.workflows.get(realId))!;
    expect(after.event_log).to.deep.equal(w.event_log);
    expect(lines(after).filter((l) => l.startsWith('Completed Workflow Milestone:  :build'))).to.have.length(1);
    expect(emailsOf(realId)).to.have.length(1);
  });

  it("cancels a running workflow: failed with the reason, and the worker's late report refused", async () => {
    const id = await client.workflows.create({ deployment_repo: 'test/ok_docker', milestones: ['build', 'deploy'] });
    gates.hold(id, 'build');
    expect((await api('POST', `/workflows/${id}/execute`, {})).status).to.equal(202);
    await waitFor('the build to reach the worker', () => gates.reached(id, 'build'));
    expect((await api('POST', `/workflows/${id}/cancel`)).status).to.equal(204);
    const w = await finished(id);
    gates.release(id, 'build');
    expect(lines(w)).to.include.members(['Workflow has been cancelled.  Reason:  cancelled by test-operator', 'Workflow Milestone Failed:  :build.  Reason:  cancelled by test-operator']);
    await waitFor("the build double's report refused", () => workers.superseded.some((r) => r.workflowId === id));
    expect(receivedBy(id)).to.deep.equal(['build']);
    const after = (await client.workflows.get(id))!;
    expect(after.workflow_error).to.equal(true);
    expect(after.event_log, 'the late report overwrote the final lines').to.deep.equal(w.event_log);
    expect(h().broker.depth(ORCHESTRATION), 'a late callback was sent').to.equal(0);
    expect(await system!.root.handle('orchestrator', orchestrator).ask('status')).to.deep.equal({ workflows: 0 });
  });

  it('resumes after a restart: the workflow it was running completes once', async () => {
    const id = await client.workflows.create({ deployment_repo: 'test/ok_docker', milestones: ['build', 'deploy'] });
    gates.hold(id, 'build');
    expect((await api('POST', `/workflows/${id}/execute`, {})).status).to.equal(202);
    await waitFor('the build to reach the worker', () => gates.reached(id, 'build'));
    await system!.shutdown(2_000);
    gates.release(id, 'build');
    await waitFor('the build callback to wait in the queue', () => h().broker.depth(ORCHESTRATION) === 1);
    await start();
    const w = await finished(id);
    expect(w.workflow_error).to.equal(false);
    expect(lines(w).filter((l) => l.startsWith('Workflow completed in'))).to.have.length(1);
    expect(receivedBy(id)).to.deep.equal(['build', 'deploy']);
    await waitFor('the completion e-mail', () => emailsOf(id).length === 1);
  });

  it('dead-letters what it cannot apply, with the reason', async () => {
    await transport.publish(ORCHESTRATION, STEP_COMPLETED, { id: 'not-a-uuid', milestones: [] });
    const ghost = randomUUID();
    await transport.publish(ORCHESTRATION, STEP_COMPLETED, { id: ghost, milestones: ['build'], current_step: 'build' });
    const dead: Array<{ reason: string | undefined }> = [];
    await waitFor('two dead letters', () => {
      dead.push(...h().broker.takeDeadLetters(ORCHESTRATION));
      return dead.length >= 2;
    });
    const reasons = dead.map((d) => d.reason);
    expect(reasons.some((r) => /^workflow\.step_completed: id: Invalid UUID/.test(r ?? ''))).to.equal(true);
    expect(reasons).to.include(`workflow ${ghost}: the Manager has no such workflow`);
  });
});
