/**
 * How often and how patiently a notification is delivered (issue 8: bounded retries with backoff, then the message
 * goes to `<queue>_error` with the reason). Pure: the shell sleeps, this only says for how long.
 */

export interface RetryPolicy {
  /** Attempts per target, the first one included. */
  readonly maxAttempts: number;
  /** The wait after the first failed attempt; it doubles after each further failure. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** How long one attempt (an SMTP session, an HTTP request) may take. */
  readonly attemptTimeoutMs: number;
}

/** The wait after failed attempt number `attempt` (1-based): doubling from the initial backoff, capped. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const doublings = Math.max(0, Math.floor(attempt) - 1);
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(doublings, 30));
}

/**
 * The longest one message can take when every attempt times out: the consumer asks the actor with a timeout, and a
 * delivery that outlives it would be redelivered while still being sent.
 */
export function worstCaseMs(policy: RetryPolicy): number {
  let total = policy.maxAttempts * policy.attemptTimeoutMs;
  for (let attempt = 1; attempt < policy.maxAttempts; attempt += 1) total += backoffMs(attempt, policy);
  return total;
}
