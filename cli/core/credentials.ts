import { z } from 'zod';
import { CliError } from './errors.js';

/**
 * What `openaperture login` keeps (the Manager's URL and a token of the client-credentials grant) and when it can be
 * used. Pure: text and the time in, a verdict out; cli/credentials-file.ts reads and writes the file.
 */

export const StoredCredentials = z.object({
  url: z.url({ protocol: /^https?$/ }),
  client_id: z.string().min(1),
  token: z.string().min(1),
  /** ISO 8601; the token is useless after it. */
  expires_at: z.iso.datetime({ offset: true }),
});
export type StoredCredentials = z.infer<typeof StoredCredentials>;

const LOGIN = 'openaperture login --url URL --client-id ID --client-secret SECRET';

/** The stored credentials in `text` (the file at `path`), refused with a line that says how to fix it. */
export function parseCredentials(text: string, path: string): StoredCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${path} is not JSON; log in again: ${LOGIN}`);
  }
  const parsed = StoredCredentials.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || '(file)';
    throw new CliError(`${path}: ${field} is missing or invalid; log in again: ${LOGIN}`);
  }
  return parsed.data;
}

/** Credentials to store after a login at `now`. */
export function credentialsOf(url: string, clientId: string, token: { readonly access_token: string; readonly expires_in: number }, now: Date): StoredCredentials {
  return { url, client_id: clientId, token: token.access_token, expires_at: new Date(now.getTime() + token.expires_in * 1_000).toISOString() };
}

/** The token, unless it has expired (a request with it would only be refused). */
export function usableToken(c: StoredCredentials, now: Date): string {
  if (Date.parse(c.expires_at) <= now.getTime()) throw new CliError(`the token stored for ${c.url} expired at ${c.expires_at}; log in again: ${LOGIN}`);
  return c.token;
}

export const NOT_LOGGED_IN = `not logged in: run ${LOGIN} (or set MANAGER_URL, OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET)`;
