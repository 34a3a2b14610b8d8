import { credentialsPath, readCredentials } from './credentials-file.js';
import { usableToken } from './core/credentials.js';
import { CliError } from './core/errors.js';
import { managerUrl } from './core/inputs.js';
import { messagesOf, managerHttp, type ManagerHttp } from '../http/client/requests.js';
import { networkCodeOf } from '../http/client/errors.js';
import { TokenReply } from '../http/client/schemas.js';
import { managerAccessFromEnv } from '../runtime/config.js';
import { createLogger, type Logger } from '../runtime/logger.js';

type Env = Readonly<Record<string, string | undefined>>;

/** How the CLI reaches the Manager for one command: its URL and a bearer token. */
export interface Session {
  readonly url: string;
  readonly token: string;
  readonly http: ManagerHttp;
}

/** A CLI waits about a second for a Manager that is restarting, not the workers' six. */
const CLI_RETRY = { maxRetries: 2, baseDelayMs: 200, maxDelayMs: 1_000 };

/** Logs only under --debug (the client's retries, token use), on stderr, so stdout stays the command's output. */
export const cliLogger = (debug: boolean): Logger => createLogger({ level: debug ? 'debug' : 'silent', destination: process.stderr });

/** `POST /oauth/token` with the client-credentials grant (reference §1.3); refusals and unreachable Managers as one line. */
export async function requestToken(url: string, clientId: string, clientSecret: string, tokenUrl = `${url}/oauth/token`): Promise<{ readonly access_token: string; readonly expires_in: number }> {
  let res: Response;
  try {
    res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new CliError(`cannot reach the Manager at ${url}: ${networkCodeOf(err) ?? cause}`);
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    // Not JSON: not a Manager, said below.
  }
  if (res.status !== 200) {
    const said = messagesOf(json).join('; ') || `status ${res.status}`;
    throw new CliError(`the Manager at ${url} refused client ${JSON.stringify(clientId)}: ${said}`);
  }
  const token = TokenReply.safeParse(json);
  if (!token.success) throw new CliError(`${tokenUrl} did not answer a token: is ${url} an OpenAperture Manager?`);
  return token.data;
}

/**
 * The session of a command: the client credentials of MANAGER_URL, OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET when set
 * (CI, as the workers are configured), else the token `openaperture login` stored.
 */
export async function openSession(env: Env, log: Logger, now: Date): Promise<Session> {
  let url: string;
  let token: string;
  if (env.OAUTH_CLIENT_ID !== undefined && env.OAUTH_CLIENT_ID !== '') {
    const access = managerAccessFromEnv(env);
    url = managerUrl(access.baseUrl, 'MANAGER_URL');
    token = (await requestToken(url, access.clientId, access.clientSecret, access.tokenUrl)).access_token;
  } else {
    const stored = await readCredentials(credentialsPath(env));
    url = stored.url;
    token = usableToken(stored, now);
  }
  return { url, token, http: managerHttp({ baseUrl: url, token, log, retry: CLI_RETRY }) };
}
