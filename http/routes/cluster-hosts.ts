import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import type { Principal } from '../auth.js';
import { ConflictError, InvalidRequestError, NotFoundError, type FieldProblem } from '../errors.js';
import { findPage, PageQuery } from '../pagination.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { CONTROL_CHARACTERS } from '../schemas/common.js';
import { keyNameOf, type SecretBox } from '../secrets.js';
import { clusterOr404, clusterPath, flushUnique, sameText, TokenParams } from './clusters.js';
import { CLUSTER_HOST_STATUSES, ClusterHostSchema, type ClusterHost, type EtcdCluster } from '../../entities/clusters.js';

/**
 * A cluster's Docker hosts (design §2, issue 7 item 3; new, no counterpart in reference §3.2). The TLS material and
 * the SSH key are sealed at rest; the host routes never show them (admins see `"[set]"` or null, others null); only
 * `host_connections`, for the platform's own workers, opens them.
 */
export interface HostDeps extends BaseDeps {
  readonly secrets: SecretBox;
}

const SECRET_FIELDS = ['tls_ca', 'tls_cert', 'tls_private_key', 'ssh_private_key'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];
const NO_SECRETS = Object.fromEntries(SECRET_FIELDS.flatMap((f) => [[f, null], [`${f}_keyname`, null]])) as Record<SecretField | `${SecretField}_keyname`, null>;

type DockerUrl = { ok: true; scheme: 'unix' | 'tcp' | 'ssh'; user: string | undefined } | { ok: false; problem: string };

const DOCKER_URL_FORMS = 'expected unix:///path, tcp://host:port or ssh://user@host[:port]';
const SSH_USER = /^[A-Za-z_][A-Za-z0-9._-]{0,254}$/;
const HOST = /^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$/;

/** How a Docker host is reached (design §2): which of the three forms `text` is, or what is wrong with it. */
export function parseDockerUrl(text: string): DockerUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `not a URL; ${DOCKER_URL_FORMS}` };
  }
  const fail = (problem: string): DockerUrl => ({ ok: false, problem });
  if (url.search !== '' || url.hash !== '') return fail('must not carry a query or fragment');
  switch (url.protocol) {
    case 'unix:':
      if (url.host !== '' || url.username !== '') return fail('a unix socket URL has no host: unix:///path/to/docker.sock');
      if (url.pathname.length < 2 || url.pathname.endsWith('/')) return fail('needs the socket path: unix:///path/to/docker.sock');
      return { ok: true, scheme: 'unix', user: undefined };
    case 'tcp:':
      if (url.username !== '' || url.password !== '') return fail('a tcp URL has no user: tcp://host:port');
      if (!HOST.test(url.hostname)) return fail('needs a host: tcp://host:port');
      if (url.port === '') return fail('needs a port: tcp://host:port (2376 with TLS, 2375 without)');
      if (url.pathname !== '' && url.pathname !== '/') return fail('a tcp URL has no path: tcp://host:port');
      return { ok: true, scheme: 'tcp', user: undefined };
    case 'ssh:':
      if (url.password !== '') return fail('must not hold a password; give ssh_private_key');
      if (url.username !== '' && !SSH_USER.test(url.username)) return fail('the user must be letters, digits, . _ - (ssh://user@host)');
      if (!HOST.test(url.hostname)) return fail('needs a host: ssh://user@host[:port]');
      if (url.pathname !== '' && url.pathname !== '/') return fail('an ssh URL has no path: ssh://user@host[:port]');
      return { ok: true, scheme: 'ssh', user: url.username === '' ? undefined : url.username };
    default:
      return fail(`scheme ${url.protocol.slice(0, -1)} is not supported; ${DOCKER_URL_FORMS}`);
  }
}

const DockerUrlText = z
  .string()
  .trim()
  // abort: an empty or oversized value gets one problem, not a second from the URL check.
  .min(1, { error: 'must not be empty', abort: true })
  .max(1_024, { error: 'must be at most 1024 characters', abort: true })
  // The URL parser drops tabs and newlines silently; what is stored must be what was checked.
  .regex(new RegExp(`^[^\\s${CONTROL_CHARACTERS}]+$`), { error: 'must not contain spaces or control characters', abort: true })
  .superRefine((text, ctx) => {
    const parsed = parseDockerUrl(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem });
  });

const Pem = (what: RegExp, label: string) => z.string().max(65_536).regex(what, `must be PEM text holding ${label}`);
const Secrets = {
  tls_ca: Pem(/-----BEGIN CERTIFICATE-----/, 'a certificate').nullable().optional(),
  tls_cert: Pem(/-----BEGIN CERTIFICATE-----/, 'a certificate').nullable().optional(),
  tls_private_key: Pem(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, 'a private key').nullable().optional(),
  ssh_private_key: Pem(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, 'a private key').nullable().optional(),
};
const SshUser = z.string().trim().regex(SSH_USER, 'must be 1-255 letters, digits, . _ - starting with a letter or _');
const HostName = z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be 1-255 letters, digits, . _ - starting with a letter or digit');
const Labels = z
  .record(z.string().min(1).max(255), z.string().max(4_096))
  .refine((l) => Object.keys(l).length <= 100, 'at most 100 labels');

