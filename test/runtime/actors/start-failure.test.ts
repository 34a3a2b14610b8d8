import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import gated from './fixtures/gated.actor.js';
import { isRestartIntensityExceeded } from '../../../runtime/actors/errors.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';
import { startTree, type TestTree } from '../../helpers/tree.js';

for (const mode of ['in-memory', 'forked'] as const) {
  describe(`Supervisor start failures (${mode})`, function () {
    this.timeout(30_000);
    let tree: TestTree | undefined;
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'oa-gate-'))));
    afterEach(async () => {
      await tree?.stop();
      tree = undefined;
      rmSync(dir, { recursive: true, force: true });
    });

    it('fails to start, naming the child and the cause, when a child cannot initialise', async () => {
      const gate = join(dir, 'closed');
      writeFileSync(gate, '');
      const err = await rejectionOf(startTree({ children: [{ name: 'g', actor: gated, args: { gate }, mode }] }));
      expect(err.message).to.equal(`supervisor root: child g failed to start: gate ${gate} is closed`);
    });

    it('counts failed restarts against the intensity and escalates', async () => {
      const gate = join(dir, 'closed');
      tree = await startTree({
        intensity: { maxRestarts: 3, withinMs: 10_000 },
        backoff: { initialMs: 10, maxMs: 50, factor: 2 },
        children: [{ name: 'g', actor: gated, args: { gate }, mode }],
      });
      const g = tree.root.handle('g', gated);
      expect(await g.ask('ping')).to.equal('pong');
      writeFileSync(gate, '');
      await rejectionOf(g.ask('boom'));
      await waitFor('the root to give up', () => tree!.failures.length > 0);
      expect(isRestartIntensityExceeded(tree.failures[0])).to.equal(true);
      expect(tree.logs.filter((l) => l.msg === 'restart failed')).to.have.length(3);
    });
  });
}
