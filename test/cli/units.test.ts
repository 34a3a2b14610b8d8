import { expect } from 'chai';
import { configDir, liveManager, runCli, stopCliProcesses, type CliResult } from './harness.js';
import { FLEET_MANAGER_QUEUE, FleetRequest } from '../../actors/fleet-manager/messages.js';
import type { Subscription } from '../../runtime/messaging/transport.js';
import { captureLogs } from '../helpers/log-capture.js';

/**
 * `openaperture units` and `logs` through the Manager's FleetManager-backed routes, with a stand-in FleetManager in
 * the cluster's exchange answering as the real one does (actors/fleet-manager/messages.ts).
 */

const option = (name: string, value: string) => ({ section: 'X-Docker', name, value });
const UNITS = [
  { name: 'hello@1.service', options: [option('Health', 'none'), option('Port', '20000:8080/tcp')], desiredState: 'launched', currentState: 'launched', machineID: 'local' },
  { name: 'hello@2.service', options: [option('Health', 'unhealthy'), option('Port', '20001:8080/tcp'), option('Port', '20002:9090/tcp')], desiredState: 'launched', currentState: 'inactive', machineID: 'edge' },
  { name: 'db.service', options: [], desiredState: 'launched', currentState: 'launched', machineID: 'local' },
];

describe('openaperture units and logs', function () {
  this.timeout(120_000);
  const manager = liveManager();
  const config = configDir();
  const cli = (...args: string[]) => runCli(args, { env: { OA_CONFIG_DIR: config() } });
  let fleetManager: Subscription;
  const asked: string[] = [];

  before(async () => {
    const exchange = await manager().call('POST', '/messaging/exchanges', { name: 'cli-units' });
    expect(exchange.status).to.equal(201);
    const exchangeId = Number(((await manager().call('GET', '/messaging/exchanges')).body as Array<{ id: number; name: string }>).find((e) => e.name === 'cli-units')?.id);
    const transport = manager().broker.transport({ exchangeId, log: captureLogs().log });
    fleetManager = await transport.consume({
      queue: FLEET_MANAGER_QUEUE,
      decode: (payload) => {
        const parsed = FleetRequest.safeParse(payload);
        return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: parsed.error.message };
      },
      async handle(request) {
        asked.push(`${request.etcd_token} ${request.action}${request.action === 'unit_logs' ? ` ${request.action_parameters.unit_name}` : ''}`);
        if (request.action === 'list_units') return { type: 'ack', reply: UNITS };
        if (request.action === 'unit_logs') return { type: 'ack', reply: `log of ${request.action_parameters.unit_name}\n\n` };
        return { type: 'ack', reply: [] };
      },
    });
    const { clientId, clientSecret } = await manager().addClient('admin');
    const ok = (r: CliResult) => expect(r.code, r.stderr).to.equal(0);
    ok(await cli('login', '--url', manager().baseUrl, '--client-id', clientId, '--client-secret', clientSecret));
    ok(await cli('clusters', 'add', 'fleet', '--exchange', String(exchangeId)));
  });
  after(async () => {
    stopCliProcesses();
    await fleetManager?.cancel();
  });

  it('units lists what the FleetManager reports, with each unit host ports and Docker health', async () => {
    const r = await cli('units', 'fleet');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trimEnd().split('\n').map((l) => l.trimEnd())).to.deep.equal([
      'UNIT             HOST   DESIRED   CURRENT   PORTS                          HEALTH',
      'hello@1.service  local  launched  launched  20000:8080/tcp                 -',
      'hello@2.service  edge   launched  inactive  20001:8080/tcp,20002:9090/tcp  unhealthy',
      'db.service       local  launched  launched  -                              -',
    ]);
  });

  it('logs of a unit name show every instance of it; of an instance, that one', async () => {
    asked.length = 0;
    const all = await cli('logs', 'fleet', 'hello');
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.equal('==> hello@1.service on local <==\nlog of hello@1.service\n\n\n==> hello@2.service on edge <==\nlog of hello@2.service\n\n\n');
    const one = await cli('logs', 'fleet', 'db.service');
    expect(one.stdout).to.equal('log of db.service\n\n\n');
    expect(asked.filter((a) => a.includes('unit_logs')).sort()).to.deep.equal(['fleet unit_logs db.service', 'fleet unit_logs hello@1.service', 'fleet unit_logs hello@2.service']);
  });

  it('an unknown unit or cluster is one line', async () => {
    const [unit, cluster] = await Promise.all([cli('logs', 'fleet', 'nope'), cli('units', 'nowhere')]);
    expect([unit.code, cluster.code]).to.deep.equal([1, 1]);
    expect(unit.stderr).to.equal('openaperture: no unit "nope" in cluster "fleet" (see: openaperture units fleet)\n');
    expect(cluster.stderr).to.equal('openaperture: no cluster "nowhere" (see: openaperture clusters list)\n');
  });
});
