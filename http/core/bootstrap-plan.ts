/**
 * What a fresh platform needs and which of it is missing (design §2 "first start", issue 4 item 5): the rows seed 000
 * made by hand. Pure (style R2): options and the natural keys found in the database in, the ordered rows to create
 * out. http/bootstrap.ts reads, writes and seals, in one transaction.
 */

/**
 * The module types the Overseer upgrades from a system component ref (reference §1.4 `module_type`, §8.3). There is
 * no `deployer_oa` type: the OA Deployer is the Deployer's code on queue `deploy_oa` (reference §1.8), and the
 * Overseer cycles it within the `deployer` upgrade (§8.3, the `<deployment_repo>_oa` workflow), from the same ref.
 * The experimental product_deployment_orchestrator is left out: nothing can reach it (reference §1.13).
 */
export const PLATFORM_COMPONENT_TYPES = ['manager', 'workflow_orchestrator', 'builder', 'deployer', 'fleet_manager', 'overseer', 'notifications'] as const;

/** What an operator may choose (the CLI's flags); DEFAULTS suit one machine. */
export interface BootstrapOptions {
  /** The first (root) exchange. */
  readonly exchangeName?: string | undefined;
  /** `amqp://user:password@host:port/vhost`: the first broker's connection. */
  readonly amqpUrl?: string | undefined;
  /** Default: the URL's `host[:port]`, as AMQP_URL alone names its broker (runtime/messaging/metadata.ts). */
  readonly brokerName?: string | undefined;
  readonly etcdToken?: string | undefined;
  readonly clusterName?: string | undefined;
  /** The cluster's local Docker host. */
  readonly hostName?: string | undefined;
  readonly dockerUrl?: string | undefined;
  /** One repository holds the source of every component type. */
  readonly componentSourceRepo?: string | undefined;
  readonly componentSourceRepoGitRef?: string | undefined;
  readonly autoUpgradeEnabled?: boolean | undefined;
  readonly adminClientId?: string | undefined;
}

export const DEFAULTS = {
  exchangeName: 'openaperture', // as OA_EXCHANGE_NAME
  // No credentials means guest/guest, which RabbitMQ accepts from localhost only.
  amqpUrl: 'amqp://localhost:5672',
  etcdToken: 'local',
  hostName: 'local',
  dockerUrl: 'unix:///var/run/docker.sock',
  componentSourceRepo: 'openaperture',
  componentSourceRepoGitRef: 'main',
  // Off on a fresh install: the refs name a placeholder until the operator points them at a release, and the
  // Overseer, once enabled, builds and redeploys the platform from them on its own, hourly (reference §8.3).
  autoUpgradeEnabled: false,
  adminClientId: 'admin', // the client the Manager's own first start creates
} as const;

/** Connection options of a broker, as a `messaging_broker_connections` row holds them (reference §2.1). */
export interface AmqpConnection {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number | null;
  readonly virtual_host: string;
}

/** The options, checked and with defaults applied. */
export interface BootstrapSettings {
  readonly exchangeName: string;
  readonly brokerName: string;
  readonly connection: AmqpConnection;
  readonly etcdToken: string;
  readonly clusterName: string | null;
  readonly hostName: string;
  readonly dockerUrl: string;
  readonly ref: { readonly source_repo: string; readonly source_repo_git_ref: string; readonly auto_upgrade_enabled: boolean };
  readonly adminClientId: string;
}

export interface OptionProblem {
  readonly option: keyof BootstrapOptions;
  readonly message: string;
}

/** Options that cannot be used; each problem names its option and never quotes a password. */
export class BootstrapOptionsInvalid extends Error {
  override readonly name = 'BootstrapOptionsInvalid';
  readonly retryable = false;
  constructor(readonly problems: readonly OptionProblem[]) {
    super(`invalid bootstrap options: ${problems.map((p) => `${p.option}: ${p.message}`).join('; ')}`);
  }
}
/** True for a `BootstrapOptionsInvalid`, also after it crossed a process boundary (style R8). */
export const isBootstrapOptionsInvalid = (e: unknown): e is BootstrapOptionsInvalid => e instanceof Error && e.name === 'BootstrapOptionsInvalid';

const AMQP_FORM = 'expected amqp://user:password@host:port/vhost';
const IDENTIFIER = /^[A-Za-z0-9._~-]+$/; // etcd tokens and client ids appear in paths (http/routes/clusters.ts)
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CONTROL = /\p{Cc}/u;

