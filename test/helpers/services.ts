import { connect as amqpConnect } from 'amqplib';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';
import { withTimeout } from '../../runtime/core/promises.js';

/**
 * The real services suites need, found from the environment that deploy/dev-services.sh prints. A suite declares
 * them with `needs(...)`; before its tests each is probed for real. A missing one prints one loud SKIPPED line and
 * skips the suite, or, under OA_REQUIRE_SERVICES=1 (CI), fails it.
 */
export type ServiceName = 'postgres' | 'rabbitmq' | 'rabbitmq-2' | 'docker' | 'registry' | 'registry-auth' | 'sshd' | 'haproxy';

export interface Services {
  readonly databaseUrl: string;
  readonly amqpUrl: string;
  readonly amqpUrl2: string;
  readonly rabbit2Node: string;
  readonly dockerSocket: string;
  readonly registry: string;
  readonly registryAuth: { readonly host: string; readonly user: string; readonly password: string };
  readonly baseImage: string;
  readonly ssh: { readonly host: string; readonly port: number; readonly user: string; readonly keyPath: string };
}

const env = process.env;
const PROBE_TIMEOUT_MS = 10_000;

class MissingService extends Error {
  override readonly name = 'MissingService';
}

function variable(name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingService(`${name} is not set (run: eval "$(deploy/dev-services.sh)")`);
  return value;
}

const dockerSocket = (): string => {
  const docker = variable('DOCKER_HOST');
  if (!docker.startsWith('unix://')) throw new MissingService(`DOCKER_HOST must be unix:// for the tests, got ${docker}`);
  return docker.slice('unix://'.length);
};
const registryAuth = (): Services['registryAuth'] => ({
  host: variable('OA_TEST_REGISTRY_AUTH'),
  user: variable('OA_TEST_REGISTRY_USER'),
  password: variable('OA_TEST_REGISTRY_PASSWORD'),
});
const ssh = (): Services['ssh'] => ({
  host: variable('OA_TEST_SSH_HOST'),
  port: Number(variable('OA_TEST_SSH_PORT')),
  user: variable('OA_TEST_SSH_USER'),
  keyPath: variable('OA_TEST_SSH_KEY'),
});

/** The haproxy executable (2.6 or later) the proxy suites start their own instances of, on 127.0.0.1. */
export const haproxyBinary = (): string => variable('OA_TEST_HAPROXY');

const MIN_HAPROXY: readonly [number, number] = [2, 6];

/** Every service's address; throws MissingService naming the first variable that is not set. */
export function services(): Services {
  return {
    databaseUrl: variable('DATABASE_URL'),
    amqpUrl: variable('AMQP_URL'),
    amqpUrl2: variable('AMQP_URL_2'),
    rabbit2Node: variable('OA_TEST_RABBIT2_NODE'),
    dockerSocket: dockerSocket(),
    registry: variable('OA_TEST_REGISTRY'),
    registryAuth: registryAuth(),
    baseImage: variable('OA_TEST_BASE_IMAGE'),
    ssh: ssh(),
  };
}

function httpStatus(options: { socketPath?: string; host?: string; port?: number; path: string; auth?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ ...options, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function sshBanner(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port }, () => undefined);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('utf8'));
    });
    socket.once('error', reject);
  });
}

const hostPort = (address: string): { host: string; port: number } => {
  const [host = '', port = ''] = address.split(':');
  return { host, port: Number(port) };
};

