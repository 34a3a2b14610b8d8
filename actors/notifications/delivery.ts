import type { Failure } from './core/failures.js';
import { planAfterAttempt, type TargetFailure, type TargetResult } from './core/outcome.js';
import type { RetryPolicy } from './core/retry.js';
import { isDeliveryFailed } from './errors.js';
import { sleep } from '../../runtime/core/promises.js';
import type { Logger } from '../../runtime/logger.js';

export interface DeliveryReport {
  readonly delivered: readonly string[];
  readonly failures: readonly TargetFailure[];
}

/** An error a driver did not classify is a bug or a surprise: worth the bounded retries, never a silent loss. */
const failureOf = (err: unknown): Failure =>
  isDeliveryFailed(err) ? { permanent: !err.retryable, reason: err.message } : { permanent: false, reason: err instanceof Error ? err.message : String(err) };

/**
 * Sends to every target, then again, after a backoff, to those that failed transiently, until each is delivered or
 * given up (core/outcome.ts decides which and how long to wait). A target once delivered is never sent twice.
 */
export async function deliverToEach(opts: {
  readonly targets: readonly string[];
  readonly send: (target: string) => Promise<void>;
  readonly policy: RetryPolicy;
  readonly log: Logger;
}): Promise<DeliveryReport> {
  const delivered: string[] = [];
  const failures: TargetFailure[] = [];
  let pending = opts.targets;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const results = await Promise.all(
      pending.map(async (target): Promise<TargetResult> => {
        try {
          await opts.send(target);
          return { target, ok: true };
        } catch (err) {
          return { target, ok: false, failure: failureOf(err) };
        }
      }),
    );
    const plan = planAfterAttempt(attempt, results, opts.policy);
    delivered.push(...plan.delivered);
    failures.push(...plan.givenUp);
    if (plan.retry.length > 0) {
      const reasons = results.flatMap((r) => (r.ok ? [] : [`${r.target}: ${r.failure.reason}`]));
      opts.log.warn({ attempt, retry: plan.retry, delayMs: plan.delayMs, reasons }, 'delivery failed; trying again after a backoff');
      await sleep(plan.delayMs);
    }
    pending = plan.retry;
  }
  return { delivered, failures };
}