const undecoded = (part: string): string | undefined => {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
};

/** The connection an `amqp://` URL describes, or what is wrong with it (never quoting the URL: it may hold a password). */
export function parseAmqpUrl(text: string): { ok: true; connection: AmqpConnection; host: string } | { ok: false; problem: string } {
  const fail = (problem: string) => ({ ok: false, problem }) as const;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return fail(`not a URL; ${AMQP_FORM}`);
  }
  // amqps would be silently downgraded: a connection row has no TLS setting (as runtime/messaging/metadata.ts).
  if (url.protocol !== 'amqp:') return fail(`scheme "${url.protocol.slice(0, -1)}" is not supported; ${AMQP_FORM}`);
  if (url.hostname === '') return fail(`names no host; ${AMQP_FORM}`);
  if (url.port === '0') return fail('port 0 is not a port');
  if (url.search !== '' || url.hash !== '') return fail('a connection row cannot keep query parameters or a fragment');
  const [username, password, vhost] = [url.username, url.password, url.pathname.replace(/^\//, '')].map(undecoded);
  if (username === undefined || password === undefined || vhost === undefined) return fail('has a malformed %-escape');
  if ((username === '') !== (password === '')) return fail(`give both a user and a password, or neither (guest/guest); ${AMQP_FORM}`);
  if (username.length > 255 || password.length > 1_024 || vhost.length > 255) return fail('the user, password or vhost is too long');
  const connection = {
    username: username || 'guest',
    password: password || 'guest',
    host: url.hostname,
    port: url.port === '' ? null : Number(url.port),
    virtual_host: vhost || '/',
  };
  return { ok: true, connection, host: url.host };
}

type Problems = OptionProblem[];

function text(problems: Problems, option: keyof BootstrapOptions, value: string, rule?: { max?: number; pattern?: RegExp; form?: string }): string {
  const trimmed = value.trim();
  const max = rule?.max ?? 255;
  const problem = (message: string) => problems.push({ option, message });
  if (trimmed === '') problem('must not be empty');
  else if (trimmed.length > max) problem(`must be at most ${max} characters`);
  else if (CONTROL.test(trimmed)) problem('must not contain control characters');
  else if (rule?.pattern !== undefined && !rule.pattern.test(trimmed)) problem(rule.form ?? 'has characters that are not allowed');
  return trimmed;
}

/**
 * Checks `options` and fills in the defaults; throws BootstrapOptionsInvalid listing every problem. The Docker URL's
 * forms are the cluster-hosts route's, passed in as `dockerUrlProblem` so both accept the same URLs.
 */
export function resolveBootstrapOptions(options: BootstrapOptions, checks: { dockerUrlProblem: (url: string) => string | undefined }): BootstrapSettings {
  const problems: Problems = [];
  const amqp = parseAmqpUrl(options.amqpUrl ?? DEFAULTS.amqpUrl);
  if (!amqp.ok) problems.push({ option: 'amqpUrl', message: amqp.problem });
  const dockerUrl = text(problems, 'dockerUrl', options.dockerUrl ?? DEFAULTS.dockerUrl, { max: 1_024 });
  const dockerProblem = problems.some((p) => p.option === 'dockerUrl') ? undefined : checks.dockerUrlProblem(dockerUrl);
  if (dockerProblem !== undefined) problems.push({ option: 'dockerUrl', message: dockerProblem });
  const identifier = { pattern: IDENTIFIER, form: 'only letters, digits and . _ ~ - are allowed' };
  const settings: BootstrapSettings = {
    exchangeName: text(problems, 'exchangeName', options.exchangeName ?? DEFAULTS.exchangeName, { max: 1_024 }),
    brokerName: text(problems, 'brokerName', options.brokerName ?? (amqp.ok ? amqp.host : 'broker')),
    connection: amqp.ok ? amqp.connection : { username: '', password: '', host: '', port: null, virtual_host: '' },
    etcdToken: text(problems, 'etcdToken', options.etcdToken ?? DEFAULTS.etcdToken, identifier),
    clusterName: options.clusterName === undefined ? null : text(problems, 'clusterName', options.clusterName),
    hostName: text(problems, 'hostName', options.hostName ?? DEFAULTS.hostName, { pattern: HOST_NAME, form: 'letters, digits, . _ - starting with a letter or digit' }),
    dockerUrl,
    ref: {
      source_repo: text(problems, 'componentSourceRepo', options.componentSourceRepo ?? DEFAULTS.componentSourceRepo, { max: 128 }),
      source_repo_git_ref: text(problems, 'componentSourceRepoGitRef', options.componentSourceRepoGitRef ?? DEFAULTS.componentSourceRepoGitRef, { max: 256 }),
      auto_upgrade_enabled: options.autoUpgradeEnabled ?? DEFAULTS.autoUpgradeEnabled,
    },
    adminClientId: text(problems, 'adminClientId', options.adminClientId ?? DEFAULTS.adminClientId, identifier),
  };
  if (problems.length > 0) throw new BootstrapOptionsInvalid(problems);
  return settings;
}

/** The natural keys already in the database that bootstrap cares about. */
export interface ExistingKeys {
  readonly exchangeNames: readonly string[];
  readonly brokers: ReadonlyArray<{ readonly name: string; readonly connections: number }>;
  readonly clusterTokens: readonly string[];
  readonly hosts: ReadonlyArray<{ readonly etcdToken: string; readonly name: string }>;
  readonly refTypes: readonly string[];
  readonly clientIds: readonly string[];
}

/** A row to create; creations come in dependency order (an exchange before its cluster, a cluster before its host). */
export type Creation =
  | { readonly kind: 'exchange'; readonly name: string }
  | { readonly kind: 'broker'; readonly name: string }
  | { readonly kind: 'broker_connection'; readonly brokerName: string; readonly connection: AmqpConnection }
  | { readonly kind: 'cluster'; readonly etcdToken: string; readonly name: string | null; readonly exchangeName: string }
  | { readonly kind: 'cluster_host'; readonly etcdToken: string; readonly name: string; readonly dockerUrl: string }
  | ({ readonly kind: 'system_component_ref'; readonly type: string } & BootstrapSettings['ref'])
  | { readonly kind: 'api_client'; readonly clientId: string };

/** One thing bootstrap looked after, by kind and natural key (never a secret): what the caller prints. */
export interface BootstrapItem {
  readonly kind: Creation['kind'];
  readonly key: string;
}

export interface BootstrapPlan {
  readonly create: readonly Creation[];
  readonly present: readonly BootstrapItem[];
}

/** The natural key of a creation, as the report shows it. */
export function keyOf(c: Creation): string {
  switch (c.kind) {
    case 'exchange':
    case 'broker':
      return c.name;
    case 'broker_connection': return c.brokerName;
    case 'cluster': return c.etcdToken;
    case 'cluster_host': return `${c.etcdToken}/${c.name}`;
    case 'system_component_ref': return c.type;
    case 'api_client': return c.clientId;
  }
}

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Which rows to create: each one whose natural key is missing, nothing else, so a second run plans nothing. Exchange,
 * broker, ref type and client id match exactly, as their routes' conflict checks do; etcd tokens and host names match
 * ignoring case (reference §2.2), and a host joins the cluster found under its token's stored spelling. A broker gets a
 * connection only when it has none: one it has is the operator's, whatever it points at.
 */
export function planBootstrap(s: BootstrapSettings, existing: ExistingKeys): BootstrapPlan {
  const create: Creation[] = [];
  const present: BootstrapItem[] = [];
  const want = (exists: boolean, c: Creation): void => void (exists ? present.push({ kind: c.kind, key: keyOf(c) }) : create.push(c));
  want(existing.exchangeNames.includes(s.exchangeName), { kind: 'exchange', name: s.exchangeName });
  const broker = existing.brokers.find((b) => b.name === s.brokerName);
  want(broker !== undefined, { kind: 'broker', name: s.brokerName });
  want((broker?.connections ?? 0) > 0, { kind: 'broker_connection', brokerName: s.brokerName, connection: s.connection });
  const storedToken = existing.clusterTokens.find((t) => sameText(t, s.etcdToken));
  const etcdToken = storedToken ?? s.etcdToken;
  want(storedToken !== undefined, { kind: 'cluster', etcdToken, name: s.clusterName, exchangeName: s.exchangeName });
  const hasHost = existing.hosts.some((h) => sameText(h.etcdToken, etcdToken) && sameText(h.name, s.hostName));
  want(hasHost, { kind: 'cluster_host', etcdToken, name: s.hostName, dockerUrl: s.dockerUrl });
  for (const type of PLATFORM_COMPONENT_TYPES) want(existing.refTypes.includes(type), { kind: 'system_component_ref', type, ...s.ref });
  want(existing.clientIds.includes(s.adminClientId), { kind: 'api_client', clientId: s.adminClientId });
  return { create, present };
}
