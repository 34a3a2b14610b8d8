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

/** A commit as the workers use it. */
export interface CommitInfo {
  readonly sha: string;
  /** The committer date: when the commit was made on its branch. */
  readonly committedAt: Date;
  /** The whole message (subject, body and trailers), without the final newline. */
  readonly message: string;
}

/** A clone on disk. */
export interface GitRepo {
  readonly dir: string;
  /** The commit checked out. */
  headCommit(): Promise<CommitInfo>;
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

function gitFor(dir: string | undefined, opts: CloneOptions, unsafe: SimpleGitOptions['unsafe'] = {}): SimpleGit {
  const author = opts.author ?? DEFAULT_AUTHOR;
  const options: Partial<SimpleGitOptions> = {
    ...(dir === undefined ? {} : { baseDir: dir }),
    unsafe,
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

/**
 * No template directory: the host's hook samples are copied into every clone otherwise, which is half the cost of a
 * clone of a small repo, and no hook runs in a clone anyway. simple-git lets `--template` through only when allowed,
 * for the clone alone; the options end with `--`, so a URL starting with `-` is never read as one.
 */
const NO_TEMPLATE = '--template=';

/** Whether `ref` reads as a commit id, which `git clone --branch` does not take. */
const isObjectId = (ref: string): boolean => /^[0-9a-f]{7,64}$/i.test(ref);
const isMissingBranch = (err: unknown): boolean => /Remote branch .* not found in upstream/.test(err instanceof Error ? err.message : String(err));

/**
 * Clones at `ref` in one git command when it names a branch or tag (`--branch`), which saves the checkout; a commit,
 * or a ref `--branch` cannot find (`main~1`), is cloned at the default branch and checked out after. Says whether the
 * checkout is still to do.
 */
async function cloneAt(opts: CloneOptions, ref: string | undefined, fail: (operation: string, err: unknown) => GitError): Promise<boolean> {
  const git = gitFor(undefined, opts, { allowUnsafeTemplateDir: true });
  const byName = ref !== undefined && !isObjectId(ref);
  try {
    await git.clone(opts.url, opts.dir, [NO_TEMPLATE, ...(byName ? ['--branch', ref] : []), '--']);
    return ref !== undefined && !byName;
  } catch (err) {
    if (!byName || !isMissingBranch(err)) throw fail('clone', err);
  }
  try {
    await git.clone(opts.url, opts.dir, [NO_TEMPLATE, '--']);
    return true;
  } catch (err) {
    throw fail('clone', err);
  }
}

/** The GitError of `operation` on `opts.url`, in git's words with the credentials taken out. */
const failureOf =
  (opts: CloneOptions) =>
  (operation: string, err: unknown): GitError => {
    const shown = redactUrl(opts.url);
    return new GitError(shown, operation, gitMessage(err).replaceAll(opts.url, shown), { cause: err });
  };

/** Clones `url` into `dir` and checks out `ref`; a ref the repository lacks is a GitError saying so. */
export async function cloneRepo(opts: CloneOptions): Promise<GitRepo> {
  const ref = opts.ref === '' ? undefined : opts.ref;
  const needsCheckout = await cloneAt(opts, ref, failureOf(opts));
  if (ref !== undefined && needsCheckout) {
    try {
      await gitFor(opts.dir, opts).checkout(ref);
    } catch (err) {
      throw new GitError(redactUrl(opts.url), 'checkout', `ref ${JSON.stringify(ref)} is not a branch, tag or commit of the repository`, { cause: err });
    }
  }
  return openRepo(opts);
}

/** The clone that `cloneRepo(opts)` made in `opts.dir`. */
export function openRepo(opts: CloneOptions): GitRepo {
  const shown = redactUrl(opts.url);
  const fail = failureOf(opts);
  const git = gitFor(opts.dir, opts);
  return {
    dir: opts.dir,
    async headCommit() {
      try {
        const [sha = '', committed = '', message = ''] = (await git.raw(['show', '--no-patch', '--format=%H%x00%cI%x00%B', 'HEAD'])).split('\0');
        return { sha, committedAt: new Date(committed), message: message.trimEnd() };
      } catch (err) {
        throw fail('show', err);
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
