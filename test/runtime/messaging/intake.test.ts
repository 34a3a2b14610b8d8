import { expect } from 'chai';
import clocked from '../actors/fixtures/clocked.actor.js';
import { startTree, type TestTree } from '../../helpers/tree.js';
import { waitFor } from '../../helpers/wait.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { decodeWith, intake, startIntake, type Concurrency } from '../../../runtime/messaging/intake.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { z } from 'zod';

const Work = z.strictObject({ id: z.string(), key: z.string() });

/** Declared concurrency is what the actor sees: deliveries in the actor at once, by the fixture's own count. */
describe('intake: a queue into an actor with its declared concurrency', function () {
  this.timeout(20_000);
  let tree: TestTree;
  let transport: Transport;
  const queue = 'work';

  async function start(concurrency: Concurrency<z.infer<typeof Work>>, timeoutMs = 10_000): Promise<void> {
    tree = await startTree({ children: [{ name: 'c', actor: clocked }] });
    transport = new MemoryBroker().transport({ exchangeId: 1, log: captureLogs().log, maxInFlight: 50 });
    const handle = tree.root.untypedHandle('c');
    await startIntake({ transport, handle, intake: intake({ queue, topic: 'work', decode: decodeWith(Work), concurrency, timeoutMs }), log: captureLogs().log });
  }
  afterEach(async () => {
    await transport.close();
    await tree.stop();
  });
  const actor = () => tree.root.handle('c', clocked);
  const send = (id: string, key = id) => transport.publish({ exchangeId: 1, queue }, 'work', { id, key });
  // In a lane of their own: a serial intake holds the main lane while a delivery is held.
  const gauge = () => actor().ask('gauge', undefined, { lane: 'probe' });
  const releaseAll = async (ids: readonly string[]) => {
    for (const id of ids) await actor().ask('release', id, { lane: 'probe' });
  };

  it('serial: one delivery in the actor at a time, in order', async () => {
    await start('serial');
    for (const id of ['a', 'b', 'c']) await send(id);
    await waitFor('a started', async () => (await gauge()).started.length === 1);
    await releaseAll(['a', 'b', 'c']);
    await waitFor('all done', async () => (await gauge()).started.length === 3);
    expect(await gauge()).to.deep.equal({ started: ['a', 'b', 'c'], inFlight: 0, most: 1 });
  });

  it('perKey: one at a time per key, different keys side by side', async () => {
    await start({ perKey: (w) => w.key, max: 10 });
    await send('a1', 'a');
    await send('a2', 'a');
    await send('b1', 'b');
    await send('c1', 'c');
    await waitFor('one per key started', async () => (await gauge()).started.length === 3);
    expect((await gauge()).started).to.deep.equal(['a1', 'b1', 'c1']);
    await releaseAll(['a1']);
    await waitFor('a2 started', async () => (await gauge()).started.includes('a2'));
    await releaseAll(['b1', 'c1', 'a2']);
    await waitFor('all done', async () => (await gauge()).inFlight === 0);
    expect((await gauge()).most).to.equal(3);
  });

  it('parallel: up to n at once, the rest wait with the broker', async () => {
    await start({ parallel: 2 });
    for (const id of ['p1', 'p2', 'p3', 'p4']) await send(id);
    await waitFor('two started', async () => (await gauge()).started.length === 2);
    expect((await gauge()).inFlight).to.equal(2);
    await releaseAll(['p1']);
    await waitFor('a third started', async () => (await gauge()).started.length === 3);
    await releaseAll(['p2', 'p3', 'p4']);
    await waitFor('all done', async () => (await gauge()).started.length === 4 && (await gauge()).inFlight === 0);
    expect((await gauge()).most).to.equal(2);
  });
});
