import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { STEP_COMPLETED, STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import { sleep } from '../../../runtime/core/promises.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import type { FixtureRepo } from '../../runtime/git/fixture-repo.js';
import { commitDate, deploymentRepo, json, makeReadOnly, newWorkflow, registryTags, scratch, seedManager, sourceRepo } from './fixtures.js';
import { startBuilder, type BuilderRun, type Callback } from './harness.js';
import { openSse } from './sse.js';

const logOf = (c: Callback): string => (c.payload.event_log ?? []).join('\n');

forEachDatabase('Builder: config and build milestones on real git, Docker and registries', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h, kind) => {
  // The Builder only reaches the Manager over HTTP: one database engine shows it; the Manager's suites cover both.
  if (kind === 'postgresql') return;
  needs('docker', 'registry', 'registry-auth', 'sshd');
  let dirs: ReturnType<typeof scratch>;
  let builder: BuilderRun;
  let source: FixtureRepo;
  let deployment: FixtureRepo;
  const name = `oa-builder-${randomUUID().slice(0, 8)}`;
  const images: string[] = [];
  /** The image the first build made. */
  let image: string;
  /** The image a milestone named, remembered for removal. */
  const imageOf = (c: Callback): string => {
    const built = c.payload.docker_image ?? expect.fail(`no docker_image in the callback: ${logOf(c)}`);
    images.push(built);
    return built;
  };

  before(async function () {
    this.timeout(60_000);
    dirs = scratch();
    await seedManager(h());
    builder = await startBuilder(h(), { BUILDER_TMPDIR: dirs.builderTmp, BUILDER_CANCEL_POLL_S: '0.5' });
    source = sourceRepo(dirs.root);
    deployment = deploymentRepo(dirs.root, source, `${services().registry}/${name}`);
  });
  after(async () => {
    await builder?.stop();
    for (const image of images) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    rmSync(dirs.root, { recursive: true, force: true });
  });

  /** Runs one milestone through the Builder's queue; its callback. */
  const run = async (fields: Record<string, unknown> & { current_step: string }, repo = deployment, workflowId?: string) => {
    const id = workflowId ?? (await newWorkflow(h()));
    const dispatch = await builder.request({ id, deployment_repo: repo.url, docker_build_etcd_token: 'build-local', milestones: [fields.current_step, 'deploy'], ...fields });
    const callback = await builder.callback(dispatch);
    expect(dirs.leftovers(), 'the temporary directories left behind').to.deep.equal([]);
    return callback;
  };

  it('builds, pushes <registry>/<name>:<sha>-<context hash> (listed by the registry API) and streams a RUN line to the Manager build-log endpoint', async () => {
    const sha = source.head();
    const id = await newWorkflow(h());
    const logs = await openSse(`${h().baseUrl}/workflows/${id}/build_logs`, h().tokens.viewer);
    await waitFor('the subscription', () => logs.comments.includes('subscribed'));
    const done = await run({ current_step: 'build' }, deployment, id);
    logs.close();
    image = imageOf(done);
    expect(done.type, logOf(done)).to.equal(STEP_COMPLETED);
    expect(image).to.match(new RegExp(`^${services().registry}/${name}:${sha}-[0-9a-f]{12}$`));
    expect(done.payload).to.deep.include({
      current_step: 'build',
      source_repo_git_ref: sha,
      etcd_token: 'prod-cluster',
      fleet_config: { instance_cnt: 2 },
      notifications_config: { email: { events: { on_workflow_completed: ['ops@example.com'] } } },
    });
    expect(done.payload.deployable_units).to.deep.equal([
      { name: 'web', ports: [8080], environment: { COMMIT: sha }, health: { http: { path: '/', timeout_seconds: 60, interval_seconds: 1 } } },
    ]);
    expect(await registryTags(services().registry, name)).to.deep.equal([image.split(':').pop()]);
    expect(deployment.subjects()[0]).to.equal(`Deployment for commit ${sha}`);
    expect(deployment.show('Dockerfile')).to.include(`LABEL commit=${sha} committed="${commitDate(source, sha)}"`);
    const relayed = logs.events.filter((e) => e.event === 'build_log').flatMap((e) => (e.data as { logs: string[] }).logs);
    expect(relayed).to.include(`building ${sha}`);
    expect(relayed).to.include('hello from the source repo');
    expect(logOf(done)).to.match(/does not exist, requesting docker build/);
    expect(logOf(done)).to.match(/Beginning docker image build of .* on docker host local \(unix:\/\//);
  });

  it('runs config: nothing to commit the second time, and the image is verified', async () => {
    const before = deployment.head();
    const done = await run({ current_step: 'config' });
    expect(done.type, logOf(done)).to.equal(STEP_COMPLETED);
    expect(deployment.head()).to.equal(before);
    expect(logOf(done)).to.include('There are no files to commit');
    expect(logOf(done)).to.include(`Verified ${image} exists in docker repo`);
  });

  it('skips a build whose tag is in the registry, and rebuilds it with force_build', async () => {
    const skipped = await run({ current_step: 'build' });
    expect(skipped.type, logOf(skipped)).to.equal(STEP_COMPLETED);
    expect(logOf(skipped)).to.match(/already exists, skipping docker build/);
    expect(logOf(skipped)).not.to.match(/Beginning docker image build/);
    const forced = await run({ current_step: 'build', force_build: true });
    expect(forced.type, logOf(forced)).to.equal(STEP_COMPLETED);
    expect(logOf(forced)).to.match(/The force_build flag has been set, requesting docker build[\s\S]*Beginning docker image build/);
  });

  it('renders and pushes the templates of a new source commit once, and fails config while its image is not built', async () => {
    const sha = source.commit({ 'index.txt': 'version 2\n' }, 'v2');
    const first = await run({ current_step: 'config' });
    expect(first.type).to.equal(STEP_FAILED);
    expect(first.payload.failure_reason).to.match(
      new RegExp(`^Docker image ${services().registry}/${name}:${sha}-([0-9a-f]{12}) not found in registry ${services().registry}: run a build milestone for commit ${sha} with this deployment repo \\(build context \\1\\) first$`),
    );
    expect(deployment.subjects()[0]).to.equal(`Deployment for commit ${sha}`);
    const head = deployment.head();
    const second = await run({ current_step: 'config' });
    expect(second.type).to.equal(STEP_FAILED);
    expect(deployment.head()).to.equal(head);
    expect(logOf(second)).to.include('There are no files to commit');
    expect(deployment.subjects().filter((subject) => subject === `Deployment for commit ${sha}`)).to.have.length(1);
  });

  it('builds through an ssh:// Docker host of the docker-build cluster', async () => {
    const done = await run({ current_step: 'build', force_build: true, docker_build_etcd_token: 'build-ssh' });
    expect(done.type, logOf(done)).to.equal(STEP_COMPLETED);
    const { user, host, port } = services().ssh;
    expect(logOf(done)).to.include(`on docker host over-ssh (ssh://${user}@${host}:${port})`);
    expect(logOf(done)).to.include(`Verified ${imageOf(done)} exists in docker repo`);
  });

  it('pushes to a registry with htpasswd auth with the right credentials, and fails naming the user with wrong ones', async () => {
    const { host: registry, user, password } = services().registryAuth;
    const repoFor = (pass: string) =>
      deploymentRepo(dirs.root, source, `${registry}/${name}`, {
        'docker.json': json({ docker_url: `${registry}/${name}`, docker_registry_username: user, docker_registry_password: pass }),
        'etcd.json': null,
        'cluster.json': json({ token: 'via-alias' }),
      });
    const good = await run({ current_step: 'build' }, repoFor(password));
    expect(good.type, logOf(good)).to.equal(STEP_COMPLETED);
    expect(good.payload.etcd_token).to.equal('via-alias');
    expect(await registryTags(registry, name, { user, password })).to.deep.equal([imageOf(good).split(':').pop()]);
    const bad = await run({ current_step: 'build', force_build: true }, repoFor('wrong-password'));
    expect(bad.type).to.equal(STEP_FAILED);
    expect(bad.payload.failure_reason).to.equal(`registry ${registry} refused the credentials for user ${user}`);
  });

  it('works with a deployment repo it cannot push to, and says so in the event log', async () => {
    const readOnly = deploymentRepo(dirs.root, source, `${services().registry}/${name}`);
    makeReadOnly(readOnly);
    const before = readOnly.head();
    const done = await run({ current_step: 'build', force_build: true }, readOnly);
    expect(done.type, logOf(done)).to.equal(STEP_COMPLETED);
    expect(readOnly.head()).to.equal(before);
    expect(logOf(done)).to.match(/Rendered Dockerfile, units\.json for this milestone, but could not push them \(git push of file:\/\/.*: \[remote rejected\] \(pre-receive hook declined\): this repository is read-only\); the deployment repo keeps its old files/);
  });

  it('stops a build when its workflow is cancelled during a long RUN step, leaves no temporary directory, and reports nothing after the cancel', async () => {
    const slow = deploymentRepo(dirs.root, source, `${services().registry}/${name}-slow`, {
      'Dockerfile.eex': `FROM ${services().baseImage}\nRUN echo "sleeping for <%= commit_hash %>" && sleep 60\n`,
    });
    const id = await newWorkflow(h());
    const logs = await openSse(`${h().baseUrl}/workflows/${id}/build_logs`, h().tokens.viewer);
    const dispatch = await builder.request({ id, deployment_repo: slow.url, current_step: 'build', docker_build_etcd_token: 'build-local', milestones: ['build'] });
    const relayed = () => logs.events.flatMap((e) => (e.event === 'build_log' ? (e.data as { logs: string[] }).logs : []));
    await waitFor('the long step', () => relayed().includes(`sleeping for ${source.head()}`), 60_000);
    const cancelledAt = Date.now();
    expect((await h().call('POST', `/workflows/${id}/cancel`, { token: h().tokens.operator })).status).to.equal(204);
    const cancelled = (await h().call('GET', `/workflows/${id}`, { token: h().tokens.viewer })).body as { event_log: string[] };
    await waitFor('the build stopped and its workspace removed', () => dirs.leftovers().length === 0, 30_000);
    const stoppedMs = Date.now() - cancelledAt;
    await logs.ended;
    process.stdout.write(`      (cancel -> build stopped: ${stoppedMs} ms, poll interval 500 ms)\n`);
    expect(logs.events.at(-1)?.event).to.equal('end');
    // The workflow ended with the cancel: the Builder's report of it is refused, so nothing overwrites the final lines.
    // Its failure report follows the workspace's removal within milliseconds; a callback would be here within a second.
    await sleep(1_000);
    expect(builder.callbacksOf(dispatch)).to.deep.equal([]);
    expect(((await h().call('GET', `/workflows/${id}`, { token: h().tokens.viewer })).body as { event_log: string[] }).event_log).to.deep.equal(cancelled.event_log);
  });
});
