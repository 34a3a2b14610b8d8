import { expect } from 'chai';
import { headersUpTo, progressBetween, renderFollowEvent, statusOf, type FollowEvent, type WorkflowView } from '../../../cli/core/progress.js';

const base: WorkflowView = {
  id: 'w1',
  milestones: ['config', 'build', 'deploy'],
  current_step: null,
  workflow_completed: false,
  workflow_error: false,
  event_log: [],
  execute_requested_at: null,
  workflow_duration: null,
};
const at = (fields: Partial<WorkflowView>): WorkflowView => ({ ...base, ...fields });
const milestone = (name: string, position: number): FollowEvent => ({ kind: 'milestone', milestone: name, position, total: 3 });
const event = (line: string): FollowEvent => ({ kind: 'event', line });

describe('cli/core/progress', () => {
  describe('statusOf', () => {
    const cases: Array<[Partial<WorkflowView>, string]> = [
      [{}, 'created'],
      [{ execute_requested_at: '2025-01-01T00:00:00Z' }, 'queued'],
      [{ execute_requested_at: '2025-01-01T00:00:00Z', current_step: 'build' }, 'running'],
      [{ current_step: 'workflow_completed', workflow_completed: true }, 'succeeded'],
      [{ current_step: 'build', workflow_completed: true, workflow_error: true }, 'failed'],
      [{ workflow_completed: null, workflow_error: null }, 'created'],
    ];
    for (const [fields, status] of cases) it(`${JSON.stringify(fields)} is ${status}`, () => expect(statusOf(at(fields))).to.equal(status));
  });

  describe('progressBetween', () => {
    const cases: Array<{ name: string; before: WorkflowView | undefined; after: WorkflowView; events: FollowEvent[] }> = [
      { name: 'nothing yet', before: undefined, after: base, events: [] },
      { name: 'no change', before: at({ current_step: 'build' }), after: at({ current_step: 'build' }), events: [] },
      { name: 'the first milestone starts', before: base, after: at({ current_step: 'config' }), events: [milestone('config', 1)] },
      { name: 'a milestone missed between polls is still shown', before: at({ current_step: 'config' }), after: at({ current_step: 'deploy' }), events: [milestone('build', 2), milestone('deploy', 3)] },
      { name: 'first snapshot mid-way shows the milestones so far', before: undefined, after: at({ current_step: 'build' }), events: [milestone('config', 1), milestone('build', 2)] },
      {
        name: 'new event-log lines, in order',
        before: at({ event_log: ['a'] }),
        after: at({ event_log: ['a', 'b', 'c'] }),
        events: [event('b'), event('c')],
      },
      {
        name: 'a rewritten log shows only unseen lines',
        before: at({ event_log: ['a', 'b'] }),
        after: at({ event_log: ['b', 'x', 'a'] }),
        events: [event('x')],
      },
      {
        name: 'success after the last milestone',
        before: at({ current_step: 'deploy' }),
        after: at({ current_step: 'workflow_completed', workflow_completed: true, workflow_duration: '2 minutes' }),
        events: [{ kind: 'completed', succeeded: true, duration: '2 minutes' }],
      },
      {
        name: 'success seen only at the end shows the milestones it skipped over',
        before: at({ current_step: 'config' }),
        after: at({ current_step: 'workflow_completed', workflow_completed: true }),
        events: [milestone('build', 2), milestone('deploy', 3), { kind: 'completed', succeeded: true, duration: null }],
      },
      {
        name: 'failure in build: no later milestone is claimed',
        before: at({ current_step: 'build' }),
        after: at({ current_step: 'workflow_completed', workflow_completed: true, workflow_error: true, event_log: ['failed'] }),
        events: [event('failed'), { kind: 'completed', succeeded: false, duration: null }],
      },
      {
        name: 'completion is reported once',
        before: at({ workflow_completed: true, current_step: 'workflow_completed' }),
        after: at({ workflow_completed: true, current_step: 'workflow_completed' }),
        events: [],
      },
      { name: 'no milestones list', before: undefined, after: at({ milestones: null, current_step: 'build' }), events: [] },
    ];
    for (const c of cases) it(c.name, () => expect(progressBetween(c.before, c.after)).to.deep.equal(c.events));
  });

  describe('headersUpTo', () => {
    const all = ['config', 'build', 'deploy'];
    it('the headers a build line needs first: build and those before it, none printed twice', () => {
      expect(headersUpTo(all, 'build', new Set())).to.deep.equal([milestone('config', 1), milestone('build', 2)]);
      expect(headersUpTo(all, 'build', new Set(['config']))).to.deep.equal([milestone('build', 2)]);
      expect(headersUpTo(all, 'build', new Set(['config', 'build']))).to.deep.equal([]);
    });
    it('none for a milestone the workflow does not have, or before its milestones are known', () => {
      expect(headersUpTo(['deploy'], 'build', new Set())).to.deep.equal([]);
      expect(headersUpTo([], 'build', new Set())).to.deep.equal([]);
    });
  });

  describe('renderFollowEvent', () => {
    const cases: Array<[FollowEvent, string]> = [
      [milestone('build', 2), '==> milestone 2/3: build'],
      [event('[OA][w1][org/app_docker] Starting Workflow Milestone:  :build'), '    Starting Workflow Milestone:  :build'],
      [event('no prefix here'), '    no prefix here'],
      [{ kind: 'completed', succeeded: true, duration: '3 seconds' }, 'workflow w1 succeeded in 3 seconds'],
      [{ kind: 'completed', succeeded: false, duration: null }, 'workflow w1 failed'],
    ];
    for (const [e, text] of cases) it(text, () => expect(renderFollowEvent(e, 'w1')).to.equal(text));
  });
});
