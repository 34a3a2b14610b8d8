/** Errors as plain data, so they cross a process or a broker with their name, message, code and stack. */

/** An error as it crosses a process boundary: plain data. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string | number;
  readonly retryable?: boolean;
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const { code, retryable } = err as Error & { code?: unknown; retryable?: unknown };
  return {
    name: err.name,
    message: err.message,
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof retryable === 'boolean' ? { retryable } : {}),
  };
}

/** Reads a SerializedError from untrusted data; anything malformed still becomes one that says so. */
export function serializedErrorOf(value: unknown): SerializedError {
  const p = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return {
    name: typeof p.name === 'string' ? p.name : 'Error',
    message: typeof p.message === 'string' ? p.message : `malformed error: ${JSON.stringify(value)}`,
    ...(typeof p.code === 'string' || typeof p.code === 'number' ? { code: p.code } : {}),
    ...(typeof p.retryable === 'boolean' ? { retryable: p.retryable } : {}),
    ...(typeof p.stack === 'string' ? { stack: p.stack } : {}),
  };
}

/** An error raised elsewhere (another process, another component), rebuilt with its name, message, code and stack. */
export class RemoteError extends Error {
  override readonly name: string;
  readonly code: string | number | undefined;
  readonly retryable: boolean | undefined;
  constructor(serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
    this.code = serialized.code;
    this.retryable = serialized.retryable;
    if (serialized.stack !== undefined) this.stack = serialized.stack;
  }
}

/** What an error says, for a log line or a message: its message, or the thrown value as text. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
