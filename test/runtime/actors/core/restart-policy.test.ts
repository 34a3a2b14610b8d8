import { expect } from 'chai';
import {
  affectedChildren,
  backoffDelayMs,
  recordRestart,
  shouldRestart,
  type ExitReason,
  type RestartType,
  type Strategy,
} from '../../../../runtime/actors/core/restart-policy.js';

describe('restart policy', () => {
  describe('shouldRestart', () => {
    const cases: Array<[RestartType, ExitReason, boolean]> = [
      ['permanent', 'crash', true],
      ['permanent', 'normal', true],
      ['transient', 'crash', true],
      ['transient', 'normal', false],
      ['temporary', 'crash', false],
      ['temporary', 'normal', false],
    ];
    for (const [type, reason, expected] of cases) {
      it(`${type} after ${reason} -> ${expected}`, () => expect(shouldRestart(type, reason)).to.equal(expected));
    }
  });

  describe('affectedChildren', () => {
    const order = ['a', 'b', 'c', 'd'];
    const cases: Array<[Strategy, string, string[]]> = [
      ['one_for_one', 'b', ['b']],
      ['one_for_all', 'b', ['a', 'b', 'c', 'd']],
      ['rest_for_one', 'b', ['b', 'c', 'd']],
      ['rest_for_one', 'a', ['a', 'b', 'c', 'd']],
      ['rest_for_one', 'd', ['d']],
      ['one_for_all', 'zz', ['zz']],
    ];
    for (const [strategy, failed, expected] of cases) {
      it(`${strategy}, ${failed} fails -> ${expected.join(',')}`, () =>
        expect(affectedChildren(strategy, order, failed)).to.deep.equal(expected));
    }
  });

  describe('recordRestart', () => {
    const intensity = { maxRestarts: 2, withinMs: 1_000 };
    it('allows maxRestarts restarts inside the window', () => {
      const first = recordRestart([], 0, intensity);
      const second = recordRestart(first.history, 100, intensity);
      expect([first.exceeded, second.exceeded]).to.deep.equal([false, false]);
      expect(second.history).to.deep.equal([0, 100]);
    });
    it('is exceeded by one more inside the window', () => {
      expect(recordRestart([0, 100], 200, intensity)).to.deep.equal({ history: [0, 100, 200], exceeded: true });
    });
    it('forgets restarts that left the window', () => {
      expect(recordRestart([0, 100], 1_050, intensity)).to.deep.equal({ history: [100, 1_050], exceeded: false });
    });
    it('with maxRestarts 0, the first restart is already too many', () => {
      expect(recordRestart([], 0, { maxRestarts: 0, withinMs: 1_000 }).exceeded).to.equal(true);
    });
  });

  describe('backoffDelayMs', () => {
    const backoff = { initialMs: 100, maxMs: 1_000, factor: 2 };
    const cases: Array<[number, number]> = [
      [0, 0],
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1_000],
      [50, 1_000],
    ];
    for (const [recent, expected] of cases) {
      it(`restart #${recent} waits ${expected} ms`, () => expect(backoffDelayMs(recent, backoff)).to.equal(expected));
    }
  });
});
