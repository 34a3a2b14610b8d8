import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { withTimeout } from '../../runtime/core/promises.js';
import { dockerHost, type DockerHost, type DockerHostOptions, type DockerHostSpec } from '../../runtime/docker/host.js';
import { servicesRequired } from './services.js';

/**
 * The three Docker hosts of deploy/dev-services.sh (issue 7): the first dockerd, and two more with their own sockets,
 * data roots and bridges; the second is also reached over ssh:// (sshd on 2222 forwards to its socket), the third
 * has a small tmpfs data root. All share 127.0.0.1, so published ports are unique across them only because the
 * cluster's port allocation makes them so (a test artefact: real hosts are separate machines).
 */
export interface TestDockerHosts {
  /** `unix://` URLs of the three daemons, as OA_TEST_DOCKER_HOSTS lists them. */
  readonly sockets: readonly string[];
  /** The daemon's socket that the ssh host forwards to. */
  readonly sshSocket: string;
  readonly ssh: { readonly url: string; readonly user: string; readonly privateKey: string };
  readonly smallDiskHost: string;
  readonly smallDiskDir: string;
}

function variable(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set (run: eval "$(deploy/dev-services.sh)")`);
  return value;
}

export function testDockerHosts(): TestDockerHosts {
  const sockets = variable('OA_TEST_DOCKER_HOSTS').split(',');
  if (sockets.length < 3) throw new Error(`OA_TEST_DOCKER_HOSTS lists ${sockets.length} host(s); three are needed`);
  return {
    sockets,
    sshSocket: variable('OA_TEST_DOCKER_SSH_SOCKET'),
    ssh: {
      url: `ssh://${variable('OA_TEST_SSH_USER')}@${variable('OA_TEST_SSH_HOST')}:${variable('OA_TEST_SSH_PORT')}`,
      user: variable('OA_TEST_SSH_USER'),
      privateKey: readFileSync(variable('OA_TEST_SSH_KEY'), 'utf8'),
    },
    smallDiskHost: variable('OA_TEST_DOCKER_SMALL_DISK_HOST'),
    smallDiskDir: variable('OA_TEST_DOCKER_SMALL_DISK_DIR'),
  };
}

/** A cluster of three: h1 and h3 over their unix sockets, h2 over ssh:// to the second daemon. */
export interface TestHost {
  readonly spec: DockerHostSpec;
  readonly options: DockerHostOptions;
  /** What the Manager's cluster host row holds for it. */
  readonly row: { name: string; docker_url: string; ssh_user?: string; ssh_private_key?: string; labels: Record<string, string> };
}

export function threeHosts(prefix = 'h'): TestHost[] {
  const t = testDockerHosts();
  const unix = (name: string, url: string): TestHost => ({ spec: { name, url }, options: {}, row: { name, docker_url: url, labels: {} } });
  const ssh: TestHost = {
    spec: { name: `${prefix}2`, url: t.ssh.url, sshUser: t.ssh.user, sshPrivateKey: t.ssh.privateKey },
    options: { remoteSocket: t.sshSocket },
    row: { name: `${prefix}2`, docker_url: t.ssh.url, ssh_user: t.ssh.user, ssh_private_key: t.ssh.privateKey, labels: { docker_socket: t.sshSocket } },
  };
  return [unix(`${prefix}1`, t.sockets[0]!), ssh, unix(`${prefix}3`, t.sockets[2]!)];
}

export const connect = (h: TestHost, extra: DockerHostOptions = {}): DockerHost => dockerHost(h.spec, { ...h.options, ...extra });

function ping(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Declares, inside a `describe`, that its tests need the three Docker hosts (and sshd, for the second). */
export function needsDockerHosts(): void {
  before(async function () {
    this.timeout(10_000);
    let why: string | undefined;
    try {
      const t = testDockerHosts();
      for (const url of t.sockets) {
        const status = await withTimeout(ping(new URL(url).pathname), 3_000, () => new Error(`${url}: no answer within 3 s`));
        if (status !== 200) throw new Error(`${url}: GET /_ping answered ${status}`);
      }
    } catch (err) {
      why = (err as Error).message;
    }
    if (why === undefined) return;
    if (servicesRequired()) throw new Error(`service docker-hosts is required (OA_REQUIRE_SERVICES=1) but unavailable: ${why}`);
    process.stderr.write(`\n  !!!!! SKIPPED "${this.test?.parent?.fullTitle() ?? 'suite'}": service docker-hosts unavailable: ${why}\n\n`);
    this.skip();
  });
}
