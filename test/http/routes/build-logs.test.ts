import { expect } from 'chai';
import { BUILD_LOGS_PUBLISHED, BUILD_LOGS_QUEUE } from '../../../actors/builder/messages.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { openSse, type SseClient } from '../../actors/builder/sse.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

forEachDatabase('GET /workflows/:id/build_logs (Server-Sent Events)', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h) => {
  let builder: Transport;
  const open: SseClient[] = [];

  /** A workflow as an operator creates it; its id. */
  const newWorkflow = async (): Promise<string> => {
    const res = await h().call('POST', '/workflows', { token: h().tokens.operator, body: { deployment_repo: 'org/app_docker', milestones: ['build'] } });
    return res.headers.get('location')!.split('/').pop()!;
  };
  const subscribe = async (id: string, token = h().tokens.viewer): Promise<SseClient> => {
    const client = await openSse(`${h().baseUrl}/workflows/${id}/build_logs`, token);
    open.push(client);
    return client;
  };
  const publish = (workflowId: string, logs: string[]) =>
    builder.publish({ exchangeId: 1, queue: BUILD_LOGS_QUEUE }, BUILD_LOGS_PUBLISHED, { workflow_id: workflowId, logs }, { broadcast: true });
  const logsOf = (c: SseClient) => c.events.filter((e) => e.event === 'build_log').map((e) => e.data);

  before(() => {
    builder = h().broker.transport({ exchangeId: 1, log: captureLogs().log });
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(() => builder.close());

  it('relays each batch of the workflow to every subscriber, and no other workflow\'s', async () => {
    const [id, other] = [await newWorkflow(), await newWorkflow()];
    const [first, second] = [await subscribe(id), await subscribe(id, h().tokens.admin)];
    expect([first.status, first.contentType]).to.deep.equal([200, 'text/event-stream; charset=utf-8']);
    await waitFor('both subscribed', () => first.comments.includes('subscribed') && second.comments.includes('subscribed'));
    await publish(other, ['not mine']);
    await publish(id, ['Step 1/2 : FROM busybox', 'hello from RUN']);
    await publish(id, ['Successfully built 123']);
    await waitFor('two batches each', () => logsOf(first).length === 2 && logsOf(second).length === 2);
    const expected = [{ logs: ['Step 1/2 : FROM busybox', 'hello from RUN'] }, { logs: ['Successfully built 123'] }];
    expect(logsOf(first)).to.deep.equal(expected);
    expect(logsOf(second)).to.deep.equal(expected);
  });

  it('ends the stream once the workflow completes, and at once for a completed one', async () => {
    const id = await newWorkflow();
    const live = await subscribe(id);
    await waitFor('subscribed', () => live.comments.includes('subscribed'));
    expect((await h().call('POST', `/workflows/${id}/cancel`, { token: h().tokens.operator })).status).to.equal(204);
    await live.ended;
    expect(live.events.at(-1)).to.deep.equal({ event: 'end', data: { workflow_completed: true } });
    const late = await subscribe(id);
    await late.ended;
    expect(late.events).to.deep.equal([{ event: 'end', data: { workflow_completed: true } }]);
  });

  it('answers 401 without a token, 404 for an unknown workflow and 400 for a bad id', async () => {
    const call = (path: string, token?: string) => h().call('GET', path, token === undefined ? {} : { token });
    expect((await call(`/workflows/${UNKNOWN}/build_logs`)).status).to.equal(401);
    const unknown = await call(`/workflows/${UNKNOWN}/build_logs`, h().tokens.viewer);
    expect([unknown.status, unknown.body]).to.deep.equal([404, { errors: [{ message: 'Workflow was not found' }] }]);
    expect((await call('/workflows/nope/build_logs', h().tokens.viewer)).status).to.equal(400);
  });

  it('dead-letters a message on build_logs that is not a batch of logs, with the reason', async () => {
    const id = await newWorkflow();
    const client = await subscribe(id);
    await waitFor('subscribed', () => client.comments.includes('subscribed'));
    await builder.publish({ exchangeId: 1, queue: BUILD_LOGS_QUEUE }, BUILD_LOGS_PUBLISHED, { workflow_id: id, logs: 'one string' }, { broadcast: true });
    const letters = await waitFor('the dead letter', () => {
      const got = h().broker.takeDeadLetters({ exchangeId: 1, queue: BUILD_LOGS_QUEUE });
      return got.length > 0 ? got : undefined;
    });
    expect(letters.map((l) => l.reason)).to.deep.equal([`${BUILD_LOGS_PUBLISHED}: logs: Invalid input: expected array, received string`]);
  });
});
