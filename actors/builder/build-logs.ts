/**
 * The build-log fan-out, Builder side (reference §4.8): batches of lines to queue `build_logs` of every Manager's
 * exchange, as broadcasts (each Manager instance relays its own copy; nobody watching drops them). The list of
 * exchanges is refreshed (fix of reference §10.1 item 11: the original never refreshed it).
 */
import { BUILD_LOGS_PUBLISHED, BUILD_LOGS_QUEUE, type BuildLogs } from './messages.js';
import { logExchangesOf } from './core/plan.js';
import { readAllPages, type ManagerClient } from '../../http/client/manager-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Messaging } from '../../runtime/messaging/transport.js';

export interface BuildLogDeps {
  readonly transport: Pick<Messaging, 'publish'>;
  readonly manager: Pick<ManagerClient, 'systemComponents'>;
  readonly log: Logger;
  readonly refreshMs: number;
  readonly now: () => number;
}

/** How long lines gather before they are sent as one message. */
const BATCH_MS = 200;

/** The exchanges of the platform's Managers, fetched again once `refreshMs` old. */
export class ManagerExchanges {
  #ids: number[] = [];
  #fetchedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: BuildLogDeps) {}

  async current(fallback: number | undefined): Promise<number[]> {
    if (this.deps.now() - this.#fetchedAt >= this.deps.refreshMs) {
      try {
        const managers = await readAllPages((window) => this.deps.manager.systemComponents.list({ ...window, type: 'manager' }));
        this.#ids = logExchangesOf(managers, undefined);
        this.#fetchedAt = this.deps.now();
      } catch (err) {
        this.deps.log.warn({ err }, 'cannot list the Managers for build logs; using the last list');
      }
    }
    return this.#ids.length > 0 ? this.#ids : logExchangesOf([], fallback);
  }
}

export interface BuildLogSink {
  push(lines: readonly string[]): void;
  /** Sends what is gathered; resolves once sent (or given up on). */
  flush(): Promise<void>;
}

/** Lines of one workflow's build, gathered for `BATCH_MS` and published to every Manager exchange. */
export function buildLogSink(deps: BuildLogDeps, exchanges: ManagerExchanges, workflowId: string, fallback: number | undefined): BuildLogSink {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending = Promise.resolve();
  const send = async (logs: string[]): Promise<void> => {
    const payload: BuildLogs = { workflow_id: workflowId, logs };
    for (const exchangeId of await exchanges.current(fallback)) {
      await deps.transport
        .publish({ exchangeId, queue: BUILD_LOGS_QUEUE }, BUILD_LOGS_PUBLISHED, payload, { broadcast: true })
        .catch((err: unknown) => deps.log.warn({ err, exchangeId }, 'build logs not published; the build goes on'));
    }
  };
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const logs = pending;
    pending = [];
    // In order: a batch starts once the one before it is sent.
    if (logs.length > 0) sending = sending.then(() => send(logs));
    return sending;
  };
  return {
    push(lines) {
      pending.push(...lines);
      timer ??= setTimeout(() => void flush(), BATCH_MS);
    },
    flush,
  };
}
