/**
 * The CLI's own refusals, and the one line any failure becomes on stderr (`openaperture: <message>`). Pure: the error
 * in, the text out; main.ts writes it.
 */

/** Bad input or a state the user must change (not logged in, no such cluster): the message says what to do. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
export const isCliError = (e: unknown): e is CliError => e instanceof Error && e.name === 'CliError';

/** What the errors of http/client carry, read structurally so this file imports no I/O. */
interface ApiFailure {
  readonly name: 'ManagerApiError';
  readonly route: string;
  readonly status: number;
  readonly messages: readonly string[];
}

const isApiFailure = (e: unknown): e is ApiFailure => e instanceof Error && e.name === 'ManagerApiError';

/** A refusal of the Manager as a person reads it: what it said first, the route after. */
function apiLine(e: ApiFailure): string {
  const said = e.messages.length > 0 ? e.messages.join('; ') : `status ${e.status}`;
  if (e.status === 401) return `the Manager refused the token (expired or revoked): run openaperture login (${e.route})`;
  if (e.status === 403) return `not allowed: ${said} (${e.route} needs a higher role)`;
  return `${said} (${e.route} answered ${e.status})`;
}

/** The single line a failure prints; `debug` adds the stack instead. */
export function errorText(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error && err.stack !== undefined) return err.stack;
  if (isApiFailure(err)) return apiLine(err);
  const message = err instanceof Error ? err.message : String(err);
  // ManagerResponseError and ConfigError list their problems on further lines: one line, problems joined.
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  // `invalid configuration:` introduces the problems that follow; the others are a list.
  return lines.reduce((text, line) => (text === '' ? line : `${text}${text.endsWith(':') ? ' ' : '; '}${line}`), '');
}
