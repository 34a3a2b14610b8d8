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
    const results = [mailbox.run(job('a', 20)), mailbox.run(job('b', 5, true)), mailbox.run(job('c', 1))];
    expect(mailbox.depth).to.equal(3);
    expect(await results[0]).to.equal('a');
    expect((await rejectionOf(results[1]!)).message).to.equal('b');
    expect(await results[2]).to.equal('c');
    expect(events).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(mailbox.depth).to.equal(0);
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
