import { expect } from 'chai';
import { connect } from 'amqplib';
import { UPGRADE_REQUESTED, OVERSEER_QUEUE } from '../../../actors/overseer/messages.js';
import { readAllPages, type SystemComponent, type SystemEvent } from '../../../http/client/manager-client.js';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import { startHeartbeat, type Heartbeat } from '../../../runtime/messaging/heartbeat.js';
import { openTransport } from '../../../runtime/messaging/open.js';
import { DEAD_LETTER_REASON_HEADER, type Transport } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { needs } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { fleetDouble, messagingEnv, scratchVhost, spawnOverseer, startManager, type OverseerProcess, type TestManager } from './harness.js';

/** Every duty slow but the one a test looks at. */
const QUIET = {
  OA_MODULE_SWEEP_PERIOD_S: '3600',
  OA_CLUSTER_MONITOR_PERIOD_S: '3600',
  OA_UPGRADE_MONITOR_PERIOD_S: '3600',
  OA_COMPONENTS_POLL_PERIOD_S: '3600',
};

describe('the Overseer as its own process, over RabbitMQ, with the real Manager', function () {
  this.timeout(120_000);
  needs('postgres', 'rabbitmq');
  const { log } = captureLogs();
  let vhost: Awaited<ReturnType<typeof scratchVhost>>;
  let env: Record<string, string>;
  let manager: TestManager;
  let transport: Transport;
  let overseer: OverseerProcess | undefined;

  before(async () => {
    vhost = await scratchVhost();
    env = messagingEnv(vhost.url);
    manager = await startManager(env);
    transport = await openTransport('amqp', parseEnv(MessagingEnv, env), log);
    env = { ...env, MANAGER_URL: manager.baseUrl, OAUTH_CLIENT_ID: manager.overseerCredentials.clientId, OAUTH_CLIENT_SECRET: manager.overseerCredentials.clientSecret };
  });
  after(async () => {
    await transport?.close();
    await manager?.stop();
    await vhost?.drop();
  });

  const start = async (extra: Record<string, string>) => (overseer = await spawnOverseer({ ...env, ...QUIET, ...extra }));
  /** One Overseer per describe: starting a process is the slow part of these tests. */
  const stop = async () => {
    const code = await overseer?.stop();
    overseer = undefined;
    expect(code, 'the Overseer stops cleanly on SIGTERM').to.equal(0);
  };

  describe('module liveness (reference §8.1, §8.2)', () => {
    const beats = new Map<string, Heartbeat>();
    const beat = (hostname: string) => beats.set(hostname, startHeartbeat({ transport, exchangeId: 1, intervalMs: 200, hostname, type: 'builder', log }));
    const silence = async (hostname: string) => {
      await beats.get(hostname)?.stop();
      beats.delete(hostname);
    };
    before(() => start({ OA_MODULE_INACTIVE_AFTER_S: '2', OA_MODULE_DELETE_AFTER_S: '4', OA_MODULE_SWEEP_PERIOD_S: '0.25' }));
    after(async () => {
      await Promise.all([...beats.keys()].map(silence));
      await stop();
    });

    it('a module that stops heartbeating is inactive after 2 s, deleted after 4 s; one that beats again is active again', async () => {
      const modules = manager.client.exchangeModules;
      beat('silent-host');
      beat('returning-host');
      for (const host of ['silent-host', 'returning-host']) await waitFor(`${host} registered`, async () => (await modules.get(1, host))?.status === 'active');
      await Promise.all([silence('silent-host'), silence('returning-host')]);

      let lastBeat = '';
      const inactive = await waitFor(
        'silent-host inactive',
        async () => {
          const row = await modules.get(1, 'silent-host');
          if (row?.status === 'active') lastBeat = row.updated_at;
          return row?.status === 'inactive' && row;
        },
        10_000,
      );
      const silentForMs = Date.parse(inactive.updated_at) - Date.parse(lastBeat);
      expect(silentForMs, 'marked inactive only after 2 s of silence').to.be.greaterThan(2_000);
      expect(inactive.type).to.equal('builder');

      await waitFor('returning-host inactive', async () => (await modules.get(1, 'returning-host'))?.status === 'inactive', 10_000);
      beat('returning-host');
      await waitFor('returning-host active again', async () => (await modules.get(1, 'returning-host'))?.status === 'active');

      await waitFor('silent-host deleted', async () => (await modules.get(1, 'silent-host')) === undefined, 10_000);
      const goneAfterMs = Date.now() - Date.parse(lastBeat);
      expect(goneAfterMs, 'deleted only after 4 s of silence').to.be.at.least(4_000);
      expect((await modules.get(1, 'returning-host'))?.status).to.equal('active');
      process.stdout.write(`      measured: inactive after ${silentForMs} ms of silence (configured 2000), deleted after ${goneAfterMs} ms (configured 4000, sweep 250)\n`);
    });

    it('a malformed heartbeat goes to system_modules_error with the reason', async () => {
      await transport.publish({ exchangeId: 1, queue: 'system_modules' }, 'module.status_reported', { status: 'active', workload: [], type: 'builder', event_type: 'status' });
      const letter = await takeDeadLetter(vhost.url, 'system_modules_error');
      expect(letter.reason).to.match(/hostname/);
    });
  });

  describe('while the Manager is away', () => {
    before(() => start({ MANAGER_URL: 'http://127.0.0.1:9' }));
    after(stop);

    it('drops a heartbeat it cannot record, with a warning, instead of dead-lettering it', async () => {
      await transport.publish({ exchangeId: 1, queue: 'system_modules' }, 'module.status_reported', { status: 'active', workload: [], hostname: 'away-host', type: 'builder', event_type: 'status' });
      const line = await waitFor('the warning', () => overseer!.lines.find((l) => l['msg'] === 'heartbeat not recorded: the Manager is unavailable; the next one will be'), 60_000);
      expect(line).to.deep.include({ hostname: 'away-host', type: 'builder' });
      const raw = await connect(vhost.url);
      try {
        const channel = await raw.createChannel();
        expect((await channel.checkQueue('system_modules_error')).messageCount, 'dead letters').to.equal(0);
        await waitFor('the heartbeat acked', async () => (await channel.checkQueue('system_modules')).messageCount === 0);
      } finally {
        await raw.close();
      }
    });
  });

  describe('cluster monitoring (reference §8.4)', () => {
    after(stop);

    it('85 % disk raises one warning across passes, a failed unit one event, a flapping unit none, an empty cluster one', async () => {
      for (const etcd_token of ['tok-full', 'tok-empty']) await manager.call('POST', '/clusters', { etcd_token, messaging_exchange_id: 1 });
      await manager.call('POST', '/clusters', { etcd_token: 'tok-elsewhere' });
      const unitCalls = new Map<string, number>();
      const fleet = await fleetDouble(transport, (req) => {
        const full = req.etcd_token === 'tok-full';
        switch (req.action) {
          case 'list_machines':
            return full ? ['host-a', 'host-b'].map((id) => ({ id, primaryIP: '127.0.0.1', metadata: {} })) : [];
          case 'node_info':
            return { 'host-a': { docker_disk_space_percent: 85, coreos_version: 'test', docker_version: '27' }, 'host-b': { docker_disk_space_percent: 40, coreos_version: 'test', docker_version: '27' } };
          case 'list_unit_states': {
            const n = (unitCalls.get(req.etcd_token) ?? 0) + 1;
            unitCalls.set(req.etcd_token, n);
            const unit = (name: string, state: string) => ({ name, hash: 'h', machineID: 'host-a', systemdLoadState: 'loaded', systemdActiveState: state, systemdSubState: state === 'failed' ? 'failed' : 'running' });
            // flaky@0 is failed on each pass's first look and fine on the recheck: it must never be reported.
            return full ? [unit('web@0.service', 'failed'), unit('api@0.service', 'active'), unit('flaky@0.service', n % 2 === 1 ? 'failed' : 'active')] : [];
          }
          default:
            throw new Error(`unexpected ${req.action}`);
        }
      });
      try {
        const proc = await start({ OA_CLUSTER_MONITOR_PERIOD_S: '0.3', OA_FAILED_UNIT_RECHECKS: '1', OA_FAILED_UNIT_RECHECK_S: '0.2', OA_LOG_LEVEL: 'debug' });
        const duplicates = (type: string) => proc.lines.filter((l) => l.msg === 'event already raised within the hour' && l.type === type).length;
        await waitFor('several passes, each re-raising the events', () => duplicates('docker_disk_space_percent') >= 6 && duplicates('failed_unit') >= 3, 30_000);
        const events = await recentEvents(manager);
        const disk = events.filter((e) => e.type === 'docker_disk_space_percent');
        expect(disk.map((e) => [e.severity, e.message, e.data])).to.have.deep.members([
          ['warning', 'Host host-a is reporting a Docker disk space utilization of 85%!', { docker_disk_space_percent: 85, hostname: 'host-a', etcd_token: 'tok-full' }],
          ['warning', 'EtcdCluster tok-empty has no associated hosts', { host_cnt: 0, etcd_token: 'tok-empty' }],
        ]);
        const units = events.filter((e) => e.type === 'failed_unit');
        expect(units.map((e) => [e.severity, e.message, e.data])).to.deep.equal([['warning', 'Unit web@0.service is in a failed state!', { unit_name: 'web@0.service', etcd_token: 'tok-full' }]]);
        const passes = fleet.requests.filter((r) => r.action === 'node_info').length;
        expect(passes).to.be.at.least(3);
        expect(fleet.requests.find((r) => r.action === 'node_info')?.action_parameters).to.deep.equal({ nodes: ['host-a', 'host-b'] });
        expect(fleet.requests.some((r) => r.etcd_token === 'tok-elsewhere'), 'a cluster of no exchange is not the Overseer\'s').to.equal(false);
        process.stdout.write(`      measured: ${passes} passes over tok-full, ${duplicates('docker_disk_space_percent')} disk and ${duplicates('failed_unit')} unit events refused as duplicates\n`);
      } finally {
        await fleet.sub.cancel();
      }
    });
  });

  describe('system component upgrades (reference §8.3)', () => {
    const FAST = { OA_UPGRADE_MONITOR_PERIOD_S: '0.3', OA_COMPONENTS_POLL_PERIOD_S: '0.3', OA_HOURLY_UPGRADE_WINDOW_S: '1' };
    const ids = new Map<string, number>();
    const component = async (type: string) => (await manager.client.systemComponents.get(ids.get(type)!))!;
    const waitStatus = (type: string, status: string) => waitFor(`${type} ${status}`, async () => ((await component(type)).status === status ? component(type) : undefined), 20_000);
    const upgradeStatus = (c: SystemComponent) => c.upgrade_status as { workflows: string[]; current_workflow: string; failure_reason: string };
    const finish = (id: string, failed = false) =>
      manager.call('PUT', `/workflows/${id}`, { current_step: failed ? 'deploy_oa' : 'workflow_completed', workflow_completed: true, workflow_error: failed });
    const seedComponent = async (type: string, strategy: 'manual' | 'hourly', ref?: string) => {
      if (ref !== undefined) await manager.call('POST', '/system_component_refs', { type, source_repo: `OpenAperture/${type}`, source_repo_git_ref: ref });
      const { location } = await manager.call('POST', '/system_components', {
        messaging_exchange_id: 1,
        type,
        source_repo: `OpenAperture/${type}`,
        source_repo_git_ref: 'v1',
        deployment_repo: `acme/${type}_docker`,
        deployment_repo_git_ref: 'master',
        upgrade_strategy: strategy,
      });
      ids.set(type, Number(location!.split('/').pop()));
    };
    const requestUpgrade = (type: string) => manager.call('POST', `/system_components/${ids.get(type)}/upgrade`);
    before(() => start(FAST));
    after(stop);

    it('builder (manual, explicit request): a [config, deploy_oa] workflow at the ref, executed; completed at the ref\'s version', async () => {
      await seedComponent('builder', 'manual', 'v2');
      await requestUpgrade('builder');
      const upgrading = await waitStatus('builder', 'upgrade_in_progress');
      const [wid, ...others] = upgradeStatus(upgrading).workflows;
      expect(others).to.deep.equal([]);
      expect(upgrading.upgrade_status).to.deep.include({ current_workflow: wid, failure_reason: '', target_source_repo: 'OpenAperture/builder', target_source_repo_git_ref: 'v2', target_deployment_repo: 'acme/builder_docker', target_deployment_repo_git_ref: 'master' });
      expect(upgrading.upgrade_status?.upgrade_start_time).to.match(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      // The component is saved upgrade_in_progress first, then the workflow executed (reference §8.3 order).
      const workflow = await waitFor('the workflow executed', async () => {
        const w = await manager.client.workflows.get(wid!);
        return w?.execute_requested_at !== null && w;
      });
      expect(workflow).to.deep.include({ deployment_repo: 'acme/builder_docker', deployment_repo_git_ref: 'master', source_repo: 'OpenAperture/builder', source_repo_git_ref: 'v2' });
      expect(workflow.milestones).to.deep.equal(['config', 'deploy_oa']);

      await finish(wid!);
      const done = await waitStatus('builder', 'upgrade_completed');
      expect(done).to.deep.include({ source_repo: 'OpenAperture/builder', source_repo_git_ref: 'v2', deployment_repo: 'acme/builder_docker', upgrade_status: null });
    });

    it('a failing upgrade ends upgrade_failed with the reason, the component still at its version', async () => {
      await manager.client.systemComponentRefs.update('builder', { type: 'builder', source_repo: 'OpenAperture/builder', source_repo_git_ref: 'v3' });
      await requestUpgrade('builder');
      const wid = upgradeStatus(await waitStatus('builder', 'upgrade_in_progress')).workflows[0]!;
      await finish(wid, true);
      const failed = await waitStatus('builder', 'upgrade_failed');
      expect(upgradeStatus(failed).failure_reason).to.equal(`Workflow ${wid} has failed`);
      expect(failed.source_repo_git_ref).to.equal('v2');
    });

    it('an upgrade in progress when the Overseer stops is followed to its end by the next Overseer', async () => {
      await requestUpgrade('builder');
      const wid = upgradeStatus(await waitStatus('builder', 'upgrade_in_progress')).workflows[0]!;
      await stop();
      await finish(wid);
      await start(FAST);
      const done = await waitStatus('builder', 'upgrade_completed');
      expect(done.source_repo_git_ref).to.equal('v3');
    });

    it('a deployer: its module workflow, then the <deployment_repo>_oa [config, deploy] workflow, one after the other', async () => {
      await seedComponent('deployer', 'manual', 'v2');
      await requestUpgrade('deployer');
      const [first, second] = upgradeStatus(await waitStatus('deployer', 'upgrade_in_progress')).workflows;
      await waitFor('the first workflow executed', async () => (await manager.client.workflows.get(first!))?.execute_requested_at !== null);
      const [w1, w2] = await Promise.all([manager.client.workflows.get(first!), manager.client.workflows.get(second!)]);
      expect([w1?.deployment_repo, w1?.milestones, w2?.deployment_repo, w2?.milestones]).to.deep.equal(['acme/deployer_docker', ['config', 'deploy_oa'], 'acme/deployer_docker_oa', ['config', 'deploy']]);
      expect([w1?.execute_requested_at === null, w2?.execute_requested_at === null]).to.deep.equal([false, true]);
      await finish(first!);
      await waitFor('the second workflow executed', async () => (await manager.client.workflows.get(second!))?.execute_requested_at !== null, 20_000);
      await waitFor('current_workflow moved to the second', async () => upgradeStatus(await component('deployer')).current_workflow === second);
      await finish(second!);
      expect((await waitStatus('deployer', 'upgrade_completed')).source_repo_git_ref).to.equal('v2');
    });

    it('a start the Manager refuses part-way (the _oa repo name too long) ends upgrade_failed with the Manager\'s reason', async () => {
      const deployer = await component('deployer');
      const longRepo = `acme/${'d'.repeat(121)}`; // 126 characters: the component may have it, `<repo>_oa` is one too many
      await manager.call('PUT', `/system_components/${deployer.id}`, { ...inputOf(deployer), deployment_repo: longRepo });
      await manager.client.systemComponentRefs.update('deployer', { type: 'deployer', source_repo: 'OpenAperture/deployer', source_repo_git_ref: 'v3' });
      await requestUpgrade('deployer');
      const failed = await waitStatus('deployer', 'upgrade_failed');
      expect(upgradeStatus(failed).failure_reason).to.match(/^the upgrade could not be started: POST \/workflows .*answered 400: .*deployment_repo: must be at most 128 characters/);
      expect([failed.source_repo_git_ref, failed.deployment_repo]).to.deep.equal(['v2', longRepo]);
    });

    it('hourly: upgraded without a request; afterwards the timer finds it current and leaves its status alone', async () => {
      await seedComponent('notifications', 'hourly', 'v2');
      const proc = overseer!;
      const wid = upgradeStatus(await waitStatus('notifications', 'upgrade_in_progress')).workflows[0]!;
      await finish(wid);
      await waitStatus('notifications', 'upgrade_completed');
      const current = (l: Record<string, unknown>) => l.componentType === 'notifications' && l.trigger === 'scheduled' && l.reason === 'the component is already running the latest version';
      await waitFor('the hourly timer to look again', () => proc.lines.some(current), 20_000);
      expect((await component('notifications')).status).to.equal('upgrade_completed');
    });

    it('ineligible on request: recorded with the reason, the source repo and ref untouched (reference §10.1 item 13 fixed)', async () => {
      await seedComponent('orchestrator', 'manual');
      await requestUpgrade('orchestrator');
      const refused = await waitStatus('orchestrator', 'ineligible_for_upgrade');
      expect(refused).to.deep.include({ source_repo: 'OpenAperture/orchestrator', source_repo_git_ref: 'v1', upgrade_status: { failure_reason: 'no system component ref exists for type orchestrator' } });
    });

    it('a request for a type the exchange does not have goes to overseer_error with the reason', async () => {
      await transport.publish({ exchangeId: 1, queue: OVERSEER_QUEUE }, UPGRADE_REQUESTED, { action: 'upgrade_request', options: { component_type: 'router' } });
      expect((await takeDeadLetter(vhost.url, 'overseer_error')).reason).to.equal('exchange 1 has no system component of type router');
    });
  });
});

const inputOf = (c: SystemComponent) => ({
  messaging_exchange_id: c.messaging_exchange_id,
  type: c.type,
  source_repo: c.source_repo,
  source_repo_git_ref: c.source_repo_git_ref,
  deployment_repo: c.deployment_repo,
  deployment_repo_git_ref: c.deployment_repo_git_ref,
  upgrade_strategy: c.upgrade_strategy,
  status: c.status,
  upgrade_status: c.upgrade_status,
});

async function recentEvents(manager: TestManager): Promise<SystemEvent[]> {
  return readAllPages((w) => manager.client.systemEvents.list({ ...w, lookback: 1 }));
}

async function takeDeadLetter(amqpUrl: string, queue: string): Promise<{ reason: string | undefined }> {
  const raw = await connect(amqpUrl);
  try {
    const channel = await raw.createChannel();
    const msg = await waitFor(`a dead letter on ${queue}`, async () => (await channel.get(queue, { noAck: true })) || undefined);
    return { reason: msg.properties.headers?.[DEAD_LETTER_REASON_HEADER] as string | undefined };
  } finally {
    await raw.close();
  }
}
