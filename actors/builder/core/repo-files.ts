/**
 * The deployment repo's files (README "The deployment repo"; reference §6.6), checked with a clear message per field:
 * `docker.json: docker_url is required`, `units.json: units[0].name: must be ...`, `fleet.json: unknown field "x"`.
 */
import { z } from 'zod';
import { DeployableUnit } from '../../orchestrator/messages.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const required = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
const text = z.string(required('a string')).min(1, 'must not be empty');

export const DockerJson = z.strictObject({
  /** The image repository, e.g. `127.0.0.1:5000/hello`; the image is tagged `<docker_url>:<source sha>-<context hash>` (core/identity.ts). */
  docker_url: z.string(required('a string')).regex(/^([a-z0-9.-]+(:\d+)?\/)?[a-z0-9._-]+(\/[a-z0-9._-]+)*$/, 'must be an image repository name such as registry:5000/org/app (lower case, no tag)'),
  docker_registry_url: text.optional(),
  docker_registry_username: text.optional(),
  docker_registry_password: text.optional(),
  docker_registry_email: z.string().optional(),
});
export type DockerJson = z.infer<typeof DockerJson>;

export const SourceJson = z.strictObject({ source_repo: text.optional(), source_repo_git_ref: text.optional() });
export type SourceJson = z.infer<typeof SourceJson>;

/** `etcd.json` or its alias `cluster.json`: the cluster a deploy goes to. */
export const EtcdJson = z.strictObject({
  token: z.string(required('a string')).regex(/^[A-Za-z0-9._~-]{1,255}$/, 'must be a cluster token: letters, digits and . _ ~ -'),
});

export const FleetJson = z.strictObject({ instance_cnt: z.number(required('a number')).int('must be a whole number').min(0).max(100).optional() });
export type FleetJson = z.infer<typeof FleetJson>;

export const UnitsJson = z.strictObject({ units: z.array(DeployableUnit, required('a list of units')) });

/** The source repo's `openaperture.json` (reference §6.2): only `deployments.notifications` is read. */
export const OpenApertureJson = z.looseObject({
  deployments: z.looseObject({ notifications: z.record(z.string(), z.unknown()).optional() }).optional(),
});

const pathOf = (path: readonly PropertyKey[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

function problemOf(issue: z.core.$ZodIssue): string {
  const at = pathOf(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    return `${at === '' ? '' : `${at}: `}unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  if (at === '') return issue.message;
  return issue.message === 'is required' ? `${at} is required` : `${at}: ${issue.message}`;
}

/** Parses `file`'s text with `schema`; `undefined` text means the file is missing. */
export function parseRepoFile<S extends z.ZodType>(file: string, text: string | undefined, schema: S): Parsed<z.infer<S>> {
  if (text === undefined) return { ok: false, reason: `${file} is missing from the deployment repo` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `${file} is not valid JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: `${file}: ${parsed.error.issues.map(problemOf).join('; ')}` };
}

/** An optional file: absent is `undefined`, present must be valid. */
export function parseOptionalFile<S extends z.ZodType>(file: string, text: string | undefined, schema: S): Parsed<z.infer<S> | undefined> {
  return text === undefined ? { ok: true, value: undefined } : parseRepoFile(file, text, schema);
}
