import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitProcess, loaderFlagsOf } from '../../../runtime/git/git-process.js';
import { cloneRepo as cloneInProcess, isGitError, redactUrl, type CloneOptions, type GitError, type GitRepo } from '../../../runtime/git/repo.js';
import { rejectionOf } from '../../helpers/wait.js';
import { fixtureRepo, type FixtureRepo } from './fixture-repo.js';

interface Git {
  cloneRepo(opts: CloneOptions): Promise<GitRepo>;
  stop(): void;
}

/** What a suite's own tests reach, once its hooks ran. */
interface Suite {
  git(): Git;
  origin(): FixtureRepo;
  nextDir(): string;
}

/** The same operations in this process (repo.ts) and in the git process (git-process.ts), and `more` tests of one. */
function gitContract(where: string, start: () => Git, more?: (suite: Suite) => void): void {
  describe(`runtime/git ${where}: clone, checkout, commit and push on real repositories`, function () {
    this.timeout(30_000);
    let git: Git;
    const cloneRepo = (opts: CloneOptions): Promise<GitRepo> => git.cloneRepo(opts);
    let root: string;
    let origin: FixtureRepo;
    let n = 0;
    const nextDir = (): string => join(root, `clone-${++n}`);

    before(() => {
      git = start();
      root = mkdtempSync(join(tmpdir(), 'oa-git-'));
      origin = fixtureRepo(root, 'app', { 'README.md': 'v1\n' });
    });
    after(() => {
      git.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it('clones a file:// URL at its default branch, and a plain path', async () => {
      const byUrl = await cloneRepo({ url: origin.url, dir: nextDir() });
      const byPath = await cloneRepo({ url: origin.bareDir, dir: nextDir() });
      expect((await byUrl.headCommit()).sha).to.equal(origin.head());
      expect((await byPath.headCommit()).sha).to.equal(origin.head());
    });

    it('checks out a branch, a tag, a commit and a revision, and resolves each to its sha', async () => {
      const first = origin.head();
      origin.tag('v1', first);
      const feature = origin.commit({ 'feature.txt': 'f\n' }, 'feature', 'feature');
      const shaOf = async (ref: string) => (await (await cloneRepo({ url: origin.url, dir: nextDir(), ref })).headCommit()).sha;
      expect(await shaOf('feature')).to.equal(feature);
      expect(await shaOf('v1')).to.equal(first);
      expect(await shaOf(first)).to.equal(first);
      expect(await shaOf(`${feature}~1`)).to.equal(first);
    });

    it("reads the head commit's committer date and whole message", async () => {
      const sha = origin.commitAt('2020-02-03T04:05:06+02:00', 'Deployment for commit abc\n\nWorkflow: w-1');
      const head = await (await cloneRepo({ url: origin.url, dir: nextDir() })).headCommit();
      expect(head).to.deep.equal({ sha, committedAt: new Date('2020-02-03T02:05:06Z'), message: 'Deployment for commit abc\n\nWorkflow: w-1' });
    });

    it('says which ref is unknown, and which repository cannot be cloned', async () => {
      const unknown = (await rejectionOf(cloneRepo({ url: origin.url, dir: nextDir(), ref: 'no-such-branch' }))) as GitError;
      expect(isGitError(unknown)).to.equal(true);
      expect(unknown.message).to.equal(`git checkout of ${origin.url}: ref "no-such-branch" is not a branch, tag or commit of the repository`);
      const missing = (await rejectionOf(cloneRepo({ url: `file://${root}/nowhere.git`, dir: nextDir() }))) as GitError;
      expect(missing.message).to.match(new RegExp(`^git clone of file://${root}/nowhere.git: .*(does not appear to be a git repository|not found|No such file)`));
    });

    it('lists changed and new files, commits them, and pushes the branch to origin', async () => {
      const repo = await cloneRepo({ url: origin.url, dir: nextDir(), ref: 'main' });
      expect(await repo.changedFiles()).to.deep.equal([]);
      writeFileSync(join(repo.dir, 'README.md'), 'v2\n');
      writeFileSync(join(repo.dir, 'new.txt'), 'new\n');
      expect(await repo.changedFiles()).to.deep.equal(['README.md', 'new.txt']);
      const sha = await repo.commitAll('Deployment for commit abc');
      await repo.push();
      expect(origin.head()).to.equal(sha);
      expect(origin.subjects()[0]).to.equal('Deployment for commit abc');
      expect(origin.show('new.txt')).to.equal('new');
      expect(readFileSync(join(repo.dir, 'README.md'), 'utf8')).to.equal('v2\n');
    });

    it('refuses to push a checkout that is at a commit rather than a branch', async () => {
      const repo = await cloneRepo({ url: origin.url, dir: nextDir(), ref: origin.head() });
      writeFileSync(join(repo.dir, 'x.txt'), 'x\n');
      await repo.commitAll('detached');
      const err = (await rejectionOf(repo.push())) as GitError;
      expect(err.message).to.match(/^git push of file:\/\/.*: the checkout is at a commit \([0-9a-f]{40}\), not a branch/);
    });

    it('reports a push the remote refuses', async () => {
      const repo = await cloneRepo({ url: origin.url, dir: nextDir(), ref: 'main' });
      origin.commit({ 'race.txt': 'someone else\n' }, 'a concurrent push');
      writeFileSync(join(repo.dir, 'mine.txt'), 'mine\n');
      await repo.commitAll('mine');
      const err = (await rejectionOf(repo.push())) as GitError;
      expect(err.message).to.match(/^git push of file:\/\/.*: .*(rejected|failed to push)/);
    });

    more?.({ git: () => git, origin: () => origin, nextDir });
  });
}

gitContract('in this process', () => ({ cloneRepo: cloneInProcess, stop: () => undefined }));
gitContract('in the git process', gitProcess, ({ git, origin, nextDir }) => {
  it('runs many operations at once', async () => {
    const heads = await Promise.all(Array.from({ length: 8 }, async () => (await (await git().cloneRepo({ url: origin().url, dir: nextDir() })).headCommit()).sha));
    expect(new Set(heads)).to.deep.equal(new Set([origin().head()]));
  });

  it('aborts the operation whose signal fires, and says so as git errors do', async () => {
    const err = (await rejectionOf(git().cloneRepo({ url: origin().url, dir: nextDir(), signal: AbortSignal.abort() }))) as GitError;
    expect(isGitError(err)).to.equal(true);
    expect(err.message).to.match(/^git clone of file:\/\/.*: .*abort/i);
  });

  it('fails what a dead child was running, and starts another for the next operation', async () => {
    const repo = await git().cloneRepo({ url: origin().url, dir: nextDir() });
    const running = repo.headCommit();
    git().stop();
    expect(((await rejectionOf(running)) as Error).message).to.match(/the git process exited/);
    expect((await repo.headCommit()).sha).to.equal(origin().head());
  });
});

describe('runtime/git: the git process inherits how to load code, nothing else', () => {
  const cases: Array<[string[], string[]]> = [
    [['--import', 'file:///x/tsx/loader.mjs'], ['--import', 'file:///x/tsx/loader.mjs']],
    [['--import=tsx', '--enable-source-maps', '-r', 'a.cjs'], ['--import=tsx', '--enable-source-maps', '-r', 'a.cjs']],
    [['--input-type=module', '-e', 'fork()', '--inspect=9229', '--cpu-prof'], []],
  ];
  for (const [parent, child] of cases) it(parent.join(' '), () => expect(loaderFlagsOf(parent)).to.deep.equal(child));
});

describe('runtime/git: URLs', () => {
  it('never shows the credentials of a URL', () => {
    const cases: Array<[string, string]> = [
      ['https://ghp_secret@github.com/org/app.git', 'https://***@github.com/org/app.git'],
      ['https://user:pass@example.com/app.git', 'https://***@example.com/app.git'],
      ['file:///srv/app.git', 'file:///srv/app.git'],
      ['git@github.com:org/app.git', 'git@github.com:org/app.git'],
    ];
    for (const [url, shown] of cases) expect(redactUrl(url), url).to.equal(shown);
  });
});
