import type { Command } from 'commander';
import { credentialsPath, removeCredentials, writeCredentials } from '../credentials-file.js';
import { credentialsOf } from '../core/credentials.js';
import { managerUrl } from '../core/inputs.js';
import type { Context } from '../output.js';
import { requestToken } from '../session.js';

/** `login`: a client-credentials token, stored for later commands (reference §1.3); `logout` forgets it. */

interface LoginOptions {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

async function login(ctx: Context, o: LoginOptions): Promise<void> {
  const url = managerUrl(o.url);
  const token = await requestToken(url, o.clientId, o.clientSecret);
  const stored = credentialsOf(url, o.clientId, token, new Date());
  const path = credentialsPath(ctx.env);
  await writeCredentials(path, stored);
  ctx.out.result({ url, client_id: o.clientId, expires_at: stored.expires_at, credentials: path }, () => `logged in to ${url} as ${o.clientId} until ${stored.expires_at} (token in ${path})`);
}

async function logout(ctx: Context): Promise<void> {
  const path = credentialsPath(ctx.env);
  const removed = await removeCredentials(path);
  ctx.out.result({ removed, credentials: path }, () => (removed ? `logged out (removed ${path})` : 'not logged in'));
}

export function registerLogin(program: Command, ctx: () => Context): void {
  program
    .command('login')
    .description('get a token with an API client\'s credentials and store it for later commands')
    .requiredOption('--url <url>', "the Manager's URL, e.g. http://127.0.0.1:4000")
    .requiredOption('--client-id <id>', 'the API client')
    .requiredOption('--client-secret <secret>', "the API client's secret")
    .action((o: LoginOptions) => login(ctx(), o));
  program
    .command('logout')
    .description('forget the stored token')
    .action(() => logout(ctx()));
}
