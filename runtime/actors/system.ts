import { createComedySystem, type MessagingSettings } from './comedy.js';
import type { Clock } from '../clock.js';
import { withTimeout } from '../core/promises.js';
import type { Transport } from '../messaging/transport.js';
import { setComedyLogSink } from './comedy-logger.js';
import type { SupervisorRef } from './protocol.js';
import { Supervisor } from './supervisor.js';
import type { SupervisorSpec } from './supervisor-spec.js';
import type { Logger, LogLevel } from '../logger.js';
import type { ProcessMetrics } from '../metrics/process-metrics.js';

export interface ActorSystemOptions {
  readonly spec: SupervisorSpec;
  readonly log: Logger;
  readonly logLevel: LogLevel;
  readonly askTimeoutMs: number;
  /** The root supervisor gave up: nothing above it can restart the tree. */
  readonly onFailure: (error: Error) => void;
  /** The process's transport for its actors, and how forked ones open theirs. */
  readonly messaging?: { readonly transport: Transport; readonly settings: MessagingSettings };
  /** The clock of the tree's in-memory actors (`ctx.now`, `ctx.sendAfter`); the real one by default. */
  readonly clock?: Clock;
  /** The process's registry: restarts and mailbox depths go there, and in-memory actors get it as `ctx.metrics`. */
  readonly metrics?: ProcessMetrics;
}

/** The running tree: the root supervisor, and the one way to stop it. */
export interface ActorSystem {
  readonly root: SupervisorRef;
  /** Registers a step that stops intake (a consumer, a listener); shutdown runs these first, in reverse order. */
  onShutdown(stopIntake: () => Promise<void>): void;
  /** Stops intake, lets in-flight messages finish within `deadlineMs`, stops the tree, then comedy. */
  shutdown(deadlineMs: number): Promise<void>;
}

export async function startActorSystem(opts: ActorSystemOptions): Promise<ActorSystem> {
  setComedyLogSink(opts.log);
  const comedy = await createComedySystem();
  const root = new Supervisor(opts.spec, {
    name: 'root',
    spawner: comedy.spawner,
    log: opts.log,
    logLevel: opts.logLevel,
    askTimeoutMs: opts.askTimeoutMs,
    onFailure: opts.onFailure,
    ...(opts.messaging ? { messaging: opts.messaging } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  try {
    await root.start();
  } catch (err) {
    await comedy.destroy();
    throw err;
  }
  const intake: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  return {
    root,
    onShutdown: (stopIntake) => void intake.push(stopIntake),
    shutdown(deadlineMs) {
      stopping ??= (async () => {
        // Draining keeps to the deadline too: a delivery that outlives it is left to the broker (it was never acked).
        const drained = (async () => {
          for (const stop of [...intake].reverse()) await stop();
        })();
        await withTimeout(drained, deadlineMs, () => new Error(`in-flight messages not drained within ${deadlineMs} ms`)).catch((err: unknown) =>
          opts.log.warn({ err }, 'stopping the actors without waiting for the rest of the in-flight messages'),
        );
        await root.stop(deadlineMs);
        await comedy.destroy();
      })();
      return stopping;
    },
  };
}
