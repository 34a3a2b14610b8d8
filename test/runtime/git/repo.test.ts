import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneRepo, isGitError, redactUrl, type GitError } from '../../../runtime/git/repo.js';
import { rejectionOf } from '../../helpers/wait.js';
import { fixtureRepo, type FixtureRepo } from './fixture-repo.js';

describe('runtime/git: clone, checkout, commit and push on real repositories', function () {
  this.timeout(30_000);
  let root: string;
  let origin: FixtureRepo;
  let n = 0;
  const nextDir = (): string => join(root, `clone-${++n}`);

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'oa-git-'));
    origin = fixtureRepo(root, 'app', { 'README.md': 'v1\n' });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('clones a file:// URL at its default branch, and a plain path', async () => {
    const byUrl = await cloneRepo({ url: origin.url, dir: nextDir() });
    const byPath = await cloneRepo({ url: origin.bareDir, dir: nextDir() });
    expect(await byUrl.headSha()).to.equal(origin.head());
    expect(await byPath.headSha()).to.equal(origin.head());
  });

  it('checks out a branch, a tag and a commit, and resolves each to its sha', async () => {
    const first = origin.head();
    origin.tag('v1', first);
    const feature = origin.commit({ 'feature.txt': 'f\n' }, 'feature', 'feature');
    const shaOf = async (ref: string) => (await cloneRepo({ url: origin.url, dir: nextDir(), ref })).headSha();
    expect(await shaOf('feature')).to.equal(feature);
    expect(await shaOf('v1')).to.equal(first);
    expect(await shaOf(first)).to.equal(first);
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
