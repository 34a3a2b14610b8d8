import { expect } from 'chai';
import { adopt } from '../../../../actors/orchestrator/core/persisted.js';
import { savedFields } from '../../../../actors/orchestrator/core/saved.js';
import type { Run, RunningState } from '../../../../actors/orchestrator/core/state.js';
import { kinds, request, SETTINGS, T0 } from './fixtures.js';

const run = (extra: Partial<Run> = {}): Run => ({ milestone: 'build', index: 0, dispatchId: 'd1', confirmed: true, deadlineAt: T0 + 60_000, wakeAt: null, ...extra });
const state = (r: Run): RunningState => ({ phase: 'running', settings: SETTINGS, request: request({ current_step: r.milestone, dispatch_id: r.dispatchId, event_log: ['one', 'two'] }), run: r });
/** The row the Manager would return after saving `s`. */
const rowOf = (s: RunningState) => {
  const fields = savedFields(s, T0);
  return { workflow_completed: false, event_log: [...fields.event_log], orchestration: JSON.parse(JSON.stringify(fields.orchestration)) as unknown };
};

describe('resume (issue 5 item 6)', () => {
  it('knows missing, completed and never-started workflows', () => {
    expect(adopt(undefined, SETTINGS, T0).next.phase).to.equal('unknown');
    expect(adopt({ workflow_completed: true, event_log: null }, SETTINGS, T0).next.phase).to.equal('done');
    expect(adopt({ workflow_completed: false, event_log: null, orchestration: null }, SETTINGS, T0).next.phase).to.equal('new');
  });

  it('re-arms the persisted deadline of a confirmed dispatch, with state and event log as saved', () => {
    const saved = state(run());
    const t = adopt(rowOf(saved), SETTINGS, T0 + 5_000);
    expect(t.effects).to.deep.equal([{ type: 'arm', timer: 'deadline', dispatchId: 'd1', at: T0 + 60_000 }]);
    expect(t.next).to.deep.equal(saved);
  });

  it('sends an unconfirmed dispatch again, with the same dispatch id and deadline', () => {
    const t = adopt(rowOf(state(run({ confirmed: false }))), SETTINGS, T0 + 5_000);
    expect(kinds(t)).to.deep.equal(['notify', 'arm', 'resolve']);
    expect(t.effects.slice(1)).to.deep.equal([
      { type: 'arm', timer: 'deadline', dispatchId: 'd1', at: T0 + 60_000 },
      { type: 'resolve', milestone: 'build', dispatchId: 'd1' },
    ]);
  });

  it('resumes a scheduled wait at its time', () => {
    const t = adopt(rowOf(state(run({ milestone: 'scheduled', deadlineAt: null, wakeAt: T0 + 3_600_000 }))), SETTINGS, T0);
    expect(t.effects).to.deep.equal([{ type: 'arm', timer: 'wake', dispatchId: 'd1', at: T0 + 3_600_000 }]);
  });

  it('does not resume an unreadable state, and says why', () => {
    const t = adopt({ workflow_completed: false, event_log: null, orchestration: { run: { milestone: 3 } } }, SETTINGS, T0);
    expect(t.next.phase).to.equal('new');
    expect(t.effects[0]).to.have.property('reason').that.matches(/^orchestration state cannot be resumed \(run\.milestone: /);
  });
});
