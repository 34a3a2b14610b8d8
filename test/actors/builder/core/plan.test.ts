import { expect } from 'chai';
import {
  buildDecision,
  credentialsFor,
  forceBuildOf,
  imageRefOf,
  isStopped,
  logExchangesOf,
  milestoneOf,
  needsCluster,
  pickOne,
  repoUrlOf,
  sourceOf,
} from '../../../../actors/builder/core/plan.js';

describe('Builder core: plan', () => {
  it('runs config and build only', () => {
    expect(milestoneOf('config')).to.deep.equal({ ok: true, value: 'config' });
    expect(milestoneOf('build')).to.deep.equal({ ok: true, value: 'build' });
    expect(milestoneOf('deploy')).to.deep.equal({ ok: false, reason: 'the Builder runs the config and build milestones, not "deploy"' });
    expect(milestoneOf(undefined)).to.deep.equal({ ok: false, reason: 'the Builder runs the config and build milestones, not null' });
  });

  it('needs the cluster for deploy and deploy_oa (reference §10.1 item 11)', () => {
    const cases: Array<[string[], boolean]> = [
      [['build', 'deploy'], true],
      [['build', 'deploy_oa'], true],
      [['config', 'deploy_ecs'], false],
      [['build'], false],
    ];
    for (const [milestones, needed] of cases) expect(needsCluster(milestones), milestones.join()).to.equal(needed);
  });

  it('turns repository names into git URLs (reference §6.1)', () => {
    const cases: Array<[string, string | undefined, string]> = [
      ['org/app_docker', undefined, 'https://github.com/org/app_docker.git'],
      ['org/app_docker', 'tok', 'https://tok@github.com/org/app_docker.git'],
      ['https://github.com/org/app.git', undefined, 'https://github.com/org/app.git'],
      ['https://github.com/org/app/', 'tok', 'https://tok@github.com/org/app.git'],
      ['git@github.com:org/app.git', 'tok', 'git@github.com:org/app.git'],
      ['file:///srv/app.git', 'tok', 'file:///srv/app.git'],
      ['/srv/repos/app.git', undefined, '/srv/repos/app.git'],
      ['./app', undefined, './app'],
      ['https://gitlab.example.com/org/app.git', 'tok', 'https://gitlab.example.com/org/app.git'],
    ];
    for (const [repo, token, url] of cases) expect(repoUrlOf(repo, token), `${repo} ${token}`).to.equal(url);
  });

  it("takes the workflow's source repo and ref over source.json's", () => {
    const file = { source_repo: 'file:///a.git', source_repo_git_ref: 'release' };
    expect(sourceOf({ source_repo: null, source_repo_git_ref: null }, file)).to.deep.equal({ repo: 'file:///a.git', ref: 'release' });
    expect(sourceOf({ source_repo: 'file:///b.git', source_repo_git_ref: 'main' }, file)).to.deep.equal({ repo: 'file:///b.git', ref: 'main' });
    expect(sourceOf({ source_repo: '', source_repo_git_ref: '' }, undefined)).to.deep.equal({ repo: undefined, ref: undefined });
  });

  it('finds the registry and API name of an image', () => {
    const cases: Array<[string, { registry: string; api: { registry: string; repository: string } }]> = [
      ['127.0.0.1:5000/hello', { registry: '127.0.0.1:5000', api: { registry: '127.0.0.1:5000', repository: 'hello' } }],
      ['registry.example.com/org/app', { registry: 'registry.example.com', api: { registry: 'registry.example.com', repository: 'org/app' } }],
      ['localhost/app', { registry: 'localhost', api: { registry: 'localhost', repository: 'app' } }],
      ['org/app', { registry: 'docker.io', api: { registry: 'registry-1.docker.io', repository: 'org/app' } }],
      ['busybox', { registry: 'docker.io', api: { registry: 'registry-1.docker.io', repository: 'library/busybox' } }],
    ];
    for (const [url, expected] of cases) {
      expect(imageRefOf(url, 'abc'), url).to.deep.equal({ image: `${url}:abc`, repository: url, tag: 'abc', ...expected });
    }
  });

  it("uses docker.json's credentials, else the Builder's for the same registry", () => {
    const image = imageRefOf('127.0.0.1:5001/app', 'abc');
    const own = { username: 'env', password: 'p', url: '127.0.0.1:5001' };
    const repoCreds = { docker_url: '127.0.0.1:5001/app', docker_registry_username: 'repo', docker_registry_password: 'q' };
    expect(credentialsFor(image, repoCreds, own)).to.deep.equal({ registry: '127.0.0.1:5001', username: 'repo', password: 'q', email: undefined });
    expect(credentialsFor(image, { docker_url: '127.0.0.1:5001/app' }, own)).to.deep.equal({ registry: '127.0.0.1:5001', username: 'env', password: 'p', email: undefined });
    expect(credentialsFor(image, { docker_url: '127.0.0.1:5001/app' }, { ...own, url: 'https://127.0.0.1:5001/' })?.username).to.equal('env');
    expect(credentialsFor(image, { docker_url: '127.0.0.1:5001/app' }, { ...own, url: 'other:5000' })).to.equal(undefined);
    expect(credentialsFor(image, { docker_url: '127.0.0.1:5001/app' }, { username: 'env', password: 'p' })?.username).to.equal('env');
    expect(credentialsFor(image, { docker_url: '127.0.0.1:5001/app' }, undefined)).to.equal(undefined);
  });

  it('decides whether to build (reference §6.3 step 4)', () => {
    expect(buildDecision('r/app:1', true, false)).to.deep.equal({ build: false, message: 'The docker image r/app:1 already exists, skipping docker build' });
    expect(buildDecision('r/app:1', false, false)).to.deep.equal({ build: true, message: 'The docker image r/app:1 does not exist, requesting docker build' });
    expect(buildDecision('r/app:1', true, true)).to.deep.equal({ build: true, message: 'The force_build flag has been set, requesting docker build' });
    expect(forceBuildOf({ force_build: null, execute_options: { force_build: true } })).to.equal(true);
    expect(forceBuildOf({ force_build: false, execute_options: null })).to.equal(false);
  });

  it('picks a host with the randomness given, and stops for failed or completed workflows', () => {
    expect([0, 0.49, 0.5, 0.999999].map((r) => pickOne(['a', 'b'], r))).to.deep.equal(['a', 'a', 'b', 'b']);
    expect(pickOne([], 0.3)).to.equal(undefined);
    expect(isStopped({ workflow_error: true, workflow_completed: true })).to.equal(true);
    expect(isStopped({ workflow_error: null, workflow_completed: true })).to.equal(true);
    expect(isStopped({ workflow_error: false, workflow_completed: false })).to.equal(false);
  });

  it("sends build logs to each active Manager's exchange once, or to the fallback", () => {
    const m = (id: number, status: string | null = null) => ({ messaging_exchange_id: id, status });
    expect(logExchangesOf([m(2), m(1), m(2), m(3, 'inactive')], 9)).to.deep.equal([1, 2]);
    expect(logExchangesOf([], 9)).to.deep.equal([9]);
    expect(logExchangesOf([m(4, 'inactive')], undefined)).to.deep.equal([]);
  });
});
