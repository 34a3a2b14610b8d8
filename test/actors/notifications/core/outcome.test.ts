import { expect } from 'chai';
import { deliveryOutcome, planAfterAttempt, type RoundPlan, type TargetResult } from '../../../../actors/notifications/core/outcome.js';
import type { RetryPolicy } from '../../../../actors/notifications/core/retry.js';

const policy: RetryPolicy = { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1_000, attemptTimeoutMs: 1_000 };
const ok = (target: string): TargetResult => ({ target, ok: true });
const transient = (target: string): TargetResult => ({ target, ok: false, failure: { permanent: false, reason: 'ECONNREFUSED' } });
const permanent = (target: string): TargetResult => ({ target, ok: false, failure: { permanent: true, reason: '550 no such user' } });

describe('notifications planAfterAttempt', () => {
  const cases: Array<[string, number, TargetResult[], RoundPlan]> = [
    ['all delivered: nothing more', 1, [ok('Ops'), ok('Dev')], { delivered: ['Ops', 'Dev'], givenUp: [], retry: [], delayMs: 0 }],
    ['a transient failure with attempts left: retried after the backoff', 1, [ok('Ops'), transient('Dev')], { delivered: ['Ops'], givenUp: [], retry: ['Dev'], delayMs: 100 }],
    ['the backoff grows with the attempt', 2, [transient('Dev')], { delivered: [], givenUp: [], retry: ['Dev'], delayMs: 200 }],
    [
      'a transient failure on the last attempt: given up, saying how many',
      3,
      [transient('Dev')],
      { delivered: [], givenUp: [{ target: 'Dev', reason: 'gave up after 3 attempts: ECONNREFUSED' }], retry: [], delayMs: 0 },
    ],
    [
      'a permanent failure: given up at once, the others still retried',
      1,
      [permanent('Ops'), transient('Dev')],
      { delivered: [], givenUp: [{ target: 'Ops', reason: 'refused: 550 no such user' }], retry: ['Dev'], delayMs: 100 },
    ],
  ];
  for (const [name, attempt, results, expected] of cases) {
    it(name, () => expect(planAfterAttempt(attempt, results, policy)).to.deep.equal(expected));
  }
  it('a single attempt allowed: the first transient failure is the last', () => {
    expect(planAfterAttempt(1, [transient('x')], { ...policy, maxAttempts: 1 }).givenUp).to.deep.equal([{ target: 'x', reason: 'gave up after 1 attempt: ECONNREFUSED' }]);
  });
});

describe('notifications deliveryOutcome', () => {
  it('acks when every target was delivered', () => {
    expect(deliveryOutcome('chat message', ['Ops'], [])).to.deep.equal({ type: 'ack' });
  });
  it('dead-letters naming each failed target, and where it did arrive', () => {
    expect(deliveryOutcome('chat message', ['Ops'], [{ target: 'Dev', reason: 'refused: x' }, { target: 'QA', reason: 'gave up after 3 attempts: y' }])).to.deep.equal({
      type: 'dead-letter',
      reason: 'chat message failed for Dev: refused: x; QA: gave up after 3 attempts: y (delivered to Ops)',
    });
  });
  it('dead-letters a message delivered nowhere without a "delivered to" note', () => {
    expect(deliveryOutcome('e-mail to a@b.io', [], [{ target: 'SMTP h:25', reason: 'refused: 550' }])).to.deep.equal({
      type: 'dead-letter',
      reason: 'e-mail to a@b.io failed for SMTP h:25: refused: 550',
    });
  });
});
