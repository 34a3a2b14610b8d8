import type { ActorSystem } from './actors/system.js';
import { withTimeout } from './core/promises.js';
import type { Logger } from './logger.js';

/**
 * The runtime owns SIGINT and SIGTERM (comedy's handlers exit at once: comedy-notes §1.11). The first signal stops
 * intake, drains in-flight messages within `deadlineMs`, stops the tree and exits 0; a second signal exits 1 at once.
 */
export function shutdownOnSignals(
  system: ActorSystem,
  opts: { log: Logger; deadlineMs: number; exit?: (code: number) => void },
): void {
  // A process runs until it is told to stop, even when nothing else (a socket, a timer) holds the event loop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const exit = (code: number): void => {
    clearInterval(keepAlive);
    (opts.exit ?? process.exit)(code);
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      opts.log.warn({ signal }, 'second signal: exiting without waiting');
      exit(1);
      return;
    }
    stopping = true;
    opts.log.info({ signal, deadlineMs: opts.deadlineMs }, 'shutting down');
    // Draining and stopping each keep to the deadline; a stop hook that never returns must not keep the process.
    const limitMs = 3 * opts.deadlineMs + 5_000;
    withTimeout(system.shutdown(opts.deadlineMs), limitMs, () => new Error(`shutdown did not finish within ${limitMs} ms`)).then(
      () => {
        opts.log.info('stopped');
        exit(0);
      },
      (err: unknown) => {
        opts.log.error({ err, tree: system.root.children() }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Signals that arrive while a process starts, held until it can stop cleanly. */
export interface HeldSignals {
  /**
   * Installs the lasting handlers (`install`, e.g. shutdownOnSignals), then stops holding, then raises again a signal
   * that was held. In that order: a signal the kernel delivered while only the holder listened, but that the event
   * loop had not dispatched yet, goes to whichever listeners exist at dispatch; with no listener left in between,
   * Node stops watching the signal and such a signal is lost (a CI run once saw Ctrl-C ignored that way).
   */
  handOver(install: () => void): void;
}

/** Holds SIGINT and SIGTERM from now until `handOver`: Ctrl-C while starting becomes a clean stop once started. */
export function holdSignals(): HeldSignals {
  let held: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals) => (held ??= signal);
  process.on('SIGINT', hold).on('SIGTERM', hold);
  return {
    handOver(install) {
      install();
      process.off('SIGINT', hold).off('SIGTERM', hold);
      if (held !== undefined) process.kill(process.pid, held);
    },
  };
}
