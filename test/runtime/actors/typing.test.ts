import { expect } from 'chai';
import counter, { type CounterProtocol } from './fixtures/counter.actor.js';
import type { ActorHandle } from '../../../runtime/actors/protocol.js';
import { startTree } from '../../helpers/tree.js';

/**
 * Protocol typing: `npm test` type-checks this file, and each `@ts-expect-error` fails the build if the line
 * below it stops being an error. The runtime part shows the correct calls work.
 */
function misuse(handle: ActorHandle<CounterProtocol>): void {
  // @ts-expect-error unknown topic
  void handle.ask('nope', 1);
  // @ts-expect-error wrong message type
  void handle.ask('add', 'two');
  // @ts-expect-error missing message
  void handle.ask('add');
  // @ts-expect-error a void topic takes no message
  void handle.tell('get', 3);
  // @ts-expect-error the reply of add is a number
  const reply: Promise<string> = handle.ask('add', 1);
  void reply;
}

describe('actor protocol typing', () => {
  it('accepts the calls the protocol allows', async () => {
    const tree = await startTree({ children: [{ name: 'c', actor: counter, args: { start: 1 } }] });
    try {
      const c: ActorHandle<CounterProtocol> = tree.root.handle('c', counter);
      const sum: number = await c.ask('add', 2, { timeoutMs: 1_000 });
      const now: number = await c.ask('get');
      expect([sum, now]).to.deep.equal([3, 3]);
      expect(typeof misuse).to.equal('function');
    } finally {
      await tree.stop();
    }
  });
});
