import { expect } from 'chai';
import { advance } from '../../../../actors/orchestrator/core/machine.js';
import type { Effect, RunningState, Transition, WorkflowEvent, WorkflowState } from '../../../../actors/orchestrator/core/state.js';
import type { OrchestrationRequest } from '../../../../actors/orchestrator/messages.js';
import { fresh, ID, kinds, lastOf, messages, request, run, SETTINGS, T0 } from './fixtures.js';

const BUILD_TARGET = { ok: true as const, exchangeId: 2, clusterToken: 'tok-b', notices: ['Dispatching a build request to exchange 2, docker build cluster tok-b...'] };
const DEPLOY_TARGET = { ok: true as const, exchangeId: 3, clusterToken: 'tok-d', notices: ['Dispatching a deploy request to exchange 3, deployment cluster tok-d...'] };

const running = (t: Transition): RunningState => {
  if (t.next.phase !== 'running') throw new Error(`expected running, got ${t.next.phase}`);
  return t.next;
};
const saved = (t: Transition) => {
  const s = t.effects.find((e): e is Extract<Effect, { type: 'save' }> => e.type === 'save');
  if (!s) throw new Error('nothing saved');
  return s.fields;
};

/** execute -> build dispatched and confirmed, at T0. */
function buildRunning(r = request()): Transition[] {
  return run(fresh, [
    [{ type: 'execute', request: r, freshId: 'd1' }, T0],
    [{ type: 'target', dispatchId: 'd1', target: BUILD_TARGET }, T0],
    [{ type: 'confirmed', dispatchId: 'd1' }, T0],
  ]);
}
const afterBuild = (): RunningState => running(lastOf(buildRunning()));
const callback = (state: RunningState, extra: Partial<OrchestrationRequest> = {}): OrchestrationRequest => ({ ...state.request, ...extra });

