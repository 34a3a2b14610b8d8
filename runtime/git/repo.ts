/**
 * Git for the workers (design §7): clone any URL git understands (`file://`, a local path, https with a token in the
 * URL, ssh with a key), check out a ref, resolve it, commit and push. simple-git stays in this folder; components see
 * `GitRepo` and `GitError` only.
 */
import { simpleGit, type SimpleGit, type SimpleGitOptions } from 'simple-git';

export interface GitAuthor {
  readonly name: string;
  readonly email: string;
}

export interface CloneOptions {
  /** Any URL git clones: `file:///srv/app.git`, `/srv/app.git`, `https://<token>@host/org/app.git`, `git@host:org/app.git`. */
  readonly url: string;
  /** An empty or missing directory. */
  readonly dir: string;
  /** Branch, tag or commit; the remote's default branch when absent. */
  readonly ref?: string | undefined;
  /** A private key file for ssh URLs. */
  readonly sshKeyPath?: string | undefined;
  /** Commits made in the clone are authored so. */
  readonly author?: GitAuthor;
  /** Kills a git process silent this long (a hung network); 120 s by default. */
  readonly silenceTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** A clone on disk. */
export interface GitRepo {
  readonly dir: string;
  /** The commit checked out. */
  headSha(): Promise<string>;
  /** Files that differ from HEAD, untracked ones included, relative to the root. */
  changedFiles(): Promise<string[]>;
  /** Stages everything and commits; the new commit's sha. */
  commitAll(message: string): Promise<string>;
  /** Pushes the checked-out branch to origin. */
  push(): Promise<void>;
}

/** What failed, on which repository (its URL without credentials), in words a person can act on. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly url: string,
    readonly operation: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`git ${operation} of ${url}: ${message}`, options);
  }
}
export const isGitError = (e: unknown): e is GitError => e instanceof Error && e.name === 'GitError';

const DEFAULT_AUTHOR: GitAuthor = { name: 'OpenAperture', email: 'openaperture@localhost' };

/** The URL as it may be shown: user and password (a token) replaced. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

/** The last meaningful line git printed, without the noise simple-git adds. */
function gitMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('hint:'));
  // A refused push: the ref line and what the remote said say more than git's closing "failed to push some refs".
  const rejected = /\[(remote )?rejected\].*$/m.exec(text)?.[0].trim();
  const remote = lines.filter((l) => l.startsWith('remote:')).map((l) => l.slice('remote:'.length).trim()).filter((l) => l !== '');
  if (rejected !== undefined) return [rejected, ...remote].join(': ');
  const fatal = lines.find((l) => /^(fatal|error):/.test(l));
  return (fatal ?? lines.at(-1) ?? 'failed').replace(/^(fatal|error):\s*/, '');
}

function gitFor(dir: string | undefined, opts: CloneOptions): SimpleGit {
  const author = opts.author ?? DEFAULT_AUTHOR;
  const options: Partial<SimpleGitOptions> = {
    ...(dir === undefined ? {} : { baseDir: dir }),
    config: [`user.name=${author.name}`, `user.email=${author.email}`, 'advice.detachedHead=false'],
    timeout: { block: opts.silenceTimeoutMs ?? 120_000 },
    ...(opts.signal ? { abort: opts.signal } : {}),
    ...(opts.sshKeyPath ? { allowEnvironment: ['GIT_SSH_COMMAND', 'GIT_TERMINAL_PROMPT'] } : { allowEnvironment: ['GIT_TERMINAL_PROMPT'] }),
  };
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', GIT_TERMINAL_PROMPT: '0' };
  // Never a prompt: a worker has nobody to answer it, and a missing credential must fail, not hang.
  if (opts.sshKeyPath) env.GIT_SSH_COMMAND = `ssh -i '${opts.sshKeyPath.replaceAll("'", "'\\''")}' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new`;
  return simpleGit(options).env(env);
}

/** Clones `url` into `dir` and checks out `ref`; a ref the repository lacks is a GitError saying so. */
export async function cloneRepo(opts: CloneOptions): Promise<GitRepo> {
  const shown = redactUrl(opts.url);
  const fail = (operation: string, err: unknown): GitError => new GitError(shown, operation, gitMessage(err).replaceAll(opts.url, shown), { cause: err });
  try {
    await gitFor(undefined, opts).clone(opts.url, opts.dir);
  } catch (err) {
    throw fail('clone', err);
  }
  const git = gitFor(opts.dir, opts);
  if (opts.ref !== undefined && opts.ref !== '') {
    try {
      await git.checkout(opts.ref);
    } catch (err) {
      throw new GitError(shown, 'checkout', `ref ${JSON.stringify(opts.ref)} is not a branch, tag or commit of the repository`, { cause: err });
    }
  }
  return {
    dir: opts.dir,
    async headSha() {
      try {
        return (await git.revparse(['HEAD'])).trim();
      } catch (err) {
        throw fail('rev-parse', err);
      }
    },
    async changedFiles() {
      const status = await git.status(['--untracked-files=all']);
      return status.files.map((f) => f.path).sort();
    },
    async commitAll(message) {
      try {
        await git.add(['--all']);
        await git.commit(message);
        return (await git.revparse(['HEAD'])).trim();
      } catch (err) {
        throw fail('commit', err);
      }
    },
    async push() {
      const branch = (await git.raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim();
      if (branch === '') throw new GitError(shown, 'push', `the checkout is at a commit (${opts.ref ?? 'HEAD'}), not a branch: there is no branch to push to`);
      try {
        await git.push('origin', branch);
      } catch (err) {
        throw fail('push', err);
      }
    },
  };
}
