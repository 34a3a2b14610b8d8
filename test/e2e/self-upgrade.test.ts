import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LABELS } from '../../actors/deployer/messages.js';
import type { ManagerClient, SystemComponent, Workflow } from '../../http/client/manager-client.js';
import { dockerHost } from '../../runtime/docker/host.js';
import { needs, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import {
  adminClient,
  adminSecretOf,
  adminToken,
  completion,
  freePort,
  hostPortsOf,
  postAsAdmin,
  removeContainersOf,
  startTopology,
  type PlatformProcess,
  workTree,
} from './platform.js';

const MAKE_REPOS = fileURLToPath(new URL('../../deploy/examples/hello/make-repos.sh', import.meta.url));
const UNIT = 'builder';

/**
 * The hello example as the `builder` component's repos: the deployment repo runs one unit named `builder` from an image
 * of its own (so other suites' `hello` units and images are left alone); the source repo has three commits, v1 (the
 * example), v2 (its page says v2) and v3 (never built).
 */
function builderRepos() {
  const dir = mkdtempSync(join(tmpdir(), 'oa-e2e-upgrade-repos-'));
  execFileSync('bash', [MAKE_REPOS, dir], { stdio: 'ignore' });
  const deployment = workTree(join(dir, 'hello_docker'));
  const units = { units: [{ name: UNIT, ports: [8080], health: { http: { path: '/', timeout_seconds: 60, interval_seconds: 1 } } }] };
  deployment.commit('the builder component', {
    'units.json': JSON.stringify(units, null, 2),
    'docker.json': JSON.stringify({ docker_url: `${services().registry}/oa-e2e-self-upgrade` }),
  });
  const source = workTree(join(dir, 'hello'));
  const page = join(source.work, 'index.html');
  const original = readFileSync(page, 'utf8');
  const v1 = source.head();
  const v2 = source.commit('v2', { 'index.html': original.replace('Hello from OpenAperture!', 'Hello from OpenAperture v2!') });
  const v3 = source.commit('v3', { 'index.html': original.replace('Hello from OpenAperture!', 'Hello from OpenAperture v3!') });
  return { dirs: [dir, deployment.work, source.work], deployment: `file://${dir}/hello_docker`, source: `file://${dir}/hello`, v1, v2, v3 };
}

type Repos = ReturnType<typeof builderRepos>;

async function runWorkflow(client: ManagerClient, repos: Repos, ref: string, milestones: string[]): Promise<Workflow> {
  const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, source_repo_git_ref: ref, milestones });
  expect(await client.workflows.execute(id)).to.include({ queued: true });
  const done = await completion(client, id, 240_000);
  expect(done.workflow_error, (done.event_log ?? []).join('\n')).to.equal(false);
  return done;
}

/** Whether the component's upgrade to `target` is over: done at it, failed (or refused) trying it. */
function endedAt(c: SystemComponent | undefined, target: string): boolean {
  if (c?.status === 'upgrade_completed') return c.source_repo_git_ref === target;
  if (c?.status === 'ineligible_for_upgrade') return true;
  return c?.status === 'upgrade_failed' && c.upgrade_status?.['target_source_repo_git_ref'] === target;
}

/** The component once its Overseer is done with the upgrade to `target`. */
async function upgradeOutcome(client: ManagerClient, id: number, target: string): Promise<SystemComponent> {
  return waitFor(
    `system component ${id} to end its upgrade to ${target}`,
    async () => {
      const c = await client.systemComponents.get(id);
      return endedAt(c, target) ? c : undefined;
    },
    300_000,
  );
}

/** The one upgrade workflow the Overseer created for a target commit (the only workflows with `deploy_oa`). */
async function upgradeWorkflow(client: ManagerClient, repos: Repos, ref: string, workflows: string[]): Promise<Workflow> {
  const page = await client.workflows.list({ deployment_repo: repos.deployment, lookback: 0, limit: 100 });
  const found = page.items.filter((w) => w.source_repo_git_ref === ref && w.milestones?.includes('deploy_oa'));
  workflows.push(...found.map((w) => w.id));
  expect(found, `upgrade workflows to ${ref}`).to.have.length(1);
  return found[0] ?? expect.fail('no upgrade workflow');
}

/** Containers of the unit on the local Docker host: their workflow and commit labels. */
async function unitContainers(): Promise<Array<{ workflow: string; commit: string; state: string }>> {
  const host = dockerHost({ name: 'local', url: `unix://${services().dockerSocket}` });
  try {
    const list = await host.call('list', (api) => api.listContainers({ all: true, filters: { label: [`${LABELS.unit}=${UNIT}`, `${LABELS.cluster}=local`] } }));
    return list.map((c) => ({ workflow: c.Labels[LABELS.workflow] ?? '', commit: c.Labels[LABELS.commit] ?? '', state: c.State }));
  } finally {
    await host.close();
  }
}

async function pageOf(workflowId: string): Promise<string> {
  const ports = await hostPortsOf(workflowId);
  expect(ports, `host ports of workflow ${workflowId}`).to.have.length(1);
  return (await fetch(`http://127.0.0.1:${ports[0]}/`)).text();
}