const HostBody = z.strictObject({
  name: HostName,
  docker_url: DockerUrlText,
  ssh_user: SshUser.nullable().optional(),
  labels: Labels.default({}),
  status: z.enum(CLUSTER_HOST_STATUSES).default('active'),
  ...Secrets,
});
type HostBody = z.infer<typeof HostBody>;

/** Omitted fields keep their value; a secret given as null is removed. */
const HostPatch = z.strictObject({
  name: HostName.optional(),
  docker_url: DockerUrlText.optional(),
  ssh_user: SshUser.nullable().optional(),
  labels: Labels.optional(),
  status: z.enum(CLUSTER_HOST_STATUSES).optional(),
  ...Secrets,
});
type HostPatch = z.infer<typeof HostPatch>;

const HostParams = TokenParams.extend({ name: HostName });
type HostParams = z.infer<typeof HostParams>;

/** What must hold across fields once a create or update is applied; each problem names its field. */
function hostProblems(h: ClusterHost): FieldProblem[] {
  const url = parseDockerUrl(h.docker_url);
  if (!url.ok) return [{ field: 'docker_url', message: `docker_url: ${url.problem}` }];
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message: `${field}: ${message}` });
  for (const field of ['tls_ca', 'tls_cert', 'tls_private_key'] as const) {
    if (h[field] !== null && url.scheme !== 'tcp') problem(field, `only for tcp:// hosts, not ${url.scheme}://`);
  }
  if (url.scheme === 'tcp' && (h.tls_cert === null) !== (h.tls_private_key === null)) {
    problem(h.tls_cert === null ? 'tls_cert' : 'tls_private_key', 'tls_cert and tls_private_key go together');
  }
  for (const field of ['ssh_user', 'ssh_private_key'] as const) {
    if (h[field] !== null && url.scheme !== 'ssh') problem(field, `only for ssh:// hosts, not ${url.scheme}://`);
  }
  if (url.scheme === 'ssh') {
    if (url.user === undefined && h.ssh_user === null) problem('docker_url', 'an ssh host needs a user: ssh://user@host or ssh_user');
    if (url.user !== undefined && h.ssh_user !== null && url.user !== h.ssh_user) problem('ssh_user', `differs from the user in docker_url (${url.user})`);
  }
  return problems;
}

