import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { needs, services } from '../../helpers/services.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import type { FixtureRepo } from '../../runtime/git/fixture-repo.js';
import { deploymentRepo, json, newWorkflow, scratch, seedManager, sourceRepo } from './fixtures.js';
import { startBuilder, type BuilderRun } from './harness.js';

interface Case {
  readonly title: string;
  readonly files?: Record<string, string | null>;
  readonly request?: Record<string, unknown>;
  /** The failure reason, exactly or as a pattern; `url` is the deployment repo's. */
  readonly reason: (url: string) => string | RegExp;
}

const CASES: readonly Case[] = [
  { title: 'docker.json missing', files: { 'docker.json': null }, reason: () => 'docker.json is missing from the deployment repo' },
  { title: 'docker.json not JSON', files: { 'docker.json': '{"docker_url": ' }, reason: () => /^docker\.json is not valid JSON: /u },
  { title: 'docker_url missing', files: { 'docker.json': json({}) }, reason: () => 'docker.json: docker_url is required' },
  { title: 'docker_url with a tag', files: { 'docker.json': json({ docker_url: 'registry:5000/app:latest' }) }, reason: () => /^docker\.json: docker_url: must be an image repository name/u },
  { title: 'unknown field', files: { 'fleet.json': json({ instance_count: 2 }) }, reason: () => 'fleet.json: unknown field "instance_count"' },
  { title: 'template error', files: { 'Dockerfile.eex': 'FROM x\nLABEL commit=<%= commit_hsh %>\n' }, reason: () => 'Dockerfile.eex line 2: commit_hsh is not defined' },
  { title: 'template syntax error', files: { 'Dockerfile.eex': 'FROM x\n<%= commit_hash\n' }, reason: () => /^Dockerfile\.eex: Could not find matching close tag/u },
  {
    title: 'bad unit',
    files: { 'units.json.eex': json({ units: [{ name: 'Web App', ports: [80] }] }) },
    reason: () => 'units.json: units[0].name: must be lower-case letters, digits, "_", "." or "-" (at most 63)',
  },
  { title: 'unknown deployment ref', request: { deployment_repo_git_ref: 'no-such-branch' }, reason: (url) => `git checkout of ${url}: ref "no-such-branch" is not a branch, tag or commit of the repository` },
  { title: 'unknown source ref', request: { source_repo_git_ref: 'v9.9.9' }, reason: () => /^git checkout of file:\/\/.*\/app-[0-9a-f]+\.git: ref "v9\.9\.9" is not a branch, tag or commit of the repository$/u },
  {
    title: 'no etcd.json for deploy_oa (reference §10.1 item 11)',
    files: { 'etcd.json': null },
    request: { milestones: ['config', 'deploy_oa'] },
    reason: () => 'etcd.json (or cluster.json) is missing from the deployment repo: a workflow with deploy or deploy_oa needs the token of its cluster',
  },
  { title: 'bad etcd token', files: { 'etcd.json': json({ token: 'a b' }) }, reason: () => 'etcd.json: token: must be a cluster token: letters, digits and . _ ~ -' },
  { title: 'unknown milestone', request: { current_step: 'deploy' }, reason: () => 'the Builder runs the config and build milestones, not "deploy"' },
];

forEachDatabase('Builder: a bad deployment repo fails the milestone with its own message', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h, kind) => {
  // The Builder only reaches the Manager over HTTP: one database engine shows it; the Manager's suites cover both.
  if (kind === 'postgresql') return;
  needs('docker', 'registry');
  let dirs: ReturnType<typeof scratch>;
  let builder: BuilderRun;
  let source: FixtureRepo;

  before(async function () {
    this.timeout(60_000);
    dirs = scratch();
    await seedManager(h());
    builder = await startBuilder(h(), { BUILDER_TMPDIR: dirs.builderTmp });
    source = sourceRepo(dirs.root);
  });
  after(async () => {
    await builder?.stop();
    rmSync(dirs.root, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const repo = deploymentRepo(dirs.root, source, `${services().registry}/never-built`, c.files ?? {});
      const id = await newWorkflow(h());
      const dispatch = await builder.request({ id, deployment_repo: repo.url, current_step: 'config', milestones: ['config', 'deploy'], ...c.request });
      const done = await builder.callback(dispatch);
      expect(done.type).to.equal(STEP_FAILED);
      const expected = c.reason(repo.url);
      if (typeof expected === 'string') expect(done.payload.failure_reason).to.equal(expected);
      else expect(done.payload.failure_reason).to.match(expected);
      expect(done.payload.event_log?.at(-1)).to.match(/Workflow Milestone Failed/);
      expect(dirs.leftovers()).to.deep.equal([]);
    });
  }
});
