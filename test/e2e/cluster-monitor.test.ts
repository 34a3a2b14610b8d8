/**
 * Issue 8: the cluster monitor end to end, with no double. The real Manager (scratch PostgreSQL, over a RabbitMQ
 * vhost of its own), the real FleetManager actor and the real Overseer (its own process) watch a cluster of two real
 * Docker hosts of deploy/dev-services.sh: the first dockerd, and the one whose data root is a 512 MB tmpfs, filled
 * here to about 85 %. Every event is read back through `GET /system_events`.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LABELS, unitInstanceName } from '../../actors/deployer/messages.js';
import { readAllPages, type SystemEvent } from '../../http/client/manager-client.js';
import type { ActorSystem } from '../../runtime/actors/system.js';
import { MessagingEnv, parseEnv } from '../../runtime/config.js';
import { dockerHost, type DockerHost } from '../../runtime/docker/host.js';
import { openTransport } from '../../runtime/messaging/open.js';
import type { Transport } from '../../runtime/messaging/transport.js';
import { startFleetManager, testArgs } from '../actors/fleet-manager/fixtures.js';
import { messagingEnv, scratchVhost, spawnOverseer, startManager, type OverseerProcess, type TestManager } from '../actors/overseer/harness.js';
import { needsDockerHosts, testDockerHosts } from '../helpers/docker-hosts.js';
import { captureLogs } from '../helpers/log-capture.js';
import { needs, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

/** Every Overseer duty slow but the cluster monitor, which passes every half second. */
const OVERSEER_ENV = {
  OA_MODULE_SWEEP_PERIOD_S: '3600',
  OA_UPGRADE_MONITOR_PERIOD_S: '3600',
  OA_COMPONENTS_POLL_PERIOD_S: '3600',
  OA_CLUSTER_MONITOR_PERIOD_S: '0.5',
  OA_FAILED_UNIT_RECHECKS: '2',
  OA_FAILED_UNIT_RECHECK_S: '0.3',
  OA_LOG_LEVEL: 'debug',
};
const TARGET_PERCENT = 85;

/** `df`'s Capacity of the filesystem holding `dir`: used over used plus available, rounded up. */
function dfPercent(dir: string): number {
  const s = statfsSync(dir);
  const used = s.blocks - s.bfree;
  return Math.ceil((used * 100) / (used + s.bavail));
}

/** Writes a file under `dir` so its filesystem is `percent` full; the file's path. */
async function fillTo(dir: string, percent: number, name: string): Promise<string> {
  const s = statfsSync(dir);
  const bytes = Math.floor((s.blocks * percent) / 100 - (s.blocks - s.bfree)) * s.bsize;
  if (bytes <= 0) throw new Error(`${dir} is already ${dfPercent(dir)} % full; cannot fill it to ${percent} %`);
  const file = join(dir, name);
  await run('fallocate', ['-l', String(bytes), file]);
  return file;
}