describe('orchestrator state machine (reference §5.3-§5.4)', () => {
  describe('execute', () => {
    it('starts the first milestone: notices, deadline, then asks where to send it', () => {
      const [t] = run(fresh, [[{ type: 'execute', request: request(), freshId: 'd1' }, T0]]);
      expect(kinds(t!)).to.deep.equal(['notify', 'disarm', 'notify', 'arm', 'resolve']);
      expect(messages(t!)).to.deep.equal(['Starting workflow...', 'Starting Workflow Milestone:  :build']);
      expect(t!.effects[3]).to.deep.equal({ type: 'arm', timer: 'deadline', dispatchId: 'd1', at: T0 + 3_600_000 });
      expect(t!.effects[4]).to.deep.equal({ type: 'resolve', milestone: 'build', dispatchId: 'd1' });
      const s = running(t!);
      expect(s.request.event_log).to.deep.equal([`[OA][${ID}][acme/shop_docker] Starting workflow...`, `[OA][${ID}][acme/shop_docker] Starting Workflow Milestone:  :build`]);
      expect([s.request.workflow_start_time, s.request.step_time, s.request.workflow_error]).to.deep.equal([new Date(T0).toISOString(), new Date(T0).toISOString(), false]);
    });

    it('saves before it publishes, with the dispatch id and the callback route in the request', () => {
      const [, t] = buildRunning();
      expect(kinds(t!)).to.deep.equal(['notify', 'save', 'publish']);
      const p = t!.effects[2] as Extract<Effect, { type: 'publish' }>;
      expect(p.to).to.deep.equal({ exchangeId: 2, queue: 'builder' });
      expect(p.request).to.include({ current_step: 'build', dispatch_id: 'd1', docker_build_etcd_token: 'tok-b', workflow_orchestration_exchange_id: '1', workflow_orchestration_broker_id: '7', orchestration_queue_name: 'workflow_orchestration' });
      expect(saved(t!)).to.include({ current_step: 'build', orchestrator_exchange_id: 1 });
      expect(saved(t!).orchestration.run).to.include({ dispatchId: 'd1', confirmed: false });
    });

    it('records the broker confirmation with a save', () => {
      const t = lastOf(buildRunning());
      expect(kinds(t)).to.deep.equal(['save']);
      expect(saved(t).orchestration.run).to.include({ confirmed: true });
    });

    it('ignores an execute of a running workflow (a redelivery)', () => {
      const t = advance(afterBuild(), { type: 'execute', request: request(), freshId: 'x' }, T0);
      expect(kinds(t)).to.deep.equal(['ignore']);
    });

    it('completes a workflow without milestones at once', () => {
      const [t] = run(fresh, [[{ type: 'execute', request: request({ milestones: [] }), freshId: 'd1' }, T0]]);
      expect(t!.next.phase).to.equal('done');
      expect(messages(t!)).to.deep.equal(['Starting workflow...', 'Workflow completed in 0 second(s)']);
      expect(saved(t!)).to.include({ workflow_completed: true, current_step: 'workflow_completed' });
    });
  });

  describe('worker callbacks', () => {
    it('a completed build records its duration and starts deploy', () => {
      const s = afterBuild();
      const t = advance(s, { type: 'step_completed', request: callback(s, { etcd_token: 'tok-d' }), freshId: 'd2' }, T0 + 90_000);
      expect(messages(t)).to.deep.equal(['Completed Workflow Milestone:  :build, in 2 minute(s)', 'Starting Workflow Milestone:  :deploy']);
      expect(kinds(t)).to.deep.equal(['notify', 'disarm', 'notify', 'arm', 'resolve']);
      expect(running(t).request.workflow_step_durations).to.deep.equal({ build: '2 minute(s)' });
      expect(running(t).request.etcd_token).to.equal('tok-d');
      const sent = advance(running(t), { type: 'target', dispatchId: 'd2', target: DEPLOY_TARGET }, T0 + 90_000);
      expect((sent.effects[2] as Extract<Effect, { type: 'publish' }>).to).to.deep.equal({ exchangeId: 3, queue: 'deployer' });
    });

    it('the last milestone completes the workflow: saved, e-mailed, finished', () => {
      const s = afterBuild();
      const config = { email: { groups: { devs: ['a@x.com', 'b@x.com'] }, events: { on_workflow_completed: ['devs', 'c@x.com'] } } };
      const deploying = running(
        lastOf(
          run(s, [
            [{ type: 'step_completed', request: callback(s, { etcd_token: 'tok-d', notifications_config: config }), freshId: 'd2' }, T0 + 60_000],
            [{ type: 'target', dispatchId: 'd2', target: DEPLOY_TARGET }, T0 + 60_000],
            [{ type: 'confirmed', dispatchId: 'd2' }, T0 + 60_000],
          ]),
        ),
      );
      const t4 = advance(deploying, { type: 'step_completed', request: { ...deploying.request }, freshId: 'd3' }, T0 + 3 * 3_600_000);
      expect(t4.next.phase).to.equal('done');
      expect(messages(t4)).to.deep.equal(['Completed Workflow Milestone:  :deploy, in 3 hour(s)', 'Workflow completed in 3 hour(s)']);
      expect(kinds(t4)).to.deep.equal(['notify', 'disarm', 'notify', 'disarm', 'save', 'email', 'finish']);
      expect(saved(t4)).to.include({ workflow_completed: true, current_step: 'workflow_completed', workflow_duration: '3 hour(s)' });
      expect(saved(t4)).to.have.property('workflow_error', false);
      const email = t4.effects.find((e) => e.type === 'email') as Extract<Effect, { type: 'email' }>;
      expect(email.email.prefix).to.equal(`SUCCEEDED [OA][${ID}][acme/shop_docker]`);
      expect(email.email.notifications.email_addresses).to.deep.equal(['a@x.com', 'b@x.com', 'c@x.com']);
    });

    const stale: Array<[string, Partial<OrchestrationRequest>]> = [
      ['a duplicate of an earlier dispatch', { dispatch_id: 'd0' }],
      ['one without a dispatch id', { dispatch_id: null }],
      ['one for another milestone', { current_step: 'deploy' }],
    ];
    for (const [what, extra] of stale) {
      it(`ignores ${what}, leaving the state as it was`, () => {
        const s = afterBuild();
        const t = advance(s, { type: 'step_completed', request: callback(s, extra), freshId: 'd9' }, T0 + 1_000);
        expect(kinds(t)).to.deep.equal(['ignore']);
        expect(t.next).to.equal(s);
      });
    }

    it('a second, identical callback after the transition is ignored (applied once)', () => {
      const s = afterBuild();
      const again = callback(s);
      const [first, second] = run(s, [
        [{ type: 'step_completed', request: again, freshId: 'd2' }, T0 + 1_000],
        [{ type: 'step_completed', request: again, freshId: 'd3' }, T0 + 2_000],
      ]);
      expect(kinds(first!)).to.include('resolve');
      expect(kinds(second!)).to.deep.equal(['ignore']);
    });

    it('a failed milestone fails the workflow with the worker reason, written once', () => {
      const s = afterBuild();
      const workerLine = `[OA][${ID}][acme/shop_docker] Workflow Milestone Failed:  :build.  Reason:  docker build exited with 2`;
      const r = callback(s, { failure_reason: 'docker build exited with 2', event_log: [...(s.request.event_log ?? []), workerLine] });
      const t = advance(s, { type: 'step_failed', request: r }, T0 + 30_000);
      expect(t.next.phase).to.equal('done');
      expect(messages(t)).to.deep.equal(['Workflow has failed in 30 second(s)']);
      expect(saved(t)).to.include({ workflow_completed: true, workflow_error: true, current_step: 'build' });
      expect(saved(t).event_log.filter((l) => l.includes('docker build exited with 2'))).to.have.length(1);
      expect(kinds(t)).to.deep.equal(['notify', 'disarm', 'save', 'finish']);
    });

    it('a worker that marks the workflow failed itself (the original step_failed) fails it too', () => {
      const s = afterBuild();
      const t = advance(s, { type: 'step_completed', request: callback(s, { workflow_error: true, workflow_completed: true }), freshId: 'd2' }, T0);
      expect(messages(t)).to.deep.equal(['Workflow Milestone Failed:  :build.  Reason:  Milestone worker has reported a failure', 'Workflow has failed in 0 second(s)']);
    });
  });

  describe('dispatch failures (reference §5.4, §10.1 item 10)', () => {
    it('a milestone that cannot be sent fails the workflow with the reason, not a crash', () => {
      const [, t] = run(fresh, [
        [{ type: 'execute', request: request(), freshId: 'd1' }, T0],
        [{ type: 'target', dispatchId: 'd1', target: { ok: false, reason: 'Unable to request build - no active builder module is registered in exchange 2!' } }, T0 + 1_000],
      ]);
      expect(t!.next.phase).to.equal('done');
      expect(messages(t!)).to.deep.equal([
        'Workflow Milestone Failed:  :build.  Reason:  Unable to request build - no active builder module is registered in exchange 2!',
        'Workflow has failed in 1 second(s)',
      ]);
      expect(kinds(t!)).not.to.include('publish');
    });

    it('an unknown milestone fails the workflow with a clear reason (reference §5.1 crashed instead)', () => {
      const [t] = run(fresh, [[{ type: 'execute', request: request({ milestones: ['deploy_ecs'] }), freshId: 'd1' }, T0]]);
      expect(t!.next.phase).to.equal('done');
      expect(messages(t!)[2]).to.equal('Workflow Milestone Failed:  :deploy_ecs.  Reason:  unknown milestone "deploy_ecs" (known: config, build, deploy, deploy_oa, scheduled)');
    });

    it('a target or confirmation of another dispatch is ignored', () => {
      const s = afterBuild();
      expect(kinds(advance(s, { type: 'target', dispatchId: 'd1', target: BUILD_TARGET }, T0))).to.deep.equal(['ignore']);
      expect(kinds(advance(s, { type: 'confirmed', dispatchId: 'd0' }, T0))).to.deep.equal(['ignore']);
    });
  });

  describe('deadlines (reference §10.1 item 16)', () => {
    it('a silent worker fails the workflow when the deadline passes', () => {
      const t = advance(afterBuild(), { type: 'deadline', dispatchId: 'd1' }, T0 + 3_600_000);
      expect(t.next.phase).to.equal('done');
      expect(messages(t)[0]).to.equal('Workflow Milestone Failed:  :build.  Reason:  milestone build timed out after 1 hour(s)');
      expect(saved(t)).to.include({ workflow_error: true, workflow_completed: true });
    });

    it('a timer that fired early is armed again; one of an earlier dispatch is ignored', () => {
      expect(advance(afterBuild(), { type: 'deadline', dispatchId: 'd1' }, T0 + 1_000).effects).to.deep.equal([{ type: 'arm', timer: 'deadline', dispatchId: 'd1', at: T0 + 3_600_000 }]);
      expect(kinds(advance(afterBuild(), { type: 'deadline', dispatchId: 'd0' }, T0 + 9_999_999))).to.deep.equal(['ignore']);
    });
  });

  describe('cancel (issue 5 item 5)', () => {
    it('fails the running workflow with the reason, keeping the Manager’s cancel line, and e-mails', () => {
      const s = afterBuild();
      const withConfig: RunningState = { ...s, request: { ...s.request, notifications_config: { email: { events: { on_workflow_completed: ['ops@x.com'] } } } } };
      const managerLog = [...(s.request.event_log ?? []), `[OA][${ID}][acme/shop_docker] Workflow has been cancelled.  Reason:  cancelled by alice`];
      const t = advance(withConfig, { type: 'cancel', reason: 'cancelled by alice', eventLog: managerLog }, T0 + 5_000);
      expect(t.next.phase).to.equal('done');
      expect(kinds(t)).to.deep.equal(['notify', 'notify', 'disarm', 'save', 'email', 'finish']);
      expect(saved(t).event_log.slice(-3)).to.deep.equal([
        `[OA][${ID}][acme/shop_docker] Workflow has been cancelled.  Reason:  cancelled by alice`,
        `[OA][${ID}][acme/shop_docker] Workflow Milestone Failed:  :build.  Reason:  cancelled by alice`,
        `[OA][${ID}][acme/shop_docker] Workflow has failed in 5 second(s)`,
      ]);
      const email = t.effects.find((e) => e.type === 'email') as Extract<Effect, { type: 'email' }>;
      expect(email.email.prefix).to.equal(`FAILED - [OA][${ID}][acme/shop_docker]`);
    });
    it('writes the cancel line again when a save of its own took the Manager’s out, and loses none of its lines', () => {
      const s = afterBuild();
      const managerLogWithoutCancel = (s.request.event_log ?? []).slice(0, -1);
      const t = advance(s, { type: 'cancel', reason: 'cancelled by bob', eventLog: managerLogWithoutCancel }, T0 + 5_000);
      const log = saved(t).event_log;
      expect(log.slice(0, s.request.event_log!.length)).to.deep.equal(s.request.event_log);
      expect(log.filter((l) => l.endsWith('Workflow has been cancelled.  Reason:  cancelled by bob'))).to.have.length(1);
    });
  });

  describe('scheduled (reference §5.4, §10.1 item 9)', () => {
    const at = new Date(T0 + 2 * 3_600_000).toISOString();
    const scheduled = (): RunningState => running(lastOf(run(fresh, [[{ type: 'execute', request: request({ milestones: ['scheduled', 'build'], scheduled_start_time: at }), freshId: 's1' }, T0]])));

    it('waits with a timer, saved, instead of sleeping in a handler', () => {
      const [t] = run(fresh, [[{ type: 'execute', request: request({ milestones: ['scheduled', 'build'], scheduled_start_time: at }), freshId: 's1' }, T0]]);
      expect(kinds(t!)).to.deep.equal(['notify', 'disarm', 'notify', 'notify', 'save', 'arm']);
      expect(lastOf(t!.effects)).to.deep.equal({ type: 'arm', timer: 'wake', dispatchId: 's1', at: T0 + 2 * 3_600_000 });
      expect(saved(t!).orchestration.run).to.include({ milestone: 'scheduled', wakeAt: T0 + 2 * 3_600_000 });
    });

    it('on time, moves on to the milestone after it, not back to the first one', () => {
      const t = advance(scheduled(), { type: 'wake', dispatchId: 's1', freshId: 'd1' }, T0 + 2 * 3_600_000);
      expect(messages(t)).to.deep.equal(['Workflow is now scheduled to start', 'Completed Workflow Milestone:  :scheduled, in 2 hour(s)', 'Starting Workflow Milestone:  :build']);
      expect(lastOf(t.effects)).to.deep.equal({ type: 'resolve', milestone: 'build', dispatchId: 'd1' });
    });

    it('a wake-up before the time arms the timer again', () => {
      expect(advance(scheduled(), { type: 'wake', dispatchId: 's1', freshId: 'd1' }, T0 + 1_000).effects).to.deep.equal([{ type: 'arm', timer: 'wake', dispatchId: 's1', at: T0 + 2 * 3_600_000 }]);
    });

    it('a time already past moves on at once; a missing time fails the workflow', () => {
      const [past] = run(fresh, [[{ type: 'execute', request: request({ milestones: ['scheduled', 'build'], scheduled_start_time: new Date(T0 - 1).toISOString() }), freshId: 's1' }, T0]]);
      expect(running(past!).run.milestone).to.equal('build');
      const [none] = run(fresh, [[{ type: 'execute', request: request({ milestones: ['scheduled'] }), freshId: 's1' }, T0]]);
      expect(none!.next.phase).to.equal('done');
      expect(messages(none!)[2]).to.match(/Reason:  the scheduled milestone needs a scheduled_start_time/);
    });
  });

  describe('workflows that are not running', () => {
    const cases: Array<[string, WorkflowState, WorkflowEvent, string[]]> = [
      ['a callback for a workflow never started', fresh, { type: 'step_completed', request: request({ current_step: 'build' }), freshId: 'x' }, ['ignore', 'finish']],
      ['a cancel of a workflow never started', fresh, { type: 'cancel', reason: 'cancelled by bob', eventLog: null }, ['ignore', 'finish']],
      ['a callback for a completed workflow', { phase: 'done', settings: SETTINGS }, { type: 'step_completed', request: request(), freshId: 'x' }, ['ignore', 'finish']],
      ['an execute of a completed workflow', { phase: 'done', settings: SETTINGS }, { type: 'execute', request: request(), freshId: 'x' }, ['ignore', 'finish']],
      ['any message for a workflow the Manager does not have', { phase: 'unknown', settings: SETTINGS }, { type: 'execute', request: request(), freshId: 'x' }, ['reject', 'finish']],
    ];
    for (const [what, state, event, expected] of cases) {
      it(what, () => expect(kinds(advance(state, event, T0))).to.deep.equal(expected));
    }
  });

  it('runs a milestone named twice twice (by position, not by name)', () => {
    const s0 = running(lastOf(buildRunning(request({ milestones: ['build', 'build'] }))));
    const t = advance(s0, { type: 'step_completed', request: callback(s0), freshId: 'd2' }, T0);
    expect(running(t).run).to.include({ milestone: 'build', index: 1, dispatchId: 'd2' });
  });
});
