/** The requester's side of RPC for the in-memory transport: pending requests by correlation id, timeouts, replies. */
import type { Logger } from '../logger.js';
import { decodeEnvelope } from './core/envelope.js';
import { ERROR_REPLY_TYPE, remoteRequestErrorOf, RpcTimeoutError, TransportClosedError, type Destination } from './transport.js';

interface Pending {
  readonly resolve: (payload: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class RemoteReplies {
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly log: Logger) {}

  /** Resolves with the reply's payload; rejects with RemoteRequestError, or RpcTimeoutError after `timeoutMs`. */
  expect(req: { correlationId: string; to: Destination; type: string; timeoutMs: number }): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(req.correlationId);
        reject(new RpcTimeoutError(req.to, req.type, req.timeoutMs));
      }, req.timeoutMs);
      this.#pending.set(req.correlationId, { resolve, reject, timer });
    });
  }

  /** Settles the request a reply answers. A reply nobody waits for (it came after the timeout) is dropped and logged. */
  receive(body: Buffer): void {
    const decoded = decodeEnvelope(body);
    if (!decoded.ok) {
      this.log.warn({ reason: decoded.reason }, 'undecodable reply dropped');
      return;
    }
    const { type, correlation_id: correlationId, payload } = decoded.envelope;
    const pending = correlationId === undefined ? undefined : this.#pending.get(correlationId);
    if (correlationId === undefined || pending === undefined) {
      this.log.warn({ correlationId, type }, 'late reply dropped');
      return;
    }
    this.#pending.delete(correlationId);
    clearTimeout(pending.timer);
    if (type === ERROR_REPLY_TYPE) pending.reject(remoteRequestErrorOf(payload));
    else pending.resolve(payload);
  }

  /** Rejects every pending request and stops their timers. */
  rejectAll(reason: string): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new TransportClosedError(reason));
    }
    this.#pending.clear();
  }
}
