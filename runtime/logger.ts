import { pino } from 'pino';

export type Logger = pino.Logger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The process logger: pino JSON on stdout. Forked actors build their own with the same level and bindings, and
 * write to the same stdout (comedy forks with inherited stdio), so every process logs one stream.
 */
export function createLogger(opts: {
  level: LogLevel;
  bindings?: Record<string, unknown>;
  /** Where lines go; stdout by default. */
  destination?: pino.DestinationStream;
}): Logger {
  const options = { level: opts.level, base: { pid: process.pid, ...opts.bindings } };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

const shared = new Map<LogLevel, Logger>();

/**
 * One stdout logger per level for the whole process, so many actors (10,000 workflows) share one destination and
 * each gets a cheap child instead of its own pino instance and stream.
 */
export function processLogger(level: LogLevel): Logger {
  let log = shared.get(level);
  if (log === undefined) {
    log = createLogger({ level });
    shared.set(level, log);
  }
  return log;
}
