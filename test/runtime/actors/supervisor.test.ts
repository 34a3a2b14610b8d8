import { expect } from 'chai';
import counter from './fixtures/counter.actor.js';
import { isActorUnavailable, isAskTimeout, isRestartIntensityExceeded } from '../../../runtime/actors/errors.js';
import type { ActorHandle } from '../../../runtime/actors/protocol.js';
import type { ActorMode, ChildSpec } from '../../../runtime/actors/supervisor-spec.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';
import { startTree, type TestTree } from '../../helpers/tree.js';
import type { CounterProtocol } from './fixtures/counter.actor.js';

const counterChild = (name: string, mode: ActorMode, start = 0, extra: Partial<ChildSpec> = {}): ChildSpec => ({
  name,
  actor: counter,
  args: { start },
  mode,
  ...extra,
});

/** Crashes the actor behind `handle` and waits until its next incarnation answers. */
async function crashAndAwaitRestart(handle: ActorHandle<CounterProtocol>): Promise<void> {
  await rejectionOf(handle.ask('boom', { code: 'E_TEST' }));
  await waitFor(`${handle.name} to run again`, () => handle.status === 'running');
}

for (const mode of ['in-memory', 'forked'] as const) {
  describe(`Supervisor (${mode} children)`, function () {
    this.timeout(30_000);
    let tree: TestTree | undefined;
    afterEach(async () => {
      await tree?.stop();
      tree = undefined;
    });

    it('restarts a crashing child with fresh state, behind the same handle', async () => {
      tree = await startTree({ children: [counterChild('c', mode, 5)] });
      const c = tree.root.handle('c', counter);
      expect(await c.ask('add', 3)).to.equal(8);
      await crashAndAwaitRestart(c);
      expect(await c.ask('get')).to.equal(5);
    });

    it('carries the name, message, code and stack of a handler error to the caller', async () => {
      tree = await startTree({ children: [counterChild('c', mode)] });
      const err = await rejectionOf(tree.root.handle('c', counter).ask('boom', { code: 'E_BOOM' }));
      expect(err.name).to.equal('RangeError');
      expect(err.message).to.equal('boom E_BOOM');
      expect(err.code).to.equal('E_BOOM');
      expect(err.stack).to.match(/counter\.actor\.ts/);
    });

    it('runs 10 concurrent asks one at a time', async () => {
      tree = await startTree({ children: [counterChild('c', mode)] });
      const c = tree.root.handle('c', counter);
      const replies = await Promise.all(Array.from({ length: 10 }, () => c.ask('add', 1)));
      expect([...replies].sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await c.ask('get')).to.equal(10);
    });

    it('rejects an ask during a restart with ActorUnavailable instead of hanging', async () => {
      tree = await startTree({ backoff: { initialMs: 1_000, maxMs: 1_000, factor: 2 }, children: [counterChild('c', mode)] });
      const c = tree.root.handle('c', counter);
      await rejectionOf(c.ask('boom', { code: 'E_TEST' }));
      await waitFor('the crash to be seen', () => c.status === 'restarting');
      const err = await rejectionOf(c.ask('get'));
      expect(isActorUnavailable(err), err.message).to.equal(true);
      expect(err.message).to.match(/restarting/);
      await waitFor('the restart', () => c.status === 'running');
      expect(await c.ask('get')).to.equal(0);
    });

    it('times out an ask that gets no answer in time', async () => {
      tree = await startTree({ children: [counterChild('c', mode)] });
      const err = await rejectionOf(tree.root.handle('c', counter).ask('slow', 2_000, { timeoutMs: 100 }));
      expect(isAskTimeout(err)).to.equal(true);
      expect(err.message).to.equal('actor c did not answer "slow" within 100 ms');
    });

    it('delivers a tell to the mailbox; a told message that throws crashes the actor', async () => {
      tree = await startTree({ children: [counterChild('c', mode)] });
      const c = tree.root.handle('c', counter);
      await c.tell('add', 2);
      expect(await c.ask('get')).to.equal(2);
      await c.tell('boom', { code: 'E_TOLD' });
      await waitFor('the restart', () => tree!.logs.some((l) => l.msg === 'restarting'));
      await waitFor('the new incarnation', () => c.status === 'running');
      expect(await c.ask('get')).to.equal(0);
    });

    it('grows the backoff between restarts', async () => {
      tree = await startTree({ backoff: { initialMs: 50, maxMs: 1_000, factor: 2 }, children: [counterChild('c', mode)] });
      const c = tree.root.handle('c', counter);
      const gaps: number[] = [];
      for (let i = 0; i < 3; i++) {
        await rejectionOf(c.ask('boom', { code: 'E_TEST' }));
        const crashedAt = Date.now();
        await waitFor('the crash to be seen', () => c.status !== 'running');
        await waitFor('the restart', () => c.status === 'running');
        gaps.push(Date.now() - crashedAt);
      }
      const delays = tree.logs.filter((l) => l.msg === 'restarting').map((l) => l.delayMs);
      expect(delays).to.deep.equal([50, 100, 200]);
      gaps.forEach((gap, i) => expect(gap).to.be.at.least(delays[i] as number));
    });

    it('escalates to the parent when a child supervisor exceeds its intensity; the parent restarts it', async () => {
      tree = await startTree({
        children: [
          {
            name: 'inner',
            supervisor: {
              strategy: 'one_for_one',
              intensity: { maxRestarts: 2, withinMs: 10_000 },
              backoff: { initialMs: 10, maxMs: 10, factor: 1 },
              children: [counterChild('c', mode, 1)],
            },
          },
        ],
      });
      const handleNow = (): ActorHandle<CounterProtocol> => tree!.root.supervisor('inner').handle('c', counter);
      await crashAndAwaitRestart(handleNow());
      await crashAndAwaitRestart(handleNow());
      const before = tree.root.supervisor('inner');
      await rejectionOf(handleNow().ask('boom', { code: 'E_TEST' }));
      await waitFor('the root to restart inner', () => {
        const info = tree!.root.children()[0];
        return info?.status === 'running' && info.restarts === 1;
      });
      expect(tree.root.supervisor('inner')).to.not.equal(before);
      expect(await handleNow().ask('get')).to.equal(1);
      const gaveUp = tree.logs.find((l) => l.msg === 'restart intensity exceeded; giving up');
      expect(gaveUp?.supervisor).to.equal('root/inner');
      expect(tree.failures).to.deep.equal([]);
    });

    it('reports to its owner when the root exceeds its intensity', async () => {
      tree = await startTree({ intensity: { maxRestarts: 1, withinMs: 10_000 }, children: [counterChild('c', mode)] });
      const c = tree.root.handle('c', counter);
      await crashAndAwaitRestart(c);
      await rejectionOf(c.ask('boom', { code: 'E_TEST' }));
      await waitFor('the root to give up', () => tree!.failures.length > 0);
      expect(isRestartIntensityExceeded(tree.failures[0])).to.equal(true);
      expect(c.status).to.equal('stopped');
    });

    it('one_for_all restarts every child when one crashes', async () => {
      tree = await startTree({ strategy: 'one_for_all', children: [counterChild('a', mode), counterChild('b', mode)] });
      const [a, b] = [tree.root.handle('a', counter), tree.root.handle('b', counter)];
      await b.ask('add', 4);
      await a.ask('add', 4);
      await rejectionOf(a.ask('boom', { code: 'E_TEST' }));
      await waitFor('both to be back', async () => a.status === 'running' && b.status === 'running' && (await b.ask('get')) === 0);
      expect(await a.ask('get')).to.equal(0);
    });

    it('rest_for_one restarts the crashed child and those started after it', async () => {
      tree = await startTree({
        strategy: 'rest_for_one',
        children: [counterChild('a', mode), counterChild('b', mode), counterChild('c', mode)],
      });
      const [a, b, c] = ['a', 'b', 'c'].map((n) => tree!.root.handle(n, counter)) as [
        ActorHandle<CounterProtocol>,
        ActorHandle<CounterProtocol>,
        ActorHandle<CounterProtocol>,
      ];
      for (const h of [a, b, c]) await h.ask('add', 7);
      await rejectionOf(b.ask('boom', { code: 'E_TEST' }));
      await waitFor('b and c to be back', async () => b.status === 'running' && c.status === 'running' && (await c.ask('get')) === 0);
      expect(await b.ask('get')).to.equal(0);
      expect(await a.ask('get')).to.equal(7);
    });

    it('does not restart a transient child that exits normally, but restarts one that crashes', async () => {
      tree = await startTree({ children: [counterChild('t', mode, 0, { restart: 'transient' }), counterChild('u', mode, 0, { restart: 'transient' })] });
      const [t, u] = [tree.root.handle('t', counter), tree.root.handle('u', counter)];
      await t.ask('quit');
      await waitFor('t to be removed', () => t.status === 'stopped');
      expect(tree.root.children().map((ch) => ch.name)).to.deep.equal(['u']);
      await crashAndAwaitRestart(u);
      expect(await u.ask('get')).to.equal(0);
    });

    it('never restarts a temporary child', async () => {
      tree = await startTree({ children: [counterChild('tmp', mode, 0, { restart: 'temporary' })] });
      const tmp = tree.root.handle('tmp', counter);
      await rejectionOf(tmp.ask('boom', { code: 'E_TEST' }));
      await waitFor('tmp to be removed', () => tmp.status === 'stopped');
      expect(tree.root.children()).to.deep.equal([]);
    });

    it('starts and terminates children on demand', async () => {
      tree = await startTree({ children: [] });
      const w = await tree.root.startChild({ name: 'w1', actor: counter, args: { start: 3 }, mode, restart: 'transient' });
      expect(await w.ask('add', 1)).to.equal(4);
      const dup = await rejectionOf(tree.root.startChild({ name: 'w1', actor: counter, args: { start: 0 }, mode }));
      expect(dup.message).to.match(/already has a child named w1/);
      await tree.root.terminateChild('w1');
      expect(w.status).to.equal('stopped');
      expect(isActorUnavailable(await rejectionOf(w.ask('get')))).to.equal(true);
    });
  });
}
