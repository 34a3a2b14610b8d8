import { expect } from 'chai';
import { backoffMs, worstCaseMs, type RetryPolicy } from '../../../../actors/notifications/core/retry.js';

const policy: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 500, maxBackoffMs: 4_000, attemptTimeoutMs: 5_000 };

describe('notifications backoffMs', () => {
  const cases: Array<[string, number, Partial<RetryPolicy>, number]> = [
    ['after the first failure: the initial backoff', 1, {}, 500],
    ['after the second: doubled', 2, {}, 1_000],
    ['after the third: doubled again', 3, {}, 2_000],
    ['after the fourth: at the cap', 4, {}, 4_000],
    ['far beyond: still the cap', 40, {}, 4_000],
    ['a zero initial backoff stays zero', 3, { initialBackoffMs: 0 }, 0],
    ['attempt 0 is treated as the first', 0, {}, 500],
    ['a cap below the initial backoff wins', 1, { maxBackoffMs: 100 }, 100],
  ];
  for (const [name, attempt, over, expected] of cases) {
    it(name, () => expect(backoffMs(attempt, { ...policy, ...over })).to.equal(expected));
  }
});

describe('notifications worstCaseMs', () => {
  const cases: Array<[string, Partial<RetryPolicy>, number]> = [
    ['every attempt times out, plus each wait between attempts', {}, 4 * 5_000 + 500 + 1_000 + 2_000],
    ['one attempt: no wait', { maxAttempts: 1 }, 5_000],
    ['small test settings', { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 15, attemptTimeoutMs: 1_000 }, 3_000 + 10 + 15],
  ];
  for (const [name, over, expected] of cases) {
    it(name, () => expect(worstCaseMs({ ...policy, ...over })).to.equal(expected));
  }
});
