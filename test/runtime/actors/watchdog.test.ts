import { expect } from 'chai';
import counter from './fixtures/counter.actor.js';
import { waitFor } from '../../helpers/wait.js';
import { startTree, type TestTree } from '../../helpers/tree.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('Supervisor watchdog (forked children)', function () {
  this.timeout(30_000);
  let tree: TestTree | undefined;
  afterEach(async () => {
    await tree?.stop();
    tree = undefined;
  });

  it('restarts a SIGKILLed child; the same handle works afterwards', async () => {
    tree = await startTree({ children: [{ name: 'c', actor: counter, args: { start: 2 }, mode: 'forked' }] });
    const c = tree.root.handle('c', counter);
    await c.ask('add', 5);
    const pid = await c.ask('pid');
    expect(pid).to.not.equal(process.pid);
    process.kill(pid, 'SIGKILL');
    const next = await waitFor('a new process', async () => {
      const now = await c.ask('pid');
      return now !== pid && now;
    });
    expect(isAlive(next)).to.equal(true);
    expect(await c.ask('get')).to.equal(2);
  });

  it('detects a hung (SIGSTOPped) child, kills it and restarts it', async () => {
    tree = await startTree({
      watchdog: { intervalMs: 200, timeoutMs: 400 },
      children: [{ name: 'c', actor: counter, args: { start: 0 }, mode: 'forked' }],
    });
    const c = tree.root.handle('c', counter);
    const pid = await c.ask('pid');
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const next = await waitFor('a new process', async () => {
      const now = await c.ask('pid', undefined, { timeoutMs: 200 });
      return now !== pid && now;
    });
    const took = Date.now() - stoppedAt;
    expect(isAlive(pid), 'the hung process is killed').to.equal(false);
    expect(next).to.not.equal(pid);
    const crash = tree.logs.find((l) => l.msg === 'child crashed');
    expect(JSON.stringify(crash?.error)).to.include(`no answer to the watchdog's ping within 400 ms; process ${pid} killed`);
    // Not a speed assertion: a hang must be caught by the watchdog, not by some much later fallback.
    expect(took).to.be.below(5_000);
  });
});
