import { expect } from 'chai';
import { advance } from '../../../../actors/orchestrator/core/machine.js';
import { milestoneEnded } from '../../../../actors/orchestrator/core/milestone-end.js';
import type { WorkflowEvent, WorkflowState } from '../../../../actors/orchestrator/core/state.js';
import { fresh, lastOf, request, run, T0 } from './fixtures.js';

const TARGET = { ok: true as const, exchangeId: 2, clusterToken: 'tok', notices: [] };

/** The workflow with its build dispatched and confirmed at T0. */
function building(): Extract<WorkflowState, { phase: 'running' }> {
  const t = lastOf(
    run(fresh, [
      [{ type: 'execute', request: request(), freshId: 'd1' }, T0],
      [{ type: 'target', dispatchId: 'd1', target: TARGET }, T0],
      [{ type: 'confirmed', dispatchId: 'd1' }, T0],
    ]),
  );
  if (t.next.phase !== 'running') throw new Error('expected a running build');
  return t.next;
}

describe('milestoneEnded (openaperture_milestone_duration_seconds)', () => {
  const cases: ReadonlyArray<[string, (s: ReturnType<typeof building>) => WorkflowEvent, ReturnType<typeof milestoneEnded>, number?]> = [
    ['a completed build, the deploy next', (s) => ({ type: 'step_completed', request: { ...s.request }, freshId: 'd2' }), { milestone: 'build', outcome: 'succeeded', seconds: 90 }],
    ['a failed build', (s) => ({ type: 'step_failed', request: { ...s.request, failure_reason: 'exit 2' } }), { milestone: 'build', outcome: 'failed', seconds: 90 }],
    ['a build past its deadline (an hour)', (s) => ({ type: 'deadline', dispatchId: s.run.dispatchId }), { milestone: 'build', outcome: 'timed_out', seconds: 3_600 }, 3_600_000],
    ['a cancelled build', () => ({ type: 'cancel', reason: 'by hand', eventLog: null }), { milestone: 'build', outcome: 'cancelled', seconds: 90 }],
    ['a stale callback (another dispatch): nothing ended', (s) => ({ type: 'deadline', dispatchId: `${s.run.dispatchId}-old` }), undefined],
  ];
  for (const [name, eventOf, expected, afterMs = 90_000] of cases) {
    it(name, () => {
      const s = building();
      const event = eventOf(s);
      const { next } = advance(s, event, T0 + afterMs);
      expect(milestoneEnded(s, next, event, T0 + afterMs)).to.deep.equal(expected);
    });
  }

  it('a workflow that was not running ends nothing', () => {
    const event: WorkflowEvent = { type: 'execute', request: request(), freshId: 'd1' };
    expect(milestoneEnded(fresh, advance(fresh, event, T0).next, event, T0)).to.equal(undefined);
  });
});
