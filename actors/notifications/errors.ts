import type { Failure } from './core/failures.js';

/** One attempt to deliver a notification failed; `retryable` says whether another attempt may succeed (core/failures). */
export class DeliveryFailed extends Error {
  override readonly name = 'DeliveryFailed';
  readonly retryable: boolean;
  constructor(failure: Failure, options?: ErrorOptions) {
    super(failure.reason, options);
    this.retryable = !failure.permanent;
  }
}

export const isDeliveryFailed = (e: unknown): e is DeliveryFailed => e instanceof Error && e.name === 'DeliveryFailed';
