import { expect } from 'chai';
import { Once } from '../../runtime/core/once.js';
import { sleep } from '../../runtime/core/promises.js';

describe('Once: work done once per key in a process', () => {
  it('lets copies that arrive while the work runs wait for it, and answers later copies from memory', async () => {
    const once = new Once<string>({ max: 10, ttlMs: 60_000 });
    let runs = 0;
    let finish!: (value: string) => void;
    const work = () => (runs++, new Promise<string>((resolve) => (finish = resolve)));
    const first = once.run('k', work);
    const joined = once.run('k', work);
    await sleep(5);
    finish('sent');
    expect(await first).to.deep.equal({ outcome: 'sent', fresh: true });
    expect(await joined).to.deep.equal({ outcome: 'sent', fresh: false });
    expect(await once.run('k', work)).to.deep.equal({ outcome: 'sent', fresh: false });
    expect(runs).to.equal(1);
  });

  it('runs again after an outcome keep refuses, or an error', async () => {
    const once = new Once<string>({ max: 10, ttlMs: 60_000, keep: (o) => o === 'sent' });
    const outcomes = ['later', 'boom', 'sent', 'never'];
    const work = async () => {
      const next = outcomes.shift()!;
      if (next === 'boom') throw new Error('boom');
      return next;
    };
    expect(await once.run('k', work)).to.deep.equal({ outcome: 'later', fresh: true });
    expect(await once.run('k', work).catch((err: Error) => err.message)).to.equal('boom');
    expect(await once.run('k', work)).to.deep.equal({ outcome: 'sent', fresh: true });
    expect(await once.run('k', work)).to.deep.equal({ outcome: 'sent', fresh: false });
    expect(outcomes).to.deep.equal(['never']);
  });

  it('keeps different keys apart, forgets after ttlMs, and keeps only the newest max keys', async () => {
    const once = new Once<number>({ max: 2, ttlMs: 40 });
    let n = 0;
    const work = async () => ++n;
    expect((await once.run('a', work)).outcome).to.equal(1);
    expect((await once.run('b', work)).outcome).to.equal(2);
    expect((await once.run('a', work)).fresh).to.equal(false);
    expect((await once.run('c', work)).outcome).to.equal(3);
    expect((await once.run('b', work)).fresh, 'b was the least recently used of three').to.equal(true);
    await sleep(60);
    expect((await once.run('a', work)).fresh, 'past its ttl').to.equal(true);
  });
});
