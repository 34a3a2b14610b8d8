import { withTimeout } from '../core/promises.js';
import type { Logger } from '../logger.js';

/** How long a forked child whose parent is gone gets to stop its behaviour before it exits anyway (issue 13: 1 s). */
export const ORPHAN_STOP_MS = 500;

/**
 * In a forked child: when the IPC channel to the parent closes (the parent was SIGKILLed, or exited without stopping
 * it), stop within ORPHAN_STOP_MS and exit. comedy notices only through its parent ping, about 5 s later
 * (comedy-notes §1.4), and a child that outlives its parent holds its ports, queues and containers.
 */
export function watchParent(opts: { readonly log: Logger; readonly stop: () => Promise<void> }): void {
  if (process.send === undefined) return;
  let orphaned = false;
  const onDisconnect = (): void => {
    if (orphaned) return;
    orphaned = true;
    const { log } = opts;
    log.warn({ parentPid: process.ppid, deadlineMs: ORPHAN_STOP_MS }, 'parent process gone: stopping');
    withTimeout(opts.stop(), ORPHAN_STOP_MS, () => new Error(`stop did not finish within ${ORPHAN_STOP_MS} ms`)).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stopping after the parent was gone failed');
        process.exit(1);
      },
    );
  };
  process.once('disconnect', onDisconnect);
  if (!process.connected) onDisconnect();
}

const isChannelClosed = (reason: unknown): boolean => (reason as { code?: unknown } | null)?.code === 'ERR_IPC_CHANNEL_CLOSED';

/**
 * In a forked child, what would print a bare stack becomes a JSON line. comedy answers a call over the IPC channel
 * even when the parent is gone; the send fails, its fallback error answer fails too, and that Bluebird rejection is
 * nobody's (forked-actor.js, `_sendErrorResponse`), so Bluebird printed "Unhandled rejection Error
 * [ERR_IPC_CHANNEL_CLOSED]". An answer nobody can receive is a warning. Any other unhandled rejection or uncaught
 * exception is a bug of the process: it is logged and the process exits 1, as Node would, so the supervisor restarts it.
 */
export function logProcessErrors(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (isChannelClosed(reason)) {
      log.warn({ err: reason }, 'answer to the parent dropped: its channel is closed');
      return;
    }
    log.fatal({ err: reason }, 'unhandled rejection; exiting');
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
}
