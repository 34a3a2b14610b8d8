import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FLEET_ACTION_REQUESTED, FLEET_MANAGER_QUEUE, FleetReplies } from '../../../actors/fleet-manager/messages.js';
import { LABELS, unitInstanceName } from '../../../actors/deployer/messages.js';
import { hashSecret } from '../../../http/auth.js';
import { BadGatewayError, errorReply } from '../../../http/errors.js';
import type { AnyRoute } from '../../../http/route.js';
import { clusterUnitRoutes, clusterUnitRoutesWith } from '../../../http/routes/cluster-units.js';
import { MANAGER_ROUTES } from '../../../http/routes/index.js';
import { ApiClientSchema } from '../../../entities/auth.js';
import type { ActorSystem } from '../../../runtime/actors/system.js';
import { dockerHost, type DockerHost } from '../../../runtime/docker/host.js';
import { createLogger } from '../../../runtime/logger.js';
import { RemoteRequestError, RpcTimeoutError, TransportUnavailableError, type Subscription, type Transport } from '../../../runtime/messaging/transport.js';
import { startFleetManager, testArgs } from '../../actors/fleet-manager/fixtures.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { forEachDatabase, type HarnessDeps } from '../harness.js';

describe('Manager errors: RPC outcomes', () => {
  const to = { exchangeId: 2, queue: FLEET_MANAGER_QUEUE };
  const table: Array<[string, Error, number, RegExp]> = [
    ['no reply in time', new RpcTimeoutError(to, FLEET_ACTION_REQUESTED, 100), 504, /no reply to fleet_manager.action_requested from queue fleet_manager of exchange 2 within 100 ms/],
    ['an error reply', new RemoteRequestError({ name: 'DockerHostError', message: 'Docker host gone (tcp://127.0.0.1:1): info: refused' }), 502, /Docker host gone/],
    ['an error reply named like one of ours', new RemoteRequestError({ name: 'Conflict', message: 'remote conflict' }), 502, /remote conflict/],
    ['a remote "...NotFound"', new RemoteRequestError({ name: 'UnitNotFound', message: 'Unit x was not found' }), 404, /Unit x/],
    ['a malformed reply', new BadGatewayError('bad reply'), 502, /bad reply/],
    ['no transport', new TransportUnavailableError('no messaging'), 503, /no messaging/],
  ];
  for (const [what, err, status, message] of table) {
    it(`${what} -> ${status}`, () => {
      const reply = errorReply(err);
      expect(reply?.status).to.equal(status);
      expect(reply?.body.errors[0]?.message).to.match(message);
    });
  }
});

const log = createLogger({ level: 'silent' });
const SHORT_WAIT_MS = 8_000;
const routes = [...MANAGER_ROUTES.filter((r) => !clusterUnitRoutes.includes(r as never)), ...clusterUnitRoutesWith(SHORT_WAIT_MS)] as ReadonlyArray<AnyRoute<HarnessDeps>>;
const errorOf = (body: unknown) => (body as { errors: Array<{ message: string }> }).errors[0]!.message;

