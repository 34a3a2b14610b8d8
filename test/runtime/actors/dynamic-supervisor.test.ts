import { expect } from 'chai';
import pool from './fixtures/pool.actor.js';
import { startTree, type TestTree } from '../../helpers/tree.js';
import { waitFor } from '../../helpers/wait.js';

describe('DynamicSupervisor (simple_one_for_one)', function () {
  this.timeout(30_000);
  let tree: TestTree;
  beforeEach(async () => {
    tree = await startTree({ children: [{ name: 'pool', actor: pool }] });
  });
  afterEach(() => tree.stop());
  const owner = () => tree.root.handle('pool', pool);

  it('starts a child once however many ask for it at once, and finds it by id', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => owner().ask('ensure', { id: 'w1', start: 7 })));
    expect(answers).to.deep.equal(Array(20).fill(7));
    expect(await owner().ask('ask', { id: 'w1', by: 1 })).to.equal(8);
    expect(await owner().ask('ensure', { id: 'w1', start: 100 })).to.equal(8); // the running one, not a new one
    expect(await owner().ask('size')).to.equal(1);
  });

  it('starts many children side by side', async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => owner().ask('ensure', { id: `w${i}`, start: i })));
    expect(await owner().ask('size')).to.equal(200);
    expect(await owner().ask('ask', { id: 'w150', by: 1 })).to.equal(151);
  });

  it('removes a child that exits normally; the next ensure of its id starts a fresh one', async () => {
    await owner().ask('ensure', { id: 'w1', start: 1 });
    await owner().ask('quit', 'w1');
    expect(await owner().ask('ensure', { id: 'w1', start: 42 })).to.equal(42);
    await waitFor('one child', async () => (await owner().ask('ids')).length === 1);
  });

  it('refuses args that are not plain data, naming the path', async () => {
    expect(await owner().ask('badArgs')).to.equal('child x: args.onTick is a function, not plain data (pass functions and clients as capabilities)');
  });

  it('refuses capabilities for a forked child: they are references in this process', async () => {
    expect(await owner().ask('forkedCapabilities')).to.match(/^child x: capabilities are in-process references and cannot reach a forked actor/);
  });
});
