import { expect } from 'chai';
import clocked from './fixtures/clocked.actor.js';
import { ManualClock } from '../../../runtime/clock.js';
import { startActorSystem, type ActorSystem } from '../../../runtime/actors/system.js';
import { createLogger } from '../../../runtime/logger.js';

/**
 * Timers are messages (design §11): `ctx.sendAfter` and `ctx.self.tell` reach the actor's info handlers through its
 * mailbox. Time is a ManualClock that moves only when the test says; nothing here sleeps to synchronise: an ask
 * queued behind a timer's message in the main lane answers only once that message has been handled.
 */
describe('timers and messages to oneself (ManualClock)', () => {
  let clock: ManualClock;
  let system: ActorSystem;
  const failures: Error[] = [];

  beforeEach(async () => {
    clock = new ManualClock();
    failures.length = 0;
    system = await startActorSystem({
      spec: { strategy: 'one_for_one', intensity: { maxRestarts: 5, withinMs: 10_000 }, backoff: { initialMs: 0, maxMs: 0, factor: 1 }, children: [{ name: 'c', actor: clocked }] },
      log: createLogger({ level: 'silent' }),
      logLevel: 'silent',
      askTimeoutMs: 5_000,
      onFailure: (err) => failures.push(err),
      clock,
    });
  });
  afterEach(() => system.shutdown(2_000));

  const actor = () => system.root.handle('c', clocked);

  it('delivers a sendAfter message when the clock reaches it, not before, and ctx.now is the clock', async () => {
    expect(await actor().ask('now')).to.equal(clock.now());
    await actor().ask('arm', { delayMs: 60_000, note: 'a minute' });
    await actor().ask('arm', { delayMs: 1_000, note: 'a second' });
    clock.advance(59_999);
    expect(await actor().ask('notes')).to.deep.equal(['started', 'a second']);
    clock.advance(1);
    expect(await actor().ask('notes')).to.deep.equal(['started', 'a second', 'a minute']);
    expect(await actor().ask('now')).to.equal(Date.UTC(2026, 0, 1) + 60_000);
    expect(clock.scheduled).to.equal(0);
  });

  it('does not deliver a cancelled timer', async () => {
    await actor().ask('arm', { delayMs: 10, note: 'cancelled', cancel: true });
    await actor().ask('arm', { delayMs: 20, note: 'kept' });
    clock.advance(1_000);
    expect(await actor().ask('notes')).to.deep.equal(['started', 'kept']);
  });

  it('delivers what the factory tells itself once the behaviour exists, and queues later ones behind their handler', async () => {
    await actor().ask('tellTwice', 'self');
    expect(await actor().ask('notes')).to.deep.equal(['started', 'self told', 'self 1', 'self 2']);
  });

  it('crashes the actor when an info handler throws; its pending timers die with that incarnation', async () => {
    await actor().ask('arm', { delayMs: 5_000, note: 'from the first incarnation' });
    await actor().ask('explodeAfter', 100);
    const restarted = new Promise<void>((resolve) => {
      const off = actor().onStatus((status) => status === 'running' && (off(), resolve()));
    });
    clock.advance(100);
    await restarted;
    clock.advance(10_000);
    expect(await actor().ask('notes')).to.deep.equal(['started']);
    expect(clock.scheduled).to.equal(0);
  });

  it('runs a message with a lane beside the main lane: a held ask does not block a release in the main lane', async () => {
    const held = actor().ask('hold', 'h1', { lane: 'side' });
    await actor().ask('release', 'h1');
    expect(await held).to.equal('h1');
  });

  it('runs messages of one lane one at a time', async () => {
    const first = actor().ask('hold', 'x1', { lane: 'one' });
    const second = actor().ask('hold', 'x2', { lane: 'one' });
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await actor().ask('release', 'x2'); // x2 has not started: it waits behind x1 in lane "one"
    await actor().ask('notes');
    expect(secondDone).to.equal(false);
    await actor().ask('release', 'x1');
    expect(await first).to.equal('x1');
    expect(await second).to.equal('x2');
    expect(secondDone).to.equal(true);
  });
});
