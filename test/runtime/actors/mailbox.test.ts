import { expect } from 'chai';
import { Mailbox } from '../../../runtime/actors/mailbox.js';
import { sleep } from '../../../runtime/core/promises.js';
import { rejectionOf } from '../../helpers/wait.js';

describe('Mailbox', () => {
  it('runs jobs one at a time in arrival order, even when one fails', async () => {
    const mailbox = new Mailbox();
    const events: string[] = [];
    const job = (name: string, ms: number, fail = false) => async () => {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = [job('a', 20), job('b', 5, true), job('c', 1)].map(async (j) => mailbox.run(j));
    expect(mailbox.depth).to.equal(3);
    expect(await results[0]).to.equal('a');
    expect((await rejectionOf(results[1]!)).message).to.equal('b');
    expect(await results[2]).to.equal('c');
    expect(events).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(mailbox.depth).to.equal(0);
  });

  it('returns a synchronous result of an idle mailbox as a plain value', () => {
    const mailbox = new Mailbox();
    expect(mailbox.run(() => 42)).to.equal(42);
    expect(mailbox.depth).to.equal(0);
  });

  it('queues a synchronous job behind a running one', async () => {
    const mailbox = new Mailbox();
    const order: string[] = [];
    const slow = mailbox.run(async () => {
      await sleep(10);
      order.push('slow');
    });
    const quick = mailbox.run(() => {
      order.push('quick');
      return 'q';
    });
    expect(quick).to.be.instanceOf(Promise);
    expect(await quick).to.equal('q');
    await slow;
    expect(order).to.deep.equal(['slow', 'quick']);
  });

  it('drains: true once idle, false when the deadline passes first', async () => {
    const mailbox = new Mailbox();
    expect(await mailbox.drain(10)).to.equal(true);
    void mailbox.run(() => sleep(30));
    expect(await mailbox.drain(200)).to.equal(true);
    void mailbox.run(() => sleep(300));
    expect(await mailbox.drain(20)).to.equal(false);
    expect(mailbox.depth).to.equal(1);
  });
});
