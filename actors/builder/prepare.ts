/**
 * The part of every Builder milestone before Docker (reference §6.1 step 2, §6.2): clone the deployment repo at its
 * ref, read its files, clone the source repo at its ref and resolve the ref to a commit, render the templates with it
 * and commit them back when they changed, and name the image by what it is built from (core/identity.ts).
 */
import { join } from 'node:path';
import { hashBuildContext } from './build-context.js';
import type { BuilderDeps } from './deps.js';
import { MilestoneFailure, orFail } from './errors.js';
import { imageTagOf } from './core/identity.js';
import { credentialsFor, imageRefOf, needsCluster, repoUrlOf, sourceOf, type Credentials, type ImageRef } from './core/plan.js';
import { DockerJson, EtcdJson, FleetJson, OpenApertureJson, parseOptionalFile, parseRepoFile, SourceJson, UnitsJson } from './core/repo-files.js';
import { isTemplateCommitOf, renderTemplates, templateCommitMessage, templateVarsOf, type TemplateVars } from './core/templates.js';
import { readTemplates, readText, writeRendered } from './workspace.js';
import type { MilestoneReport } from '../shared/milestone-report.js';
import type { DeployableUnit } from '../orchestrator/messages.js';
import type { GitRepo } from '../../runtime/git/repo.js';

/** What the milestones after preparation need, and what the Builder reports. */
export interface Prepared {
  readonly deploymentDir: string;
  readonly sourceDir: string | undefined;
  readonly sha: string;
  /** The hash of the deployment repo's part of the build context, the tag's second half. */
  readonly contextHash: string;
  readonly image: ImageRef;
  readonly credentials: Credentials | undefined;
  readonly etcdToken: string | undefined;
  readonly fleetConfig: Record<string, unknown> | undefined;
  readonly units: DeployableUnit[] | undefined;
  readonly notificationsConfig: Record<string, unknown> | undefined;
}

async function clone(deps: BuilderDeps, url: string, dir: string, ref: string | undefined, signal: AbortSignal): Promise<GitRepo> {
  return deps.git.cloneRepo({ url: repoUrlOf(url, deps.args.githubToken), dir, ref, sshKeyPath: deps.args.gitSshKeyPath, signal });
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
): Promise<{ sha: string; committedAt: Date | undefined; sourceDir: string | undefined }> {
  if (source.repo === undefined) {
    if (source.ref === undefined) throw new MilestoneFailure('Missing source_repo_git_ref: the workflow and source.json name no source repo and no commit');
    return { sha: source.ref, committedAt: undefined, sourceDir: undefined };
  }
  const repo = await clone(deps, source.repo, join(dir, 'source'), source.ref, signal);
  const head = await repo.headCommit();
  if (head.sha !== source.ref) await report.notify(`Git commit hash resolved from checkout: ${source.ref ?? 'default branch'} -> ${head.sha}`);
  return { sha: head.sha, committedAt: head.committedAt, sourceDir: repo.dir };
}

/** Why nothing is committed: a re-run of a render this workflow already pushed says so. */
async function nothingToCommit(repo: GitRepo, workflowId: string): Promise<string> {
  const head = await repo.headCommit();
  if (!isTemplateCommitOf(head.message, workflowId)) return 'There are no files to commit';
  return `There are no files to commit: this workflow's render is already the head of the deployment repo (${head.sha.slice(0, 7)}), nothing is pushed again`;
}

/**
 * Renders the templates; commits and pushes what git sees changed (push is optional: read-only repos work). The same
 * inputs render the same files, so a re-run (a redelivered request) commits and pushes nothing.
 */
async function applyTemplates(report: MilestoneReport, repo: GitRepo, vars: TemplateVars): Promise<void> {
  const rendered = orFail(renderTemplates(await readTemplates(repo.dir), vars));
  await report.notify(`Requesting configuration of repository ${report.request.deployment_repo ?? ''}...`);
  await report.save();
  await writeRendered(repo.dir, rendered);
  const changed = await repo.changedFiles();
  if (changed.length === 0) return report.notify(await nothingToCommit(repo, report.request.id));
  const message = templateCommitMessage(vars.commit_hash, report.request.id);
  await repo.commitAll(message);
  try {
    await repo.push();
    await report.notify(`Committed and pushed ${changed.join(', ')}: "${message.split('\n')[0] ?? ''}"`);
  } catch (err) {
    await report.notify(`Rendered ${changed.join(', ')} for this milestone, but could not push them (${(err as Error).message}); the deployment repo keeps its old files`);
  }
}

/** The image of this docker_url, source commit and rendered checkout. */
async function imageOf(report: MilestoneReport, dockerUrl: string, sha: string, deploymentDir: string): Promise<{ image: ImageRef; contextHash: string }> {
  const context = await hashBuildContext(deploymentDir);
  const image = imageRefOf(dockerUrl, imageTagOf(sha, context.hash));
  await report.notify(`Image ${image.image}: source commit ${sha}, build context ${context.hash} (${context.files} files of the deployment repo)`);
  return { image, contextHash: context.hash };
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
  const { sha, committedAt, sourceDir } = await sourceCommit(deps, report, sourceOf(request, sourceFile), dir, signal);
  const openaperture = sourceDir === undefined ? undefined : orFail(parseOptionalFile('openaperture.json', await readText(join(sourceDir, 'openaperture.json')), OpenApertureJson));
  await applyTemplates(report, deployment, templateVarsOf({ sha, committedAt }, request.workflow_start_time));
  const units = orFail(parseOptionalFile('units.json', await read('units.json'), UnitsJson));
  const { image, contextHash } = await imageOf(report, docker.docker_url, sha, deployment.dir);
  return {
    deploymentDir: deployment.dir,
    sourceDir,
    sha,
    contextHash,
    image,
    credentials: credentialsFor(image, docker, deps.args.registry),
    etcdToken,
    fleetConfig: fleet,
    units: units?.units,
    notificationsConfig: openaperture?.deployments?.notifications,
  };
}
