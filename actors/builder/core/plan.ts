/** The Builder's decisions (reference §6.1-§6.4, §10.1 item 11 fixed), as data in, data out. */
import type { DockerJson, Parsed, SourceJson } from './repo-files.js';
import type { OrchestrationRequest } from '../../orchestrator/messages.js';

export type BuilderMilestone = 'config' | 'build';

/** The milestone to run; anything else is not the Builder's. */
export function milestoneOf(step: string | null | undefined): Parsed<BuilderMilestone> {
  if (step === 'config' || step === 'build') return { ok: true, value: step };
  return { ok: false, reason: `the Builder runs the config and build milestones, not ${JSON.stringify(step ?? null)}` };
}

/** Fix of reference §10.1 item 11: `deploy_oa` workflows need their cluster as much as `deploy` ones. */
export const needsCluster = (milestones: readonly string[]): boolean => milestones.includes('deploy') || milestones.includes('deploy_oa');

/**
 * A repository as git clones it (reference §6.1): URLs and paths as they are; `https://github.com/org/repo[.git][/]`
 * and a bare `org/repo` become `https://[<token>@]github.com/org/repo.git`.
 */
export function repoUrlOf(repo: string, githubToken?: string): string {
  const github = /^https?:\/\/github\.com\/([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(repo)?.[1] ?? (/^[\w.-]+\/[\w.-]+$/.test(repo) && !repo.startsWith('.') ? repo.replace(/\.git$/, '') : undefined);
  if (github === undefined) return repo;
  return `https://${githubToken ? `${encodeURIComponent(githubToken)}@` : ''}github.com/${github}.git`;
}

export interface SourceChoice {
  readonly repo: string | undefined;
  readonly ref: string | undefined;
}

/** The workflow's values win over source.json's (reference §6.1). */
export function sourceOf(request: Pick<OrchestrationRequest, 'source_repo' | 'source_repo_git_ref'>, file: SourceJson | undefined): SourceChoice {
  return { repo: request.source_repo || file?.source_repo || undefined, ref: request.source_repo_git_ref || file?.source_repo_git_ref || undefined };
}

export interface ImageRef {
  /** `<docker_url>:<tag>` (the tag: core/identity.ts), what is built, pushed and deployed. */
  readonly image: string;
  readonly repository: string;
  readonly tag: string;
  /** `host[:port]` of the registry as Docker names it (`docker.io` for Docker Hub). */
  readonly registry: string;
  /** Where its HTTP API is, and the repository's name there. */
  readonly api: { readonly registry: string; readonly repository: string };
}

/** The image of a docker_url and a tag, and where its registry is. */
export function imageRefOf(dockerUrl: string, tag: string): ImageRef {
  const [first = '', ...rest] = dockerUrl.split('/');
  const hasRegistry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  const path = hasRegistry ? rest.join('/') : dockerUrl;
  const api = hasRegistry ? { registry, repository: path } : { registry: 'registry-1.docker.io', repository: path.includes('/') ? path : `library/${path}` };
  return { image: `${dockerUrl}:${tag}`, repository: dockerUrl, tag, registry, api };
}

export interface Credentials {
  readonly registry: string;
  readonly username: string;
  readonly password: string;
  readonly email?: string | undefined;
}

/**
 * Which credentials push the image: docker.json's when it has them (fix of reference §10.1 item 11: they no longer
 * touch the Docker host), else the Builder's own, when they are for this registry (or name none).
 */
export function credentialsFor(
  image: ImageRef,
  docker: DockerJson,
  configured: { readonly url?: string | undefined; readonly username: string; readonly password: string; readonly email?: string | undefined } | undefined,
): Credentials | undefined {
  if (docker.docker_registry_username !== undefined && docker.docker_registry_password !== undefined) {
    return { registry: docker.docker_registry_url ?? image.registry, username: docker.docker_registry_username, password: docker.docker_registry_password, email: docker.docker_registry_email };
  }
  if (configured === undefined) return undefined;
  const url = configured.url?.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (url !== undefined && url !== image.registry) return undefined;
  return { registry: image.registry, username: configured.username, password: configured.password, email: configured.email };
}

/** A random element, with the randomness passed in (style R2). */
export function pickOne<T>(items: readonly T[], random: number): T | undefined {
  return items[Math.min(items.length - 1, Math.floor(random * items.length))];
}

/** Cancelled (reference §6.3: `workflow_error`) or finished by someone else: the build has no one to serve. */
export const isStopped = (w: { readonly workflow_error: boolean | null; readonly workflow_completed: boolean | null }): boolean =>
  w.workflow_error === true || w.workflow_completed === true;

/** The exchanges whose Managers relay build logs: each Manager's once, or the orchestrator's when none is known. */
export function logExchangesOf(managers: ReadonlyArray<{ readonly messaging_exchange_id: number; readonly status: string | null }>, fallback: number | undefined): number[] {
  const ids = [...new Set(managers.filter((m) => m.status !== 'inactive').map((m) => m.messaging_exchange_id))].sort((a, b) => a - b);
  return ids.length > 0 ? ids : fallback === undefined ? [] : [fallback];
}

/** What the build step decides before touching Docker (reference §6.3 step 4). */
export type BuildDecision = { readonly build: false; readonly message: string } | { readonly build: true; readonly message: string };

export function buildDecision(image: string, exists: boolean, forceBuild: boolean): BuildDecision {
  if (forceBuild) return { build: true, message: 'The force_build flag has been set, requesting docker build' };
  if (exists) return { build: false, message: `The docker image ${image} already exists, skipping docker build` };
  return { build: true, message: `The docker image ${image} does not exist, requesting docker build` };
}

/** `force_build` of the request, or of the options the workflow was executed with. */
export const forceBuildOf = (r: Pick<OrchestrationRequest, 'force_build' | 'execute_options'>): boolean => r.force_build === true || r.execute_options?.force_build === true;
