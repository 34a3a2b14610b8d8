import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { services } from '../../helpers/services.js';
import type { ApiHarness } from '../../http/harness.js';
import { fixtureRepo, type FixtureRepo } from '../../runtime/git/fixture-repo.js';

/** A temporary root for repositories, and the Builder's BUILDER_TMPDIR inside it. */
export function scratch(): { root: string; builderTmp: string; leftovers(): string[] } {
  const root = mkdtempSync(join(tmpdir(), 'oa-builder-test-'));
  const builderTmp = join(root, 'builder-tmp');
  return { root, builderTmp, leftovers: () => readdirSync(builderTmp) };
}

export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The source repo: one file the image copies, and notification settings (reference §6.2). */
export function sourceRepo(root: string, name = `app-${randomUUID().slice(0, 6)}`): FixtureRepo {
  return fixtureRepo(root, name, {
    'index.txt': 'hello from the source repo\n',
    'openaperture.json': json({ deployments: { notifications: { email: { events: { on_workflow_completed: ['ops@example.com'] } } } } }),
  });
}

/** A deployment repo of the brief's format; `files` overrides or (null) removes its defaults. */
export function deploymentRepo(root: string, source: FixtureRepo, dockerUrl: string, files: Record<string, string | null> = {}): FixtureRepo {
  const defaults: Record<string, string> = {
    'Dockerfile.eex': [
      `FROM ${services().baseImage}`,
      'COPY source/ /app/',
      'RUN echo "building <%= commit_hash %>" && cat /app/index.txt',
      'LABEL commit=<%= commit_hash %> committed="<%= timestamp %>"',
      '',
    ].join('\n'),
    'docker.json': json({ docker_url: dockerUrl }),
    'source.json': json({ source_repo: source.url, source_repo_git_ref: 'main' }),
    'etcd.json': json({ token: 'prod-cluster' }),
    'fleet.json': json({ instance_cnt: 2 }),
    'units.json.eex': json({ units: [{ name: 'web', ports: [8080], environment: { COMMIT: '<%= commit_hash %>' }, health: { http: { path: '/' } } }] }),
  };
  const merged = { ...defaults, ...files };
  const present = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== null));
  return fixtureRepo(root, `deploy-${randomUUID().slice(0, 6)}`, present);
}

/** A commit's committer date as the templates' `timestamp` renders it (RFC 1123). */
export function commitDate(repo: FixtureRepo, sha: string): string {
  return new Date(execFileSync('git', ['-C', repo.bareDir, 'show', '--no-patch', '--format=%cI', sha], { encoding: 'utf8' }).trim()).toUTCString();
}

/** Makes a bare repository refuse every push, as a read-only remote does. */
export function makeReadOnly(repo: FixtureRepo): void {
  const hook = join(repo.bareDir, 'hooks', 'pre-receive');
  writeFileSync(hook, '#!/bin/sh\necho "this repository is read-only" >&2\nexit 1\n');
  chmodSync(hook, 0o755);
}

/** Seeds the Manager: an exchange with a Manager component (where build logs go) and the docker-build clusters. */
export async function seedManager(h: ApiHarness): Promise<void> {
  const seed = async (path: string, body: unknown): Promise<string | null> => {
    const res = await h.call('POST', path, { token: h.tokens.admin, body });
    if (res.status >= 300) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.headers.get('location');
  };
  const exchange = await seed('/messaging/exchanges', { name: 'local' });
  if (!exchange?.endsWith('/1')) throw new Error(`the seeded exchange is not 1: ${exchange}`);
  await seed('/system_components', {
    messaging_exchange_id: 1,
    type: 'manager',
    source_repo: 'org/manager',
    source_repo_git_ref: 'main',
    deployment_repo: 'org/manager_docker',
    deployment_repo_git_ref: 'main',
    upgrade_strategy: 'manual',
  });
  await seed('/clusters', { etcd_token: 'build-local', allow_docker_builds: true });
  await seed('/clusters/build-local/hosts', { name: 'local', docker_url: `unix://${services().dockerSocket}` });
  const ssh = services().ssh;
  await seed('/clusters', { etcd_token: 'build-ssh', allow_docker_builds: true });
  await seed('/clusters/build-ssh/hosts', {
    name: 'over-ssh',
    docker_url: `ssh://${ssh.user}@${ssh.host}:${ssh.port}`,
    ssh_private_key: readFileSync(ssh.keyPath, 'utf8'),
  });
}

/** A workflow in the Manager, as the orchestrator would be running it; its id. */
export async function newWorkflow(h: ApiHarness, milestones: string[] = ['build', 'deploy']): Promise<string> {
  const res = await h.call('POST', '/workflows', { token: h.tokens.operator, body: { deployment_repo: 'org/app_docker', milestones } });
  return res.headers.get('location')!.split('/').pop()!;
}

/** The tags the registry's API lists for a repository. */
export async function registryTags(registry: string, repository: string, auth?: { user: string; password: string }): Promise<string[]> {
  const headers: Record<string, string> = auth ? { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` } : {};
  const res = await fetch(`http://${registry}/v2/${repository}/tags/list`, { headers });
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** The digest the registry has for a tag: a new push of the tag (a rebuild) changes it. */
export async function manifestDigest(registry: string, repository: string, tag: string): Promise<string | null> {
  const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept } });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}
