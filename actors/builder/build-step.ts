/**
 * The Docker part of the Builder (reference §6.3, §6.4): skip when the registry has the tag (unless `force_build`),
 * else build on a host of the docker-build cluster with every line fanned out to the Managers, push, and verify.
 * The tag names what the image is built from (core/identity.ts), so "the registry has it" means "built from these
 * inputs": a skipped build pushes nothing. While building, the workflow is watched: once cancelled, the build is aborted.
 */
import { buildLogSink } from './build-logs.js';
import type { BuilderDeps } from './deps.js';
import { MilestoneFailure } from './errors.js';
import type { Prepared } from './prepare.js';
import { DESCRIPTOR_FILES } from './core/identity.js';
import { buildDecision, forceBuildOf, isStopped, pickOne } from './core/plan.js';
import { copySource } from './workspace.js';
import type { MilestoneReport } from '../shared/milestone-report.js';
import { DEFAULT_DOCKER_TIMEOUT_MS, dockerHost, type DockerHost } from '../../runtime/docker/host.js';
import { connectHost } from '../shared/host-connections.js';
import { buildImage, pushImage, registryHasTag } from '../../runtime/docker/images.js';

/** Whether the registry has the image; its refusal (credentials, unreachable) fails the milestone. */
export function imageExists(p: Prepared): Promise<boolean> {
  const auth = p.credentials;
  return registryHasTag({ registry: p.image.api.registry, repository: p.image.api.repository, tag: p.image.tag, auth });
}

/** The config milestone's check (reference §5.1): the image must already be in the registry. */
export async function verifyImage(report: MilestoneReport, p: Prepared): Promise<void> {
  if (!(await imageExists(p))) {
    throw new MilestoneFailure(
      `Docker image ${p.image.image} not found in registry ${p.image.registry}: run a build milestone for commit ${p.sha} with this deployment repo (build context ${p.contextHash}) first`,
    );
  }
  await report.notify(`Verified ${p.image.image} exists in docker repo`);
}

/** A random host of the request's docker-build cluster, or the Builder's own DOCKER_HOST when it names none. */
async function openBuildHost(deps: BuilderDeps, token: string | null | undefined): Promise<DockerHost> {
  if (!token) {
    if (deps.args.defaultDockerHost === undefined) throw new MilestoneFailure('the request names no docker-build cluster (docker_build_etcd_token) and the Builder has no DOCKER_HOST');
    return dockerHost({ name: 'default', url: deps.args.defaultDockerHost });
  }
  const hosts = await deps.manager.clusters.hostConnections(token);
  if (hosts === undefined) throw new MilestoneFailure(`the docker-build cluster ${token} is not known to the Manager`);
  const host = pickOne(hosts, deps.random());
  if (host === undefined) throw new MilestoneFailure(`the docker-build cluster ${token} has no Docker hosts`);
  return connectHost(host, DEFAULT_DOCKER_TIMEOUT_MS);
}

/** Polls the workflow every `cancelPollMs`; aborts `abort` once it is failed or completed (cancelled). */
function watchWorkflow(deps: BuilderDeps, workflowId: string, abort: AbortController): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    deps.manager.workflows
      .get(workflowId)
      .then((w) => {
        if (w === undefined || isStopped(w)) abort.abort(new MilestoneFailure('the build was stopped: the workflow was cancelled'));
      })
      .catch((err: unknown) => deps.log.warn({ err, workflowId }, 'cannot check whether the workflow was cancelled; the build goes on'))
      .finally(() => (busy = false));
  }, deps.args.cancelPollMs);
  return { stop: () => clearInterval(timer) };
}

async function buildAndPush(deps: BuilderDeps, report: MilestoneReport, p: Prepared, host: DockerHost): Promise<void> {
  const request = report.request;
  const fallback = request.workflow_orchestration_exchange_id ? Number(request.workflow_orchestration_exchange_id) : undefined;
  const sink = buildLogSink({ ...deps, refreshMs: deps.args.logExchangesRefreshMs, now: () => deps.now().getTime() }, deps.exchanges, request.id, fallback);
  const abort = new AbortController();
  const watch = watchWorkflow(deps, request.id, abort);
  const push = (lines: string[]) => sink.push(lines);
  try {
    const context = { contextDir: p.deploymentDir, exclude: DESCRIPTOR_FILES };
    await buildImage(host, { ...context, tag: p.image.image, onLines: push, signal: abort.signal, timeoutMs: deps.args.milestoneTimeoutMs, auth: p.credentials });
    await pushImage(host, { repository: p.image.repository, tag: p.image.tag, auth: p.credentials, onLines: push, signal: abort.signal });
  } catch (err) {
    // The abort's reason says why better than the stream error it caused.
    if (abort.signal.aborted && abort.signal.reason instanceof MilestoneFailure) throw abort.signal.reason;
    throw err;
  } finally {
    watch.stop();
    await sink.flush();
  }
}

/** The build milestone's Docker work (reference §6.3 steps 2-8, §6.4). */
export async function buildStep(deps: BuilderDeps, report: MilestoneReport, p: Prepared): Promise<void> {
  const decision = buildDecision(p.image.image, await imageExists(p), forceBuildOf(report.request));
  await report.notify(decision.message);
  if (!decision.build) return;
  const host = await openBuildHost(deps, report.request.docker_build_etcd_token);
  try {
    await report.notify(`Beginning docker image build of ${p.image.image} on docker host ${host.name} (${host.url})...`);
    await report.save();
    if (p.sourceDir !== undefined) await copySource(p.sourceDir, p.deploymentDir);
    await buildAndPush(deps, report, p, host);
    await report.notify(`Built and pushed ${p.image.image}`);
  } finally {
    await host.close();
  }
  if (!(await imageExists(p))) throw new MilestoneFailure(`Docker image ${p.image.image} not found in registry ${p.image.registry} after the push`);
  await report.notify(`Verified ${p.image.image} exists in docker repo`);
}
