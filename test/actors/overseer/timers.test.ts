import { expect } from 'chai';
import { serialByKey, Timers } from '../../../actors/overseer/timers.js';
import { sleep } from '../../../runtime/core/promises.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';

describe('overseer timers', () => {
  it('every: never two passes at once; a failed pass is logged and the next runs', async () => {
    const { log, lines } = captureLogs();
    const timers = new Timers(log);
    let running = 0;
    let most = 0;
    let passes = 0;
    timers.every(5, 'slow pass', async () => {
      running += 1;
      most = Math.max(most, running);
      passes += 1;
      await sleep(30);
      running -= 1;
      if (passes === 1) throw new Error('first pass fails');
    }, { immediately: true });
    await waitFor('three passes', () => passes >= 3);
    await timers.stop();
    expect(most).to.equal(1);
    expect(lines.filter((l) => l.msg === 'overseer pass failed; the next one tries again' && l.what === 'slow pass')).to.have.length(1);
  });

  it('stop: waits for the pass in flight, then nothing runs any more', async () => {
    const timers = new Timers(captureLogs().log);
    let finished = false;
    let later = 0;
    timers.after(0, 'long', async () => {
      await sleep(50);
      finished = true;
    });
    timers.every(5, 'ticker', async () => void (later += 1));
    await sleep(10);
    await timers.stop();
    expect(finished).to.equal(true);
    const count = later;
    await sleep(30);
    expect(later).to.equal(count);
    timers.after(0, 'after stop', async () => void (later += 100));
    await sleep(10);
    expect(later).to.equal(count);
  });

  it('after: a cancelled task never runs', async () => {
    const timers = new Timers(captureLogs().log);
    let ran = false;
    const cancel = timers.after(10, 'cancelled', async () => void (ran = true));
    cancel();
    await sleep(30);
    await timers.stop();
    expect(ran).to.equal(false);
  });

  it('serialByKey: one key runs in order, a failure does not block the next, other keys run alongside', async () => {
    const serially = serialByKey();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`${name}:start`);
      await sleep(ms);
      log.push(`${name}:end`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([serially('a', task('a1', 20, true)), serially('a', task('a2', 1)), serially('b', task('b1', 5))]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('a2:start')).to.be.greaterThan(log.indexOf('a1:end'));
    expect(log.indexOf('b1:start')).to.be.lessThan(log.indexOf('a1:end'));
  });
});