/** Each probe reads only its own variables: a suite is never skipped for another service's missing variable. */
const probes: Record<ServiceName, () => Promise<void>> = {
  async postgres() {
    const client = new pg.Client({ connectionString: variable('DATABASE_URL') });
    await client.connect();
    try {
      await client.query('select 1');
    } finally {
      await client.end();
    }
  },
  async rabbitmq() {
    await (await amqpConnect(variable('AMQP_URL'))).close();
  },
  async 'rabbitmq-2'() {
    variable('OA_TEST_RABBIT2_NODE');
    await (await amqpConnect(variable('AMQP_URL_2'))).close();
  },
  async docker() {
    variable('OA_TEST_BASE_IMAGE');
    const status = await httpStatus({ socketPath: dockerSocket(), path: '/_ping' });
    if (status !== 200) throw new Error(`GET /_ping answered ${status}`);
  },
  async registry() {
    const status = await httpStatus({ ...hostPort(variable('OA_TEST_REGISTRY')), path: '/v2/' });
    if (status !== 200) throw new Error(`GET /v2/ answered ${status}`);
  },
  async 'registry-auth'() {
    const { host, user, password } = registryAuth();
    const status = await httpStatus({ ...hostPort(host), path: '/v2/', auth: `${user}:${password}` });
    if (status !== 200) throw new Error(`GET /v2/ with credentials answered ${status}`);
  },
  async sshd() {
    const { host, port, keyPath } = ssh();
    if (!existsSync(keyPath)) throw new Error(`no key at ${keyPath}`);
    const banner = await sshBanner(host, port);
    if (!banner.startsWith('SSH-2.0')) throw new Error(`unexpected banner ${JSON.stringify(banner)}`);
  },
  async haproxy() {
    const { stdout } = await promisify(execFile)(haproxyBinary(), ['-v']);
    const version = /HAProxy version (\d+)\.(\d+)/.exec(stdout);
    if (version === null) throw new Error(`${haproxyBinary()} -v printed no version: ${JSON.stringify(stdout.slice(0, 100))}`);
    const [major, minor] = [Number(version[1]), Number(version[2])];
    if (major < MIN_HAPROXY[0] || (major === MIN_HAPROXY[0] && minor < MIN_HAPROXY[1])) throw new Error(`${haproxyBinary()} is ${major}.${minor}, older than ${MIN_HAPROXY.join('.')}`);
  },
};

/** Probes one service; resolves with why it is unusable, or undefined when it answers. */
export async function unavailable(name: ServiceName): Promise<string | undefined> {
  try {
    await withTimeout(probes[name](), PROBE_TIMEOUT_MS, () => new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`));
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const servicesRequired = (): boolean => env.OA_REQUIRE_SERVICES === '1';

/**
 * Mocha still runs the `after` hooks of a suite its `before` skipped: they clean up what the skipped set-up never
 * made, and their errors (an undefined fixture, a service variable that is not set) say nothing about the code. They
 * run as they are, and a failure is printed instead of failing the run.
 */
function forgiveCleanUp(suite: Mocha.Suite, title: string): void {
  const hooks = (suite as unknown as { _afterAll: Mocha.Hook[] })._afterAll;
  for (const hook of hooks) {
    const clean = hook.fn;
    if (clean === undefined || clean.length > 0) continue;
    hook.fn = async function (this: Mocha.Context) {
      try {
        await (clean as (this: Mocha.Context) => unknown).call(this);
      } catch (err) {
        process.stderr.write(`  (the clean-up of skipped "${title}" failed: ${err instanceof Error ? err.message : String(err)})\n`);
      }
    };
  }
  for (const child of suite.suites) forgiveCleanUp(child, title);
}

/** Declares, inside a `describe`, the services its tests need. */
export function needs(...names: ServiceName[]): void {
  before(async function () {
    this.timeout(PROBE_TIMEOUT_MS * names.length + 1_000);
    for (const name of names) {
      const why = await unavailable(name);
      if (why === undefined) continue;
      const suite = this.test?.parent?.fullTitle() ?? 'suite';
      if (servicesRequired()) throw new Error(`service ${name} is required (OA_REQUIRE_SERVICES=1) but unavailable: ${why}`);
      process.stderr.write(`\n  !!!!! SKIPPED "${suite}": service ${name} unavailable: ${why}\n\n`);
      if (this.test?.parent) forgiveCleanUp(this.test.parent, suite);
      this.skip();
    }
  });
}