/** A port that accepts connections and never answers: a host that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function closedPort(): Promise<number> {
  const s = await silentServer();
  await s.close();
  return s.port;
}

forEachDatabase('Manager: FleetManager-backed cluster routes over real Docker hosts', routes, (h, kind) => {
  needs('docker', 'sshd');
  const run = randomUUID().slice(0, 6);
  const token = { local: `fm-local-${kind}-${run}`, ssh: `fm-ssh-${kind}-${run}`, dead: `fm-dead-${kind}-${run}`, slow: `fm-slow-${kind}-${run}` };
  let exchangeId: number;
  let fleet: { system: ActorSystem; failures: Error[] };
  let fleetTransport: Transport;
  let local: DockerHost;
  let remote: DockerHost;
  let silent: Awaited<ReturnType<typeof silentServer>>;
  const ids: Record<string, string> = {};

  const as = (role: 'viewer' | 'operator' | 'admin') => ({ token: h().tokens[role] });
  const get = (path: string, role: 'viewer' | 'operator' | 'admin' = 'viewer') => h().call('GET', path, as(role));
  const seed = async (method: string, path: string, body: unknown): Promise<string> => {
    const res = await h().call(method, path, { ...as('admin'), body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.headers.get('location') ?? '';
  };

  /** A container as the Deployer labels one (actors/deployer/messages.ts). */
  async function unit(host: DockerHost, cluster: string, name: string, instance: number, script: string): Promise<void> {
    const c = await host.call('create', (api) =>
      api.createContainer({
        name: `${cluster}-${name}-${instance}`,
        Image: services().baseImage,
        Cmd: ['sh', '-c', script],
        Env: ['UNIT_SECRET=do-not-show'],
        Labels: { [LABELS.managed]: 'true', [LABELS.cluster]: cluster, [LABELS.unit]: name, [LABELS.instance]: String(instance) },
      }),
    );
    await host.call('start', () => c.start());
    ids[`${cluster}/${unitInstanceName(name, instance)}`] = c.id;
  }
  const SERVE = (text: string) => `trap "exit 0" TERM; echo "${text}"; echo "warn ${text}" >&2; while true; do sleep 0.2; done`;

  before(async function () {
    this.timeout(60_000);
    const s = services();
    const key = readFileSync(s.ssh.keyPath, 'utf8');
    const sshUrl = `ssh://${s.ssh.user}@${s.ssh.host}:${s.ssh.port}`;
    silent = await silentServer();
    exchangeId = Number((await seed('POST', '/messaging/exchanges', { name: `fm-${kind}-${run}` })).split('/').pop());
    for (const t of Object.values(token)) await seed('POST', '/clusters', { etcd_token: t, messaging_exchange_id: exchangeId });
    await seed('POST', `/clusters/${token.local}/hosts`, { name: 'local', docker_url: `unix://${s.dockerSocket}`, labels: { zone: 'a' } });
    const sshHost = { docker_url: sshUrl, ssh_private_key: key, labels: { docker_socket: '/var/run/docker.sock' } };
    await seed('POST', `/clusters/${token.ssh}/hosts`, { name: 'remote', ...sshHost });
    await seed('POST', `/clusters/${token.dead}/hosts`, { name: 'local', docker_url: `unix://${s.dockerSocket}` });
    await seed('POST', `/clusters/${token.slow}/hosts`, { name: 'local', docker_url: `unix://${s.dockerSocket}` });
    await seed('POST', `/clusters/${token.dead}/hosts`, { name: 'gone', docker_url: 'tcp://127.0.0.1:1' });
    await seed('POST', `/clusters/${token.dead}/hosts`, { name: 'gone-ssh', docker_url: `ssh://${s.ssh.user}@127.0.0.1:${await closedPort()}`, ssh_private_key: key });
    await seed('POST', `/clusters/${token.dead}/hosts`, { name: 'silent', docker_url: `tcp://127.0.0.1:${silent.port}` });

    local = dockerHost({ name: 'local', url: `unix://${s.dockerSocket}` });
    remote = dockerHost({ name: 'remote', url: sshUrl, sshPrivateKey: key });
    await unit(local, token.local, 'web', 0, SERVE('hello from web 0'));
    await unit(local, token.local, 'web', 1, SERVE('hello from web 1'));
    await unit(local, token.local, 'crash', 0, 'echo "crashing now" >&2; exit 3');
    await unit(local, token.local, 'done', 0, 'echo finished; exit 0');
    await unit(remote, token.ssh, 'api', 0, SERVE('hello over ssh'));
    await unit(local, token.dead, 'web', 0, SERVE('still here'));
    // Takes 4 s to stop, longer than the FleetManager's host deadline here (3 s).
    await unit(local, token.slow, 'web', 0, 'trap "sleep 4; exit 0" TERM; echo up; while true; do sleep 0.2; done');
    await waitFor('the short-lived units to exit', async () => {
      const states = await Promise.all(['crash', 'done'].map((u) => local.call('inspect', (api) => api.getContainer(ids[`${token.local}/${u}@0.service`]!).inspect())));
      return states.every((c) => c.State.Status === 'exited');
    });

    // The FleetManager's own admin API client, as `openaperture bootstrap` makes one.
    const em = h().db.fork();
    const clientSecret = randomUUID();
    em.create(ApiClientSchema, { client_id: `fleet-${run}`, name: `fleet-${run}`, secret_hash: hashSecret(clientSecret), role: 'admin', disabled_at: null });
    await em.flush();
    fleetTransport = h().broker.transport({ exchangeId, log });
    fleet = await startFleetManager(fleetTransport, testArgs({ baseUrl: h().baseUrl, clientId: `fleet-${run}`, clientSecret }, s.baseImage));
  });

  after(async function () {
    this.timeout(30_000);
    await fleet?.system.shutdown(5_000);
    await fleetTransport?.close();
    for (const t of Object.values(token)) {
      const found = await local.call('list', (api) => api.listContainers({ all: true, filters: { label: [`${LABELS.cluster}=${t}`] } }));
      for (const c of found) await local.call('remove', (api) => api.getContainer(c.Id).remove({ force: true }));
    }
    await Promise.all([local?.close(), remote?.close(), silent?.close()]);
  });

  it('machines: one per host, {id, primaryIP, metadata} (viewer)', async () => {
    const res = await get(`/clusters/${token.local}/machines`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(FleetReplies.list_machines.parse(res.body)).to.deep.equal([{ id: 'local', primaryIP: '127.0.0.1', metadata: { zone: 'a' } }]);
    const ssh = await get(`/clusters/${token.ssh}/machines`);
    expect(ssh.body).to.deep.equal([{ id: 'remote', primaryIP: '127.0.0.1', metadata: { docker_socket: '/var/run/docker.sock' } }]);
  });

  it('units: one per platform container of the cluster, Fleet-shaped, environment values withheld', async () => {
    const res = await get(`/clusters/${token.local}/units`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const units = FleetReplies.list_units.parse(res.body);
    expect(units.map((u) => [u.name, u.currentState, u.desiredState, u.machineID])).to.deep.equal([
      ['crash@0.service', 'inactive', 'launched', 'local'],
      ['done@0.service', 'inactive', 'launched', 'local'],
      ['web@0.service', 'launched', 'launched', 'local'],
      ['web@1.service', 'launched', 'launched', 'local'],
    ]);
    expect(units[2]!.options).to.deep.include({ section: 'X-Docker', name: 'Image', value: services().baseImage });
    expect(units[2]!.options).to.deep.include({ section: 'Service', name: 'Environment', value: 'UNIT_SECRET' });
    expect(JSON.stringify(res.body)).to.not.include('do-not-show');
    const ssh = FleetReplies.list_units.parse((await get(`/clusters/${token.ssh}/units`)).body);
    expect(ssh.map((u) => [u.name, u.machineID])).to.deep.equal([['api@0.service', 'remote']]);
  });

  it('state: systemd states from the containers; exit 3 -> failed/failed, exit 0 -> inactive/dead', async () => {
    const res = await get(`/clusters/${token.local}/state`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const states = FleetReplies.list_unit_states.parse(res.body);
    expect(states.map((s) => [s.name, s.systemdLoadState, s.systemdActiveState, s.systemdSubState, s.machineID])).to.deep.equal([
      ['crash@0.service', 'loaded', 'failed', 'failed', 'local'],
      ['done@0.service', 'loaded', 'inactive', 'dead', 'local'],
      ['web@0.service', 'loaded', 'active', 'running', 'local'],
      ['web@1.service', 'loaded', 'active', 'running', 'local'],
    ]);
    expect(states[2]!.hash).to.equal(ids[`${token.local}/web@0.service`]);
  });

  it('nodes: disk use of the Docker data root as df sees it, the OS and the Docker version, per host (unix and ssh)', async () => {
    const info = JSON.parse(execFileSync('docker', ['info', '--format', '{{json .}}'], { encoding: 'utf8' })) as Record<string, string>;
    const df = execFileSync('df', ['-P', info.DockerRootDir!], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const percent = Number(/(\d+)%/.exec(df)![1]);
    for (const [t, name] of [[token.local, 'local'], [token.ssh, 'remote']] as const) {
      const res = await get(`/clusters/${t}/nodes`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const node = FleetReplies.node_info.parse(res.body)[name]!;
      expect(node).to.deep.include({ coreos_version: info.OperatingSystem, docker_version: info.ServerVersion });
      expect(Math.abs(node.docker_disk_space_percent! - percent)).to.be.at.most(1);
    }
  });

  it('logs: the unit prints, stdout then a blank line then stderr (machine id ignored, as the original)', async () => {
    const res = await get(`/clusters/${token.local}/machines/any/units/${encodeURIComponent('web@1.service')}/logs`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(FleetReplies.unit_logs.parse(res.body)).to.equal('hello from web 1\n\nwarn hello from web 1');
    expect((await get(`/clusters/${token.local}/machines/local/units/crash@0.service/logs`)).body).to.equal('\n\ncrashing now');
    expect((await get(`/clusters/${token.ssh}/machines/remote/units/api@0.service/logs`)).body).to.equal('hello over ssh\n\nwarn hello over ssh');
  });

  it('logs of a unit no host has: 404 naming it', async () => {
    const res = await get(`/clusters/${token.local}/machines/local/units/nope@0.service/logs`);
    expect(res.status).to.equal(404);
    expect(errorOf(res.body)).to.equal(`Unit nope@0.service was not found on any host of cluster ${token.local}`);
  });

  it('restart (POST, operator): the container starts again and prints again; viewers may not restart', async () => {
    const path = `/clusters/${token.local}/machines/local/units/web@0.service/restart`;
    expect((await h().call('POST', path, as('viewer'))).status).to.equal(403);
    const res = await h().call('POST', path, as('operator'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const id = ids[`${token.local}/web@0.service`]!.slice(0, 12);
    expect(FleetReplies.restart_unit.parse(res.body)).to.equal(`Restarted web@0.service (container ${token.local}-web-0, ${id}) on host local\n`);
    const logs = await get(`/clusters/${token.local}/machines/local/units/web@0.service/logs`);
    expect(logs.body).to.equal('hello from web 0\nhello from web 0\n\nwarn hello from web 0\nwarn hello from web 0');
  });

  it('restart over ssh by POST; a GET restarts nothing and answers 405 naming the POST', async () => {
    const path = `/clusters/${token.ssh}/machines/remote/units/api@0.service/restart`;
    const refused = await get(path, 'operator');
    expect(refused.status).to.equal(405);
    expect(refused.headers.get('allow')).to.equal('POST');
    expect(errorOf(refused.body)).to.equal(`GET ${path} is not served: use POST`);
    expect((await get(`/clusters/${token.ssh}/machines/remote/units/api@0.service/logs`)).body).to.equal('hello over ssh\n\nwarn hello over ssh');
    const ssh = await h().call('POST', path, as('operator'));
    expect(ssh.status, JSON.stringify(ssh.body)).to.equal(200);
    expect(ssh.body).to.match(/^Restarted api@0.service .* on host remote\n$/);
    expect((await get(`/clusters/${token.ssh}/machines/remote/units/api@0.service/logs`)).body).to.equal('hello over ssh\nhello over ssh\n\nwarn hello over ssh\nwarn hello over ssh');
  });

  it('restart of a unit that stops slower than the host deadline: restarted on its live host, not reported dead', async function () {
    this.timeout(30_000);
    const res = await h().call('POST', `/clusters/${token.slow}/machines/local/units/web@0.service/restart`, as('operator'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.match(/^Restarted web@0.service .* on host local\n$/);
    expect((await get(`/clusters/${token.slow}/machines/local/units/web@0.service/logs`)).body).to.equal('up\nup\n\n');
  });

  describe('a cluster with dead hosts (refused tcp, closed ssh port, a host that never answers)', () => {
    const named = /gone \(tcp:\/\/127\.0\.0\.1:1\).*cannot reach the host/;
    const all = (message: string) => {
      expect(message).to.match(named);
      expect(message).to.match(/Docker host gone-ssh \(ssh:\/\/.*cannot reach the host/);
      expect(message).to.match(/Docker host silent \(tcp:\/\/127\.0\.0\.1:\d+\): .*no answer within 3000 ms/);
      expect(message).to.not.match(/Docker host local/);
    };

    it('units and state: 502 naming every dead host, within the host deadline (no 504)', async () => {
      for (const what of ['units', 'state']) {
        const res = await get(`/clusters/${token.dead}/${what}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(502);
        all(errorOf(res.body));
      }
    });

    it('machines: lists every registered host without dialling it', async () => {
      const res = await get(`/clusters/${token.dead}/machines`);
      expect(res.status).to.equal(200);
      expect((res.body as Array<{ id: string }>).map((m) => m.id)).to.deep.equal(['gone', 'gone-ssh', 'local', 'silent']);
    });

    it('nodes: the live host reports, each dead one has docker_disk_space_percent null (the Overseer raises "not reporting")', async () => {
      const res = await get(`/clusters/${token.dead}/nodes`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const nodes = FleetReplies.node_info.parse(res.body);
      expect(nodes.local!.docker_disk_space_percent).to.be.a('number');
      for (const dead of ['gone', 'gone-ssh', 'silent']) expect(nodes[dead]).to.deep.equal({ docker_disk_space_percent: null, coreos_version: '', docker_version: '' });
    });

    it('logs: found on the live host; a unit only the dead hosts could have is a 502 naming them', async () => {
      expect((await get(`/clusters/${token.dead}/machines/local/units/web@0.service/logs`)).body).to.equal('still here\n\nwarn still here');
      const res = await get(`/clusters/${token.dead}/machines/gone/units/other@0.service/logs`);
      expect(res.status).to.equal(502);
      all(errorOf(res.body));
      expect(errorOf(res.body)).to.match(/unit other@0.service is not on any host that answered/);
    });

    it('restart: restarts it on the live host, then answers 502 naming the dead hosts and what was done', async () => {
      const res = await h().call('POST', `/clusters/${token.dead}/machines/local/units/web@0.service/restart`, as('operator'));
      expect(res.status).to.equal(502);
      all(errorOf(res.body));
      expect(errorOf(res.body)).to.match(/Restarted web@0.service .* on host local/);
    });
  });

  it('an unknown cluster is a 404; a cluster in no exchange a 409', async () => {
    expect((await get('/clusters/no-such-cluster/units')).status).to.equal(404);
    await seed('POST', '/clusters', { etcd_token: `fm-none-${kind}-${run}` });
    const res = await get(`/clusters/fm-none-${kind}-${run}/state`);
    expect(res.status).to.equal(409);
    expect(errorOf(res.body)).to.match(/is in no exchange/);
  });

  it('no FleetManager in the exchange: 504 naming the queue and exchange', async function () {
    this.timeout(30_000);
    const quiet = Number((await seed('POST', '/messaging/exchanges', { name: `fm-quiet-${kind}-${run}` })).split('/').pop());
    await seed('POST', '/clusters', { etcd_token: `fm-quiet-${kind}-${run}`, messaging_exchange_id: quiet });
    const res = await get(`/clusters/fm-quiet-${kind}-${run}/machines`);
    expect(res.status).to.equal(504);
    expect(errorOf(res.body)).to.equal(`no reply to ${FLEET_ACTION_REQUESTED} from queue ${FLEET_MANAGER_QUEUE} of exchange ${quiet} within ${SHORT_WAIT_MS} ms`);
  });

  it('a FleetManager answering out of protocol: 502 saying what was wrong', async function () {
    this.timeout(30_000);
    const odd = Number((await seed('POST', '/messaging/exchanges', { name: `fm-odd-${kind}-${run}` })).split('/').pop());
    await seed('POST', '/clusters', { etcd_token: `fm-odd-${kind}-${run}`, messaging_exchange_id: odd });
    const impostor = h().broker.transport({ exchangeId: odd, log });
    const sub: Subscription = await impostor.consume({ queue: FLEET_MANAGER_QUEUE, decode: (p) => ({ ok: true, value: p }), handle: async () => ({ type: 'ack', reply: [{ id: 7 }] }) });
    try {
      const res = await get(`/clusters/fm-odd-${kind}-${run}/machines`);
      expect(res.status).to.equal(502);
      expect(errorOf(res.body)).to.match(/answered list_machines with a malformed reply: 0\.id: /);
    } finally {
      await sub.cancel();
      await impostor.close();
    }
  });

  it('the FleetManager kept running throughout', () => expect(fleet.failures).to.deep.equal([]));
});

