import type { Failure } from './failures.js';
import { backoffMs, type RetryPolicy } from './retry.js';
import type { Outcome } from '../../../runtime/messaging/transport.js';

/**
 * One round of delivery to several targets (chat rooms, or the one SMTP relay of an e-mail): which targets get
 * another attempt and after how long, and, at the end, what becomes of the message.
 */

export type TargetResult = { readonly target: string; readonly ok: true } | { readonly target: string; readonly ok: false; readonly failure: Failure };

export interface TargetFailure {
  readonly target: string;
  readonly reason: string;
}

export interface RoundPlan {
  /** Delivered in this round. */
  readonly delivered: readonly string[];
  /** Failed for good in this round: a permanent failure, or a transient one on the last attempt. */
  readonly givenUp: readonly TargetFailure[];
  /** Failed transiently with attempts left: tried again after `delayMs`. */
  readonly retry: readonly string[];
  readonly delayMs: number;
}

/** What follows attempt number `attempt` (1-based) whose results are `results`. */
export function planAfterAttempt(attempt: number, results: readonly TargetResult[], policy: RetryPolicy): RoundPlan {
  const delivered: string[] = [];
  const givenUp: TargetFailure[] = [];
  const retry: string[] = [];
  const last = attempt >= policy.maxAttempts;
  for (const r of results) {
    if (r.ok) delivered.push(r.target);
    else if (r.failure.permanent) givenUp.push({ target: r.target, reason: `refused: ${r.failure.reason}` });
    else if (last) givenUp.push({ target: r.target, reason: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${r.failure.reason}` });
    else retry.push(r.target);
  }
  return { delivered, givenUp, retry, delayMs: retry.length > 0 ? backoffMs(attempt, policy) : 0 };
}

/**
 * The message's fate once every target is delivered or given up: ack when all were delivered, else a dead letter
 * whose reason names each failed target and says where it did arrive, so an operator knows what a replay repeats.
 */
export function deliveryOutcome(what: string, delivered: readonly string[], failures: readonly TargetFailure[]): Outcome {
  if (failures.length === 0) return { type: 'ack' };
  const failed = failures.map((f) => `${f.target}: ${f.reason}`).join('; ');
  const partly = delivered.length > 0 ? ` (delivered to ${delivered.join(', ')})` : '';
  return { type: 'dead-letter', reason: `${what} failed for ${failed}${partly}` };
}
