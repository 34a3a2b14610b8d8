import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { STEP_COMPLETED, STEP_FAILED } from '../../../actors/orchestrator/messages.js';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { needs, services } from '../../helpers/services.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import type { FixtureRepo } from '../../runtime/git/fixture-repo.js';
import { deploymentRepo, manifestDigest, newWorkflow, registryTags, scratch, seedManager, sourceRepo } from './fixtures.js';
import { startBuilder, type BuilderRun, type Callback } from './harness.js';

const logOf = (c: Callback): string => (c.payload.event_log ?? []).join('\n');
const tagOf = (image: string | null | undefined): string => image?.split(':').pop() ?? expect.fail('no image');
/** The image a build milestone decided about, from its event log (a failed build carries no docker_image). */
const decidedImage = (c: Callback): string => /The docker image (\S+) (?:does not exist|already exists)/.exec(logOf(c))?.[1] ?? expect.fail(logOf(c));

/**
 * Issue 14 items 1 and 2: rendering is a pure function of the workflow's inputs, so a redelivered request commits and
 * pushes nothing; the image's tag names the source commit and the deployment repo's build context, so a
 * Dockerfile-only change is built (and a broken one fails) while the same inputs are built and pushed once.
 */
forEachDatabase('Builder: renders the same files on a re-run, and names images by what they are built from', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h, kind) => {
  // The Builder only reaches the Manager over HTTP: one database engine shows it; the Manager's suites cover both.
  if (kind === 'postgresql') return;
  needs('docker', 'registry');
  const name = `oa-identity-${randomUUID().slice(0, 8)}`;
  const committedAt = '2020-02-03T04:05:06Z';
  const images: string[] = [];
  let dirs: ReturnType<typeof scratch>;
  let builder: BuilderRun;
  let deployment: FixtureRepo;
  let sha: string;
  let workflowId: string;
  let configDispatch: string;
  let firstImage: string;

  before(async function () {
    this.timeout(60_000);
    dirs = scratch();
    await seedManager(h());
    builder = await startBuilder(h(), { BUILDER_TMPDIR: dirs.builderTmp });
    const source = sourceRepo(dirs.root);
    sha = source.commitAt(committedAt);
    deployment = deploymentRepo(dirs.root, source, `${services().registry}/${name}`);
    workflowId = await newWorkflow(h(), ['config', 'deploy']);
  });
  after(async () => {
    await builder?.stop();
    for (const image of images) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    rmSync(dirs.root, { recursive: true, force: true });
  });

  const renders = (): string[] => deployment.subjects().filter((s) => s === `Deployment for commit ${sha}`);
  const build = async (fields: Record<string, unknown> = {}): Promise<Callback> => {
    const id = await newWorkflow(h(), ['build', 'deploy']);
    const done = await builder.callback(await builder.request({ id, deployment_repo: deployment.url, current_step: 'build', docker_build_etcd_token: 'build-local', milestones: ['build', 'deploy'], ...fields }));
    images.push(decidedImage(done));
    return done;
  };

  it('commits the render once when the same config request is delivered twice, with the source commit time as timestamp', async () => {
    const request = { id: workflowId, deployment_repo: deployment.url, current_step: 'config', milestones: ['config', 'deploy'] };
    configDispatch = await builder.request(request);
    const [first] = await builder.callbacks(configDispatch, 1);
    const head = deployment.head();
    expect(renders()).to.have.length(1);
    expect(deployment.show('Dockerfile')).to.include(`LABEL commit=${sha} committed="Mon, 03 Feb 2020 04:05:06 GMT"`);
    expect(execFileSync('git', ['-C', deployment.bareDir, 'log', '-1', '--format=%B'], { encoding: 'utf8' })).to.include(`OpenAperture-Workflow: ${workflowId}`);

    // Run again by a Builder that does not remember it (a restarted process): the same process drops the copy.
    await builder.restart();
    await builder.republish(configDispatch);
    const [, second] = await builder.callbacks(configDispatch, 2);
    expect(deployment.head(), 'no new commit, nothing pushed').to.equal(head);
    expect(renders()).to.have.length(1);
    expect(logOf(second!)).to.include(`There are no files to commit: this workflow's render is already the head of the deployment repo (${head.slice(0, 7)}), nothing is pushed again`);
    // Not built yet: both attempts name the same image, so the identity is the same on a re-run.
    expect(first!.type).to.equal(STEP_FAILED);
    expect(second!.payload.failure_reason).to.equal(first!.payload.failure_reason);
    expect(dirs.leftovers()).to.deep.equal([]);
  });

  it('verifies in config the very image the build milestone made from the same inputs', async () => {
    const built = await build();
    expect(built.type, logOf(built)).to.equal(STEP_COMPLETED);
    firstImage = built.payload.docker_image ?? expect.fail('no docker_image');
    expect(tagOf(firstImage)).to.match(new RegExp(`^${sha}-[0-9a-f]{12}$`));
    await builder.restart();
    await builder.republish(configDispatch);
    const [, , third] = await builder.callbacks(configDispatch, 3);
    expect(third!.type, logOf(third!)).to.equal(STEP_COMPLETED);
    expect(third!.payload.docker_image).to.equal(firstImage);
    expect(logOf(third!)).to.include(`Verified ${firstImage} exists in docker repo`);
    expect(renders()).to.have.length(1);
  });

  it('builds the same inputs once: a second build is a no-op that pushes nothing', async () => {
    const digest = await manifestDigest(services().registry, name, tagOf(firstImage));
    expect(digest).to.match(/^sha256:/);
    const again = await build();
    expect(again.type, logOf(again)).to.equal(STEP_COMPLETED);
    expect(again.payload.docker_image).to.equal(firstImage);
    expect(logOf(again)).to.include(`The docker image ${firstImage} already exists, skipping docker build`);
    expect(logOf(again)).not.to.match(/Beginning docker image build|Built and pushed/);
    expect(await manifestDigest(services().registry, name, tagOf(firstImage)), 'the tag was not pushed again').to.equal(digest);
    expect(await registryTags(services().registry, name)).to.deep.equal([tagOf(firstImage)]);
  });

  it('builds a Dockerfile-only change of the same source commit under a new tag, and fails a broken one instead of keeping the old image', async () => {
    deployment.commit({ 'Dockerfile.eex': `FROM ${services().baseImage}\nRUN echo "second recipe for <%= commit_hash %>"\n` }, 'a new recipe');
    const changed = await build();
    expect(changed.type, logOf(changed)).to.equal(STEP_COMPLETED);
    const secondImage = changed.payload.docker_image ?? expect.fail('no docker_image');
    expect(tagOf(secondImage)).to.match(new RegExp(`^${sha}-[0-9a-f]{12}$`)).and.not.equal(tagOf(firstImage));
    expect(logOf(changed)).to.match(/does not exist, requesting docker build[\s\S]*Beginning docker image build[\s\S]*Built and pushed/);
    expect((await registryTags(services().registry, name)).sort()).to.deep.equal([tagOf(firstImage), tagOf(secondImage)].sort());

    deployment.commit({ 'Dockerfile.eex': `FROM ${services().baseImage}\nRUN false\n` }, 'a broken recipe');
    const broken = await build();
    expect(broken.type).to.equal(STEP_FAILED);
    expect(broken.payload.failure_reason).to.match(/returned a non-zero code: 1/);
    const brokenTag = tagOf(decidedImage(broken));
    expect(brokenTag).to.match(new RegExp(`^${sha}-`)).and.not.be.oneOf([tagOf(firstImage), tagOf(secondImage)]);
    expect(await registryTags(services().registry, name)).not.to.include(brokenTag);
    const config = await builder.callback(await builder.request({ id: await newWorkflow(h(), ['config', 'deploy']), deployment_repo: deployment.url, current_step: 'config', milestones: ['config', 'deploy'] }));
    expect(config.type, 'config finds no image of the broken recipe').to.equal(STEP_FAILED);
    expect(config.payload.failure_reason).to.match(new RegExp(`^Docker image \\S+:${brokenTag} not found in registry`));
  });
});