function decodeLabels(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

function hostJson(h: ClusterHost, principal: Principal) {
  // Never the secret itself, to anyone (design §2): admins learn whether one is set, others learn nothing.
  const secret = (value: string | null) => (principal.role === 'admin' && value !== null ? '[set]' : null);
  return {
    id: h.id,
    etcd_cluster_id: h.etcd_cluster_id,
    name: h.name,
    docker_url: h.docker_url,
    ssh_user: h.ssh_user,
    labels: decodeLabels(h.labels),
    status: h.status,
    tls_ca: secret(h.tls_ca),
    tls_cert: secret(h.tls_cert),
    tls_private_key: secret(h.tls_private_key),
    ssh_private_key: secret(h.ssh_private_key),
    inserted_at: h.inserted_at,
    updated_at: h.updated_at,
  };
}

/** Seals the secrets the request gives (null removes one); the key name goes beside each value. */
function applySecrets(host: ClusterHost, given: Pick<HostPatch, SecretField>, secrets: SecretBox): void {
  for (const field of SECRET_FIELDS) {
    const value = given[field];
    if (value === undefined) continue;
    const sealed = value === null ? null : secrets.seal(value);
    host[field] = sealed;
    host[`${field}_keyname`] = sealed === null ? null : (keyNameOf(sealed) ?? null);
  }
}

const byName = (cluster: EtcdCluster, name: string): FilterQuery<ClusterHost> => ({ $and: [{ etcd_cluster_id: cluster.id }, sameText<ClusterHost>('name', name)] });
const hostPath = (cluster: EtcdCluster, host: ClusterHost): string => `${clusterPath(cluster)}/hosts/${encodeURIComponent(host.name)}`;

async function hostOr404(em: EntityManager, cluster: EtcdCluster, name: string): Promise<ClusterHost> {
  const host = await em.findOne(ClusterHostSchema, byName(cluster, name));
  if (!host) throw new NotFoundError('ClusterHost');
  return host;
}

const nameTaken = (cluster: EtcdCluster, name: string) => new ConflictError('ClusterHost', `name ${name} in cluster ${cluster.etcd_token}`);

async function checkName(em: EntityManager, cluster: EtcdCluster, name: string, self?: number): Promise<void> {
  const clash = await em.findOne(ClusterHostSchema, byName(cluster, name));
  if (clash && clash.id !== self) throw nameTaken(cluster, name);
}

function checkHost(host: ClusterHost): void {
  const problems = hostProblems(host);
  if (problems.length > 0) throw new InvalidRequestError('ClusterHost', problems);
}

const list = defineRoute<HostDeps, TokenParams, PageQuery>({
  method: 'get',
  path: '/clusters/:etcd_token/hosts',
  summary: 'List the Docker hosts of a cluster',
  tag: 'clusters',
  access: 'viewer',
  item: 'EtcdCluster',
  params: TokenParams,
  query: PageQuery,
  async handle({ params, query }, { em, principal }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const { rows, total } = await findPage(em, ClusterHostSchema, { etcd_cluster_id: cluster.id }, query);
    return { status: 200, body: rows.map((h) => hostJson(h, principal)), total };
  },
});

const show = defineRoute<HostDeps, HostParams>({
  method: 'get',
  path: '/clusters/:etcd_token/hosts/:name',
  summary: 'Show a Docker host of a cluster',
  tag: 'clusters',
  access: 'viewer',
  item: 'ClusterHost',
  params: HostParams,
  async handle({ params }, { em, principal }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    return { status: 200, body: hostJson(await hostOr404(em, cluster, params.name), principal) };
  },
});

const create = defineRoute<HostDeps, TokenParams, Record<string, never>, HostBody>({
  method: 'post',
  path: '/clusters/:etcd_token/hosts',
  summary: 'Add a Docker host to a cluster',
  tag: 'clusters',
  access: 'admin',
  item: 'ClusterHost',
  params: TokenParams,
  body: HostBody,
  async handle({ params, body }, { em, deps }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    await checkName(em, cluster, body.name);
    const host = em.create(ClusterHostSchema, {
      etcd_cluster_id: cluster.id,
      name: body.name,
      docker_url: body.docker_url,
      ...NO_SECRETS,
      ssh_user: body.ssh_user ?? null,
      labels: JSON.stringify(body.labels),
      status: body.status,
    });
    applySecrets(host, body, deps.secrets);
    checkHost(host);
    await flushUnique(em, () => nameTaken(cluster, body.name));
    return { status: 201, location: hostPath(cluster, host) };
  },
});

const update = defineRoute<HostDeps, HostParams, Record<string, never>, HostPatch>({
  method: 'put',
  path: '/clusters/:etcd_token/hosts/:name',
  summary: 'Update a Docker host of a cluster',
  tag: 'clusters',
  access: 'admin',
  item: 'ClusterHost',
  params: HostParams,
  body: HostPatch,
  async handle({ params, body }, { em, deps }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const host = await hostOr404(em, cluster, params.name);
    if (body.name !== undefined) {
      await checkName(em, cluster, body.name, host.id);
      host.name = body.name;
    }
    if (body.docker_url !== undefined) host.docker_url = body.docker_url;
    if (body.ssh_user !== undefined) host.ssh_user = body.ssh_user;
    if (body.labels !== undefined) host.labels = JSON.stringify(body.labels);
    if (body.status !== undefined) host.status = body.status;
    applySecrets(host, body, deps.secrets);
    checkHost(host);
    await flushUnique(em, () => nameTaken(cluster, host.name));
    return { status: 204, location: hostPath(cluster, host) };
  },
});

const remove = defineRoute<HostDeps, HostParams>({
  method: 'delete',
  path: '/clusters/:etcd_token/hosts/:name',
  summary: 'Remove a Docker host from a cluster',
  tag: 'clusters',
  access: 'admin',
  item: 'ClusterHost',
  params: HostParams,
  async handle({ params }, { em }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const host = await hostOr404(em, cluster, params.name);
    await em.nativeDelete(ClusterHostSchema, { id: host.id });
    return { status: 204 };
  },
});

/**
 * How to reach each active host, secrets opened: for the platform's own workers (Builder, Deployer, FleetManager),
 * whose API clients are admins (design §2: secrets go only to admins and the platform's component clients).
 */
const connections = defineRoute<HostDeps, TokenParams>({
  method: 'get',
  path: '/clusters/:etcd_token/host_connections',
  summary: "How to reach a cluster's active Docker hosts, secrets included (admins only)",
  tag: 'clusters',
  access: 'admin',
  item: 'EtcdCluster',
  params: TokenParams,
  async handle({ params }, { em, deps }) {
    const cluster = await clusterOr404(em, params.etcd_token);
    const hosts = await em.find(ClusterHostSchema, { etcd_cluster_id: cluster.id, status: 'active' }, { orderBy: { name: 'asc' } });
    const open = (value: string | null) => (value === null ? null : deps.secrets.open(value));
    const body = hosts.map((h) => ({
      name: h.name,
      docker_url: h.docker_url,
      ssh_user: h.ssh_user,
      ssh_private_key: open(h.ssh_private_key),
      tls_ca: open(h.tls_ca),
      tls_cert: open(h.tls_cert),
      tls_private_key: open(h.tls_private_key),
      labels: decodeLabels(h.labels),
    }));
    return { status: 200, body };
  },
});

export const clusterHostRoutes: ReadonlyArray<AnyRoute<HostDeps>> = [list, show, create, update, remove, connections];
