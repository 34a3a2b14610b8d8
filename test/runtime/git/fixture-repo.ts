import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A bare repository on disk (`file://`), filled through a work tree beside it, as a person would push to it. */
export interface FixtureRepo {
  readonly url: string;
  readonly bareDir: string;
  /** Writes (or, for `null`, deletes) files on `branch`, commits and pushes; the new commit's sha. */
  commit(files: Readonly<Record<string, string | null>>, message?: string, branch?: string): string;
  /** A commit on main with main's files and the committer date `date` (ISO 8601); its sha. */
  commitAt(date: string, message?: string): string;
  tag(name: string, ref?: string): void;
  /** The sha a branch points at in the bare repository. */
  head(branch?: string): string;
  /** Commit subjects of a branch, newest first. */
  subjects(branch?: string): string[];
  /** A file's content at the tip of a branch. */
  show(path: string, branch?: string): string;
}

const gitWith = (env: NodeJS.ProcessEnv, cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=Fixture', '-c', 'user.email=fixture@localhost', '-c', 'advice.detachedHead=false', ...args], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
const git = (cwd: string, ...args: string[]): string => gitWith(process.env, cwd, ...args);

/** A bare repository `<root>/<name>.git` whose `main` holds `files`. */
export function fixtureRepo(root: string, name: string, files: Readonly<Record<string, string>>): FixtureRepo {
  const bareDir = join(root, `${name}.git`);
  const work = join(root, `${name}-work`);
  mkdirSync(bareDir, { recursive: true });
  git(bareDir, 'init', '--quiet', '--bare', '--initial-branch=main');
  git(root, 'clone', '--quiet', bareDir, work);
  git(work, 'checkout', '--quiet', '-B', 'main');
  const repo: FixtureRepo = {
    url: `file://${bareDir}`,
    bareDir,
    commit(changes, message = 'change', branch = 'main') {
      git(work, 'fetch', '--quiet', 'origin');
      const exists = git(work, 'ls-remote', '--heads', 'origin', branch) !== '';
      git(work, 'checkout', '--quiet', '-B', branch, ...(exists ? [`origin/${branch}`] : []));
      for (const [path, content] of Object.entries(changes)) {
        const file = join(work, path);
        if (content === null) rmSync(file, { force: true });
        else {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, content);
        }
      }
      git(work, 'add', '--all');
      git(work, 'commit', '--quiet', '--allow-empty', '-m', message);
      git(work, 'push', '--quiet', 'origin', branch);
      return git(work, 'rev-parse', 'HEAD');
    },
    commitAt(date, message = 'dated') {
      const dated = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
      const sha = gitWith(dated, bareDir, 'commit-tree', 'main^{tree}', '-p', 'main', '-m', message);
      git(bareDir, 'update-ref', 'refs/heads/main', sha);
      return sha;
    },
    tag(tagName, ref = 'main') {
      git(bareDir, 'tag', tagName, ref);
    },
    head: (branch = 'main') => git(bareDir, 'rev-parse', `refs/heads/${branch}`),
    subjects: (branch = 'main') => git(bareDir, 'log', '--format=%s', branch).split('\n'),
    show: (path, branch = 'main') => git(bareDir, 'show', `${branch}:${path}`),
  };
  repo.commit(files, 'initial');
  return repo;
}
