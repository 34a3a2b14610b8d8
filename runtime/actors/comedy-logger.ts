import type { Logger } from '../logger.js';

/**
 * comedy's logger, by module path so forked children load it too (comedy-notes §1.8). It forwards comedy's own
 * messages to the process logger once the runtime has set it; before that, warnings and errors go to stderr.
 * comedy logs at Info things like "Killing forked system process."; they are debug for us.
 */

// comedy require()s this file while the runtime imports it: under tsx those are two module instances, so the sink
// lives on globalThis, where both see it.
const SINK = Symbol.for('openaperture.comedy-log-sink');
const slot = globalThis as { [SINK]?: Logger };

export function setComedyLogSink(log: Logger): void {
  slot[SINK] = log.child({ source: 'comedy' });
}

const text = (parts: unknown[]): string => parts.map((p) => (p instanceof Error ? p.message : String(p))).join(' ');

export function error(...parts: unknown[]): void {
  const sink = slot[SINK];
  if (sink) sink.error(text(parts));
  else process.stderr.write(`comedy error: ${text(parts)}\n`);
}
export function warn(...parts: unknown[]): void {
  const sink = slot[SINK];
  if (sink) sink.warn(text(parts));
  else process.stderr.write(`comedy warn: ${text(parts)}\n`);
}
export function info(...parts: unknown[]): void {
  slot[SINK]?.debug(text(parts));
}
export function debug(...parts: unknown[]): void {
  slot[SINK]?.trace(text(parts));
}