/**
 * Issue 8: the platform upgrades its own `builder` component. The example deployment repo stands for the builder's:
 * v1 runs, v2's image is in the registry; an upgrade request makes the Overseer create `[config, deploy_oa]`, the
 * Deployer OA replaces the v1 container with v2, and the component ends `upgrade_completed` at v2. An upgrade to a
 * commit whose image was never built fails in `config` and the component ends `upgrade_failed` naming the workflow.
 */
describe('e2e: the platform upgrades its builder component', function () {
  this.timeout(900_000);
  needs('docker', 'registry');
  let data: string;
  let platform: PlatformProcess | undefined;
  let made: Repos | undefined;
  const workflows: string[] = [];

  before(() => {
    data = mkdtempSync(join(tmpdir(), 'oa-e2e-upgrade-data-'));
    made = builderRepos();
  });
  after(async () => {
    await platform?.stop();
    for (const id of workflows) await removeContainersOf(id);
    for (const dir of [data, ...(made?.dirs ?? [])]) rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades v1 to v2 with [config, deploy_oa], then fails an upgrade to an image never built, with the reason', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    platform = startTopology('all-in-one', {
      ...process.env,
      OA_DATA_DIR: data,
      MANAGER_HTTP_PORT: String(port),
      DOCKER_HOST: `unix://${services().dockerSocket}`,
      OA_UPGRADE_MONITOR_PERIOD_S: '1',
      OA_LOG_LEVEL: 'warn',
    });
    const secret = await adminSecretOf(platform);
    const repos = made ?? expect.fail('the repos were not made');
    const client = adminClient(baseUrl, secret);
    await waitFor(
      'the builder, deployers and overseer to register through their heartbeats',
      async () => {
        const types = new Set((await client.exchangeModules.list(1)).items.filter((m) => m.status === 'active').map((m) => m.type));
        return ['builder', 'deployer', 'overseer'].every((t) => types.has(t));
      },
      120_000,
    );

    const v1 = await runWorkflow(client, repos, repos.v1, ['build', 'deploy']);
    workflows.push(v1.id);
    expect(v1.source_commit_hash).to.equal(repos.v1);
    expect(await pageOf(v1.id)).to.include('Hello from OpenAperture!').and.include(repos.v1);
    const v2Build = await runWorkflow(client, repos, repos.v2, ['build']);
    workflows.push(v2Build.id);

    const token = await adminToken(baseUrl, secret);
    await client.systemComponentRefs.update('builder', { type: 'builder', source_repo: repos.source, source_repo_git_ref: repos.v2, auto_upgrade_enabled: true });
    const location = await postAsAdmin(baseUrl, token, '/system_components', {
      messaging_exchange_id: 1,
      type: 'builder',
      source_repo: repos.source,
      source_repo_git_ref: repos.v1,
      deployment_repo: repos.deployment,
      deployment_repo_git_ref: 'main',
      upgrade_strategy: 'manual',
    });
    const componentId = Number(location.split('/').pop());

    await client.systemComponents.requestUpgrade(componentId);
    const upgraded = await upgradeOutcome(client, componentId, repos.v2);
    expect(upgraded.status, JSON.stringify(upgraded.upgrade_status)).to.equal('upgrade_completed');
    expect(upgraded).to.include({ source_repo: repos.source, source_repo_git_ref: repos.v2, deployment_repo: repos.deployment });
    const upgrade = await upgradeWorkflow(client, repos, repos.v2, workflows);
    expect(upgrade.milestones).to.deep.equal(['config', 'deploy_oa']);
    expect(upgrade).to.include({ workflow_completed: true, workflow_error: false, source_commit_hash: repos.v2 });

    expect(await pageOf(upgrade.id)).to.include('Hello from OpenAperture v2!').and.include(repos.v2);
    expect(await unitContainers()).to.deep.equal([{ workflow: upgrade.id, commit: repos.v2, state: 'running' }]);

    await client.systemComponentRefs.update('builder', { type: 'builder', source_repo: repos.source, source_repo_git_ref: repos.v3, auto_upgrade_enabled: true });
    await client.systemComponents.requestUpgrade(componentId);
    const failed = await upgradeOutcome(client, componentId, repos.v3);
    const attempt = await upgradeWorkflow(client, repos, repos.v3, workflows);
    expect(failed.status).to.equal('upgrade_failed');
    expect(failed.upgrade_status).to.include({ failure_reason: `Workflow ${attempt.id} has failed`, target_source_repo_git_ref: repos.v3 });
    expect(failed.source_repo_git_ref, 'the component still runs v2').to.equal(repos.v2);
    const failedRun = await completion(client, attempt.id, 10_000);
    expect(failedRun).to.include({ workflow_error: true });
    expect((failedRun.event_log ?? []).join('\n')).to.match(new RegExp(`oa-e2e-self-upgrade:${repos.v3}-[0-9a-f]{12} not found in registry`));
    expect(await unitContainers(), 'the v2 container is left running').to.deep.equal([{ workflow: upgrade.id, commit: repos.v2, state: 'running' }]);

    expect(await platform.stop()).to.equal(0);
  });
});
