import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AnyRoute } from '../../../http/route.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { sleep } from '../../../runtime/core/promises.js';
import { awaiting } from '../../helpers/dispatch.js';
import { needs, services } from '../../helpers/services.js';
import { forEachDatabase, type HarnessDeps } from '../../http/harness.js';
import type { FixtureRepo } from '../../runtime/git/fixture-repo.js';
import { deploymentRepo, newWorkflow, scratch, seedManager, sourceRepo } from './fixtures.js';
import { startBuilder, type BuilderRun } from './harness.js';

/**
 * Issue 14 item 1 through the Builder as the runtime starts it: a request its workflow no longer waits for changes
 * nothing (no commit, no callback) and says why; two copies of one dispatch arriving together run once.
 */
forEachDatabase('Builder: effects keyed by dispatch', MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>, (h, kind) => {
  if (kind === 'postgresql') return;
  needs('docker', 'registry');
  let dirs: ReturnType<typeof scratch>;
  let builder: BuilderRun;
  let deployment: FixtureRepo;

  before(async function () {
    this.timeout(60_000);
    dirs = scratch();
    await seedManager(h());
    builder = await startBuilder(h(), { BUILDER_TMPDIR: dirs.builderTmp, BUILDER_CONCURRENCY: '1' });
    deployment = deploymentRepo(dirs.root, sourceRepo(dirs.root), `${services().registry}/oa-dispatch-${randomUUID().slice(0, 8)}`);
  });
  after(async () => {
    await builder?.stop();
    if (dirs !== undefined) rmSync(dirs.root, { recursive: true, force: true });
  });

  const config = (id: string) => ({ id, deployment_repo: deployment.url, current_step: 'config', docker_build_etcd_token: 'build-local', milestones: ['config', 'deploy'] });
  const save = async (id: string, fields: Record<string, unknown>) => expect((await h().call('PUT', `/workflows/${id}`, { token: h().tokens.admin, body: fields })).status).to.equal(204);
  /** One at a time, in order: once a later request is answered, the resend before it has been handled. */
  const handled = async () => builder.callback(await builder.request(config(await newWorkflow(h(), ['config', 'deploy']))));

  // The log line saying why is checked in test/actors/shared/dispatch.test.ts (actors log to the process's stdout).
  it('drops a resent request once its workflow has moved on or finished: no commit and no callback', async () => {
    const id = await newWorkflow(h(), ['config', 'deploy']);
    const dispatch = await builder.request(config(id));
    await builder.callback(dispatch);
    const commits = deployment.subjects();
    expect(commits.filter((s) => s.startsWith('Deployment for commit'))).to.have.length(1);

    await save(id, awaiting('deploy'));
    await builder.republish(dispatch);
    await handled();
    await save(id, { workflow_completed: true, current_step: 'workflow_completed' });
    await builder.republish(dispatch);
    await handled();

    expect(builder.callbacksOf(dispatch)).to.have.length(1);
    expect(deployment.subjects()).to.deep.equal(commits);
  });

  it('runs two copies of one dispatch that arrive together once, with Builders running two milestones at a time', async () => {
    await builder.stop();
    builder = await startBuilder(h(), { BUILDER_TMPDIR: dirs.builderTmp, BUILDER_CONCURRENCY: '2' });
    const id = await newWorkflow(h(), ['config', 'deploy']);
    const dispatch = await builder.request(config(id));
    await builder.republish(dispatch);
    await builder.callback(dispatch);
    // Unguarded, the copy would run beside the first and call back about as soon.
    await sleep(2_000);
    expect(builder.callbacksOf(dispatch)).to.have.length(1);
  });
});
