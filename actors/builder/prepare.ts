/**
 * The part of every Builder milestone before Docker (reference §6.1 step 2, §6.2): clone the deployment repo at its
 * ref, read its files, clone the source repo at its ref and resolve the ref to a commit, render the templates with it
 * and commit them back when they changed.
 */
import { join } from 'node:path';
import type { BuilderDeps } from './deps.js';
import { MilestoneFailure, orFail } from './errors.js';
import { credentialsFor, imageRefOf, needsCluster, repoUrlOf, sourceOf, type Credentials, type ImageRef } from './core/plan.js';
import { DockerJson, EtcdJson, FleetJson, OpenApertureJson, parseOptionalFile, parseRepoFile, SourceJson, UnitsJson } from './core/repo-files.js';
import { changedRenders, renderTemplates } from './core/templates.js';
import { readTemplates, readText, writeRendered } from './workspace.js';
import type { MilestoneReport } from '../shared/milestone-report.js';
import type { DeployableUnit } from '../orchestrator/messages.js';
import { cloneRepo, type GitRepo } from '../../runtime/git/repo.js';

/** What the milestones after preparation need, and what the Builder reports. */
export interface Prepared {
  readonly deploymentDir: string;
  readonly sourceDir: string | undefined;
  readonly sha: string;
  readonly image: ImageRef;
  readonly credentials: Credentials | undefined;
  readonly etcdToken: string | undefined;
  readonly fleetConfig: Record<string, unknown> | undefined;
  readonly units: DeployableUnit[] | undefined;
  readonly notificationsConfig: Record<string, unknown> | undefined;
}

async function clone(deps: BuilderDeps, url: string, dir: string, ref: string | undefined, signal: AbortSignal): Promise<GitRepo> {
  return cloneRepo({ url: repoUrlOf(url, deps.args.githubToken), dir, ref, sshKeyPath: deps.args.gitSshKeyPath, signal });
}

/** `etcd.json`, else its alias `cluster.json`; required when a deploy follows (fix of reference §10.1 item 11). */
async function clusterToken(dir: string, milestones: readonly string[]): Promise<string | undefined> {
  const etcd = await readText(join(dir, 'etcd.json'));
  const [file, text] = etcd !== undefined ? ['etcd.json', etcd] : ['cluster.json', await readText(join(dir, 'cluster.json'))];
  if (text === undefined && needsCluster(milestones)) {
    throw new MilestoneFailure('etcd.json (or cluster.json) is missing from the deployment repo: a workflow with deploy or deploy_oa needs the token of its cluster');
  }
  return orFail(parseOptionalFile(file, text, EtcdJson))?.token;
}

/** The source commit: the checkout's HEAD, or the ref itself when there is no source repo to resolve it in. */
async function sourceCommit(
  deps: BuilderDeps,
  report: MilestoneReport,
  source: { repo: string | undefined; ref: string | undefined },
  dir: string,
  signal: AbortSignal,
): Promise<{ sha: string; sourceDir: string | undefined }> {
  if (source.repo === undefined) {
    if (source.ref === undefined) throw new MilestoneFailure('Missing source_repo_git_ref: the workflow and source.json name no source repo and no commit');
    return { sha: source.ref, sourceDir: undefined };
  }
  const repo = await clone(deps, source.repo, join(dir, 'source'), source.ref, signal);
  const sha = await repo.headSha();
  if (sha !== source.ref) await report.notify(`Git commit hash resolved from checkout: ${source.ref ?? 'default branch'} -> ${sha}`);
  return { sha, sourceDir: repo.dir };
}

/** Renders the templates with the commit; commits and pushes what changed (push is optional: read-only repos work). */
async function applyTemplates(deps: BuilderDeps, report: MilestoneReport, repo: GitRepo, sha: string): Promise<void> {
  const templates = await readTemplates(repo.dir);
  const rendered = orFail(renderTemplates(templates, { commit_hash: sha, timestamp: deps.now().toUTCString() }));
  await report.notify(`Requesting configuration of repository ${report.request.deployment_repo ?? ''}...`);
  await report.save();
  const current = new Map(await Promise.all(rendered.map(async (f) => [f.path, await readText(join(repo.dir, f.path))] as const)));
  const changed = changedRenders(rendered, (path) => current.get(path));
  if (changed.length === 0) return report.notify('There are no files to commit');
  await writeRendered(repo.dir, changed);
  const message = `Deployment for commit ${sha}`;
  await repo.commitAll(message);
  try {
    await repo.push();
    await report.notify(`Committed and pushed ${changed.map((f) => f.path).join(', ')}: "${message}"`);
  } catch (err) {
    await report.notify(`Rendered ${changed.map((f) => f.path).join(', ')} for this milestone, but could not push them (${(err as Error).message}); the deployment repo keeps its old files`);
  }
}

/** Clones, reads, resolves and renders; every problem is a MilestoneFailure naming its file, field or ref. */
export async function prepare(deps: BuilderDeps, report: MilestoneReport, dir: string, signal: AbortSignal): Promise<Prepared> {
  const request = report.request;
  if (!request.deployment_repo) throw new MilestoneFailure('the workflow has no deployment_repo');
  const deployment = await clone(deps, request.deployment_repo, join(dir, 'deployment'), request.deployment_repo_git_ref || undefined, signal);
  const read = (name: string) => readText(join(deployment.dir, name));
  const sourceFile = orFail(parseOptionalFile('source.json', await read('source.json'), SourceJson));
  const docker = orFail(parseRepoFile('docker.json', await read('docker.json'), DockerJson));
  const etcdToken = await clusterToken(deployment.dir, request.milestones);
  const fleet = orFail(parseOptionalFile('fleet.json', await read('fleet.json'), FleetJson));
  const { sha, sourceDir } = await sourceCommit(deps, report, sourceOf(request, sourceFile), dir, signal);
  const openaperture = sourceDir === undefined ? undefined : orFail(parseOptionalFile('openaperture.json', await readText(join(sourceDir, 'openaperture.json')), OpenApertureJson));
  await applyTemplates(deps, report, deployment, sha);
  const units = orFail(parseOptionalFile('units.json', await read('units.json'), UnitsJson));
  const image = imageRefOf(docker.docker_url, sha);
  return {
    deploymentDir: deployment.dir,
    sourceDir,
    sha,
    image,
    credentials: credentialsFor(image, docker, deps.args.registry),
    etcdToken,
    fleetConfig: fleet,
    units: units?.units,
    notificationsConfig: openaperture?.deployments?.notifications,
  };
}
