import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { DispatchSuperseded } from '../../../actors/shared/dispatch.js';
import { milestoneReport } from '../../../actors/shared/milestone-report.js';
import { STEP_COMPLETED, STEP_FAILED, WORKFLOW_ORCHESTRATION_QUEUE, type OrchestrationRequest } from '../../../actors/orchestrator/messages.js';
import { managerClient } from '../../../http/client/manager-client.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import { awaiting } from '../../helpers/dispatch.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { forEachManager } from '../../http/client/live-manager.js';

forEachManager("milestone report: a worker's saves count only while its workflow waits for its dispatch", (m) => {
  async function setUp() {
    const { clientId, clientSecret } = await m().addClient('operator');
    const { log } = captureLogs();
    const manager = managerClient({ baseUrl: m().baseUrl, clientId, clientSecret, log });
    const broker = new MemoryBroker();
    const transport = broker.transport({ exchangeId: 1, log });
    const callbacks: string[] = [];
    await transport.consume({
      queue: WORKFLOW_ORCHESTRATION_QUEUE,
      decode: (_payload, type) => ({ ok: true, value: type }),
      handle: async (type) => (callbacks.push(type), { type: 'ack' }),
    });
    const id = await manager.workflows.create({ deployment_repo: 'acme/shop_docker', milestones: ['build'] });
    const request = (dispatchId: string): OrchestrationRequest =>
      ({ id, deployment_repo: 'acme/shop_docker', current_step: 'build', dispatch_id: dispatchId, event_log: ['started'], workflow_orchestration_exchange_id: '1', notifications_exchange_id: '1' }) as OrchestrationRequest;
    const report = (dispatchId: string) => milestoneReport({ transport, manager, log }, request(dispatchId));
    return { manager, id, callbacks, report, close: () => transport.close() };
  }

  it('saves and calls back while the workflow waits for the dispatch', async () => {
    const { manager, id, callbacks, report, close } = await setUp();
    try {
      await manager.workflows.update(id, awaiting('build', 'd1'));
      const r = report('d1');
      await r.notify('Build request is being processed');
      await r.completed();
      expect((await manager.workflows.get(id))?.event_log).to.deep.equal(['started', `[OA][${id}][acme/shop_docker] Build request is being processed`]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(callbacks).to.deep.equal([STEP_COMPLETED]);
    } finally {
      await close();
    }
  });

  it('stops once the Manager refuses a save: the later lines are kept, nothing more is said or called back', async () => {
    const { manager, id, callbacks, report, close } = await setUp();
    try {
      await manager.workflows.update(id, awaiting('build', 'd1'));
      const stale = report('d1');
      // The workflow moved on (another dispatch of the build ran and finished) while this run was in it.
      await manager.workflows.update(id, { workflow_completed: true, current_step: 'workflow_completed', event_log: ['started', 'completed'] });
      await stale.notify('Build request is being processed');
      const refused = await stale.save().then(() => undefined, (err: unknown) => err);
      expect(refused).to.be.instanceOf(DispatchSuperseded);
      expect((refused as Error).message).to.equal('the Manager refused the build report: Workflow has already completed: dispatch d1 may not change it');
      for (const after of [() => stale.notify('more'), () => stale.failed('a failure of the stale run'), () => stale.completed()]) {
        expect(await after().then(() => undefined, (err: unknown) => err)).to.equal(refused);
      }
      expect((await manager.workflows.get(id))?.event_log).to.deep.equal(['started', 'completed']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(callbacks, `no ${STEP_FAILED} or ${STEP_COMPLETED} of the stale run`).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  it('saves without a condition for a request that carries no dispatch id', async () => {
    const { manager, id, close } = await setUp();
    try {
      const r = milestoneReport({ transport: { publish: async () => undefined }, manager, log: captureLogs().log }, { id, current_step: 'build', event_log: [randomUUID()] } as OrchestrationRequest);
      await r.save();
      expect((await manager.workflows.get(id))?.event_log).to.deep.equal(r.request.event_log);
    } finally {
      await close();
    }
  });
});
