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