describe('the cluster monitor against real Docker hosts (issue 8): real Manager, FleetManager and Overseer', function () {
  this.timeout(120_000);
  needs('postgres', 'rabbitmq', 'docker');
  needsDockerHosts();
  const { log } = captureLogs();
  const token = `cm-${randomUUID().slice(0, 8)}`;
  let vhost: Awaited<ReturnType<typeof scratchVhost>> | undefined;
  let manager: TestManager | undefined;
  let fleetTransport: Transport | undefined;
  let fleet: { system: ActorSystem; failures: Error[] } | undefined;
  let overseer: OverseerProcess | undefined;
  let fill: string | undefined;
  let main: DockerHost | undefined;
  let small: DockerHost | undefined;

  const events = async (type: string): Promise<SystemEvent[]> => {
    const all = await readAllPages((w) => manager!.client.systemEvents.list({ ...w, lookback: 1 }));
    return all.filter((e) => e.type === type && (e.data as Record<string, unknown> | null)?.etcd_token === token);
  };
  /** Passes after the first one that raised `type`: each logs its refused duplicate at debug level. */
  const refused = (type: string): number => overseer!.lines.filter((l) => l.msg === 'event already raised within the hour' && l.type === type).length;

  before(async () => {
    const hosts = testDockerHosts();
    main = dockerHost({ name: 'main', url: hosts.sockets[0]! });
    small = dockerHost({ name: 'small', url: hosts.smallDiskHost });
    vhost = await scratchVhost();
    const env = messagingEnv(vhost.url);
    manager = await startManager(env);
    await manager.call('POST', '/clusters', { etcd_token: token, messaging_exchange_id: 1 });
    await manager.call('POST', `/clusters/${token}/hosts`, { name: 'main', docker_url: hosts.sockets[0]!, labels: {} });
    await manager.call('POST', `/clusters/${token}/hosts`, { name: 'small', docker_url: hosts.smallDiskHost, labels: {} });
    fill = await fillTo(hosts.smallDiskDir, TARGET_PERCENT, `oa-cluster-monitor-fill-${token}`);

    const credentials = manager.overseerCredentials;
    fleetTransport = await openTransport('amqp', parseEnv(MessagingEnv, env), log);
    fleet = await startFleetManager(fleetTransport, testArgs({ baseUrl: manager.baseUrl, ...credentials }, services().baseImage));
    overseer = await spawnOverseer({ ...env, ...OVERSEER_ENV, MANAGER_URL: manager.baseUrl, OAUTH_CLIENT_ID: credentials.clientId, OAUTH_CLIENT_SECRET: credentials.clientSecret });
  });

  after(async function () {
    this.timeout(60_000);
    const code = await overseer?.stop();
    await fleet?.system.shutdown(5_000);
    await fleetTransport?.close();
    await manager?.stop();
    await vhost?.drop();
    if (fill !== undefined) rmSync(fill, { force: true });
    for (const host of [main, small]) {
      const found = (await host?.call('list', (api) => api.listContainers({ all: true, filters: { label: [`${LABELS.cluster}=${token}`] } }))) ?? [];
      for (const c of found) await host!.call('remove', (api) => api.getContainer(c.Id).remove({ force: true }));
      await host?.close();
    }
    if (overseer !== undefined) expect(code, 'the Overseer stops cleanly on SIGTERM').to.equal(0);
  });

  it('a host at ~85 % disk raises one warning naming it and the percentage, however many passes run', async () => {
    const percent = dfPercent(testDockerHosts().smallDiskDir);
    expect(percent, 'the tmpfs is filled into the warning band').to.be.greaterThan(80).and.at.most(90);
    await waitFor('four passes after the first warning', () => refused('docker_disk_space_percent') >= 4, 60_000);
    const disk = await events('docker_disk_space_percent');
    expect(disk.map((e) => [e.severity, e.message, e.data])).to.deep.equal([
      ['warning', `Host small is reporting a Docker disk space utilization of ${percent}%!`, { docker_disk_space_percent: percent, hostname: 'small', etcd_token: token }],
    ]);
    expect(await events('failed_unit'), 'no unit of the cluster has failed yet').to.deep.equal([]);
    process.stdout.write(`      measured: host small at ${percent} %, ${refused('docker_disk_space_percent') + 1} passes, ${disk.length} disk event created\n`);
  });

  it('a unit container that exits non-zero raises one failed_unit event naming <unit>@<instance>.service', async () => {
    const unit = unitInstanceName('crash', 0);
    const labels = { [LABELS.managed]: 'true', [LABELS.cluster]: token, [LABELS.unit]: 'crash', [LABELS.instance]: '0' };
    const container = await main!.call('create', (api) => api.createContainer({ name: `${token}-crash-0`, Image: services().baseImage, Cmd: ['sh', '-c', 'exit 3'], Labels: labels }));
    await main!.call('start', () => container.start());
    await waitFor('the unit to exit', async () => (await main!.call('inspect', () => container.inspect())).State.Status === 'exited');

    const before = refused('docker_disk_space_percent');
    await waitFor('three passes after the failed unit was reported', () => refused('failed_unit') >= 3, 60_000);
    const failed = await events('failed_unit');
    expect(failed.map((e) => [e.severity, e.message, e.data])).to.deep.equal([['warning', `Unit ${unit} is in a failed state!`, { unit_name: unit, etcd_token: token }]]);
    expect(await events('docker_disk_space_percent'), 'still the one disk warning').to.have.length(1);
    expect(fleet!.failures, 'the FleetManager kept running').to.deep.equal([]);
    // While a failed unit is rechecked the cluster is busy, so a report is one pass plus its rechecks.
    const reports = refused('failed_unit') + 1;
    process.stdout.write(`      measured: ${unit} reported failed by ${reports} passes (each after 2 rechecks), ${refused('docker_disk_space_percent') - before} more disk passes meanwhile, ${failed.length} failed_unit event created\n`);
  });
});
