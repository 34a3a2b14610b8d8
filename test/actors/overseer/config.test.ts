import { expect } from 'chai';
import { intakesOf } from '../../../runtime/topology.js';
import { overseerArgsFromEnv } from '../../../actors/overseer/config.js';
import { components } from '../../../actors/system.js';
import { ConfigError } from '../../../runtime/config.js';

const MANAGER = { MANAGER_URL: 'http://127.0.0.1:4000', OAUTH_CLIENT_ID: 'overseer', OAUTH_CLIENT_SECRET: 's3cret' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    overseerArgsFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('overseer configuration', () => {
  it('defaults to the reference figures (10 min inactive, 20 min deleted, hourly window of an hour)', () => {
    expect(overseerArgsFromEnv({ ...MANAGER, EXCHANGE_ID: '3' })).to.deep.equal({
      exchangeId: 3,
      manager: { baseUrl: 'http://127.0.0.1:4000', clientId: 'overseer', clientSecret: 's3cret' },
      modules: { inactiveAfterMs: 600_000, deleteAfterMs: 1_200_000, sweepPeriodMs: 60_000 },
      clusters: { periodMs: 600_000, failedUnitRechecks: 3, recheckDelayMs: 10_000 },
      upgrades: { componentsPollMs: 300_000, monitorPeriodMs: 60_000, hourlyWindowMs: 3_600_000 },
    });
  });

  it('takes seconds, fractions included, for every period', () => {
    const args = overseerArgsFromEnv({ ...MANAGER, OA_MODULE_INACTIVE_AFTER_S: '2', OA_MODULE_DELETE_AFTER_S: '4', OA_MODULE_SWEEP_PERIOD_S: '0.25', OA_UPGRADE_MONITOR_PERIOD_S: '0.3' });
    expect(args.modules).to.deep.equal({ inactiveAfterMs: 2_000, deleteAfterMs: 4_000, sweepPeriodMs: 250 });
    expect(args.upgrades.monitorPeriodMs).to.equal(300);
  });

  it('names each bad variable', () => {
    expect(problemsOf({ ...MANAGER, OA_MODULE_SWEEP_PERIOD_S: 'often', OA_FAILED_UNIT_RECHECKS: '1.5' })).to.deep.equal([
      'OA_MODULE_SWEEP_PERIOD_S: expected a number of seconds (got "often")',
      'OA_FAILED_UNIT_RECHECKS: expected a whole number (got "1.5")',
    ]);
    expect(problemsOf({ OAUTH_CLIENT_ID: 'x', OAUTH_CLIENT_SECRET: 'y' })[0]).to.match(/^MANAGER_URL: .*\(not set\)/);
    expect(problemsOf({ ...MANAGER, OA_MODULE_INACTIVE_AFTER_S: '0' })[0]).to.match(/^OA_MODULE_INACTIVE_AFTER_S: expected a number above 0/);
  });

  it('refuses a delete-after that does not come after inactive-after', () => {
    expect(problemsOf({ ...MANAGER, OA_MODULE_INACTIVE_AFTER_S: '600', OA_MODULE_DELETE_AFTER_S: '600' })).to.deep.equal([
      'OA_MODULE_DELETE_AFTER_S: delete-after (600000 ms) must be longer than inactive-after (600000 ms)',
    ]);
  });

  it('is in the catalogue, consuming system_modules and overseer', async () => {
    const entry = components.overseer!;
    expect(intakesOf(components, { name: 'overseer' }).map((r) => [r.queue, r.topic, r.concurrency])).to.deep.equal([['system_modules', 'heartbeat', 'serial'], ['overseer', 'upgrade', 'serial']]);
    expect(await entry.configure!({ ...MANAGER, EXCHANGE_ID: '2' }, {})).to.deep.include({ exchangeId: 2 });
  });

  it('decodes what arrives: the envelope type and the payload are checked, problems named', () => {
    const [heartbeat, upgrade] = intakesOf(components, { name: 'overseer' });
    expect(heartbeat!.decode({ status: 'active', workload: [], hostname: 'h', type: 'builder', event_type: 'status' }, 'module.status_reported')).to.deep.include({ ok: true });
    expect(heartbeat!.decode({}, 'something.else')).to.deep.equal({ ok: false, reason: 'unexpected message type "something.else" (expected module.status_reported)' });
    expect(upgrade!.decode({ action: 'upgrade_request', options: {} }, 'system_component.upgrade_requested')).to.deep.include({ ok: false });
    expect(JSON.stringify(upgrade!.decode({ action: 'upgrade_request', options: {} }, 'system_component.upgrade_requested'))).to.include('options.component_type');
  });
});
