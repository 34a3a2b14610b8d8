import { expect } from 'chai';
import type { Workflow } from '../../../http/client/schemas.js';
import { DispatchGate, DispatchSuperseded, rerunNotice, standingOf } from '../../../actors/shared/dispatch.js';
import type { OrchestrationRequest } from '../../../actors/orchestrator/messages.js';
import type { Delivered } from '../../../runtime/messaging/intake.js';
import { awaiting } from '../../helpers/dispatch.js';
import { captureLogs } from '../../helpers/log-capture.js';

const ID = '5f1c5b53-5d0b-4c55-8f57-4f7c6e1b2a10';
type Saved = Pick<Workflow, 'workflow_completed' | 'current_step' | 'orchestration'>;
const waitingFor = (dispatchId: string, step = 'config'): Saved => ({ workflow_completed: false, ...awaiting(step, dispatchId) });
const request = (dispatchId: string | null, step = 'config') => ({ id: ID, dispatch_id: dispatchId, current_step: step }) as OrchestrationRequest;

describe('shared/dispatch: a worker runs the dispatch its workflow waits for, once', () => {
  describe('standingOf', () => {
    it('is current when the saved run waits for this dispatch', () => {
      expect(standingOf(waitingFor('d1'), request('d1'))).to.deep.equal({ current: true });
    });

    it('is stale, with the reason, when the workflow waits for another dispatch, none, has finished or is gone', () => {
      expect(standingOf(waitingFor('d2', 'build'), request('d1'))).to.deep.equal({
        current: false,
        reason: `workflow ${ID} waits for dispatch d2 (build), not for config dispatch d1`,
      });
      expect(standingOf({ workflow_completed: false, current_step: null, orchestration: null }, request('d1'))).to.deep.equal({
        current: false,
        reason: `workflow ${ID} waits for no dispatch, not for config dispatch d1`,
      });
      expect(standingOf({ ...waitingFor('d1'), workflow_completed: true, current_step: 'workflow_completed' }, request('d1'))).to.deep.equal({
        current: false,
        reason: `workflow ${ID} has finished (workflow_completed)`,
      });
      expect(standingOf(undefined, request('d1'))).to.deep.equal({ current: false, reason: `workflow ${ID} does not exist (any more)` });
    });

    it('is stale for a request without a dispatch id, which no orchestrator sent', () => {
      expect(standingOf(waitingFor('d1'), request(null))).to.deep.include({ current: false });
    });
  });

  describe('DispatchGate (the Manager played by a table of saved workflows)', () => {
    const delivered = (dispatchId: string, redelivered = false): Delivered<OrchestrationRequest> => ({
      id: `m-${dispatchId}`,
      type: 'milestone.requested',
      payload: request(dispatchId),
      redelivered,
      request: false,
    });
    const gateOver = (saved: Saved | undefined) => {
      const { log, lines } = captureLogs();
      let reads = 0;
      const manager = { workflows: { get: async () => (reads++, saved) } } as unknown as ConstructorParameters<typeof DispatchGate>[0]['manager'];
      return { gate: new DispatchGate({ manager, log }), lines, reads: () => reads };
    };

    it('runs a current dispatch and tells it whether the broker had delivered it before; a run that threw runs again', async () => {
      const { gate } = gateOver(waitingFor('d1'));
      const runs: boolean[] = [];
      const crash = gate.run(delivered('d1'), async (rerun) => {
        runs.push(rerun);
        throw new Error('the build host went away');
      });
      expect(await crash.then(() => 'resolved', (err: Error) => err.message)).to.equal('the build host went away');
      await gate.run(delivered('d1', true), async (rerun) => void runs.push(rerun));
      expect(runs).to.deep.equal([false, true]);
    });

    it('drops a copy of a dispatch that ran here to its end, without asking the Manager again', async () => {
      const { gate, lines, reads } = gateOver(waitingFor('d1'));
      let ran = 0;
      await gate.run(delivered('d1'), async () => void ran++);
      // The orchestrator resumed and sent its unconfirmed request again, before it read the callback.
      await gate.run(delivered('d1'), async () => void ran++);
      expect(ran).to.equal(1);
      expect(reads()).to.equal(1);
      expect(lines.find((l) => l.msg === 'a copy of a dispatch this process has run or is running: not run again')).to.deep.include({ verdict: 'ran', dispatchId: 'd1' });
    });

    it('ends a run the Manager refused as superseded there: no error, remembered, the reason logged', async () => {
      const { gate, lines } = gateOver(waitingFor('d1'));
      let ran = 0;
      const superseded = async () => {
        ran++;
        throw new DispatchSuperseded('the Manager refused the config report: Workflow has already completed');
      };
      await gate.run(delivered('d1'), superseded);
      await gate.run(delivered('d1', true), superseded);
      expect(ran).to.equal(1);
      expect(lines.find((l) => l.msg === 'the workflow moved on while this dispatch ran: stopped, nothing more reported')).to.deep.include({
        reason: 'the Manager refused the config report: Workflow has already completed',
      });
    });

    it('drops a stale dispatch with a log line naming the reason, running nothing', async () => {
      const { gate, lines } = gateOver(waitingFor('d2', 'build'));
      let ran = 0;
      await gate.run(delivered('d1', true), async () => void ran++);
      expect(ran).to.equal(0);
      expect(lines.find((l) => l.msg === 'stale milestone request dropped')).to.deep.include({
        reason: `workflow ${ID} waits for dispatch d2 (build), not for config dispatch d1`,
        dispatchId: 'd1',
      });
    });

    it('lets a copy of a dispatch running here wait for that run instead of starting a second one', async () => {
      const { gate, lines, reads } = gateOver(waitingFor('d1'));
      let ran = 0;
      let finish!: () => void;
      const first = gate.run(delivered('d1'), () => (ran++, new Promise<void>((resolve) => (finish = resolve))));
      let secondDone = false;
      const second = gate.run(delivered('d1', true), async () => void ran++).then(() => (secondDone = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(secondDone, 'the copy returned before the run it waits for').to.equal(false);
      finish();
      await Promise.all([first, second]);
      expect(ran).to.equal(1);
      expect(reads()).to.equal(1);
      expect(lines.map((l) => l.msg)).to.include('a copy of a dispatch this process has run or is running: not run again');
    });
  });

  it('words a re-run for the event log', () => {
    expect(rerunNotice('build')).to.equal('The build request was delivered again (an earlier attempt did not finish): running it again');
  });
});
