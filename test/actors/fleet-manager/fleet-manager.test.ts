import { expect } from 'chai';
import { DockerHostPool, mapLimited } from '../../../actors/fleet-manager/hosts.js';
import { FLEET_ACTION_REQUESTED, FLEET_MANAGER_QUEUE } from '../../../actors/fleet-manager/messages.js';
import type { HostConnection } from '../../../http/client/manager-client.js';
import type { ActorSystem } from '../../../runtime/actors/system.js';
import { createLogger } from '../../../runtime/logger.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import { DEAD_LETTERED_ERROR, type Transport } from '../../../runtime/messaging/transport.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';
import { startFleetManager, testArgs } from './fixtures.js';

const log = createLogger({ level: 'silent' });
const QUEUE = { exchangeId: 4, queue: FLEET_MANAGER_QUEUE };

describe('FleetManager: the request edge (real actor, in-memory transport)', function () {
  this.timeout(20_000);
  const broker = new MemoryBroker();
  let caller: Transport;
  let fleet: { system: ActorSystem; failures: Error[] };

  before(async () => {
    caller = broker.transport({ exchangeId: 1, log });
    // No Manager is needed: every request here is refused before the FleetManager asks it anything.
    fleet = await startFleetManager(broker.transport({ exchangeId: 4, log }), testArgs({ baseUrl: 'http://127.0.0.1:1', clientId: 'c', clientSecret: 's' }, 'unused'));
  });
  after(async () => {
    await fleet?.system.shutdown(2_000);
    await caller?.close();
  });

  it('an unknown action is an error reply in the original words (reference §7.3), and lands in fleet_manager_error', async () => {
    const err = await rejectionOf(caller.request(QUEUE, FLEET_ACTION_REQUESTED, { etcd_token: 't', action: 'destroy_everything' }, { timeoutMs: 5_000 }));
    expect([err.name, err.message]).to.deep.equal([DEAD_LETTERED_ERROR, 'The following FleetManager action is not supported: destroy_everything']);
    const dead = broker.takeDeadLetters(QUEUE);
    expect(dead.map((d) => d.reason)).to.deep.equal([err.message]);
    expect(JSON.parse(dead[0]!.body.toString('utf8'))).to.deep.include({ type: FLEET_ACTION_REQUESTED, payload: { etcd_token: 't', action: 'destroy_everything' } });
  });

  it('a request missing a field is an error reply naming the field, and lands in fleet_manager_error', async () => {
    const err = await rejectionOf(caller.request(QUEUE, FLEET_ACTION_REQUESTED, { etcd_token: 't', action: 'unit_logs', action_parameters: {} }, { timeoutMs: 5_000 }));
    expect(err.message).to.match(/^action_parameters\.unit_name: /);
    expect(broker.takeDeadLetters(QUEUE).map((d) => d.reason)).to.deep.equal([err.message]);
  });

  it('a bad publish (nobody waits for it) is dead-lettered with the reason', async () => {
    await caller.publish(QUEUE, FLEET_ACTION_REQUESTED, { etcd_token: 't', action: 'restart_unit' });
    const dead = await waitFor('the dead letter', () => broker.takeDeadLetters(QUEUE)[0]);
    expect(dead.reason).to.match(/^action_parameters: /);
  });

  it('keeps running: nothing above crashed', () => expect(fleet.failures).to.deep.equal([]));
});

describe('FleetManager: the Docker host pool', () => {
  const conn = (over: Partial<HostConnection> = {}): HostConnection => ({
    name: 'h1',
    docker_url: 'tcp://127.0.0.1:1',
    ssh_user: null,
    ssh_private_key: null,
    tls_ca: null,
    tls_cert: null,
    tls_private_key: null,
    labels: {},
    ...over,
  });

  it('keeps one driver per host across requests, a new one when its URL, key or socket changes, and closes them all', async () => {
    const pool = new DockerHostPool(1_000);
    const first = pool.of(conn());
    expect(pool.of(conn({ labels: { zone: 'a' } }))).to.equal(first);
    expect(pool.of(conn({ docker_url: 'tcp://127.0.0.1:2' }))).to.not.equal(first);
    expect(pool.of(conn({ ssh_private_key: 'other' }))).to.not.equal(first);
    expect(pool.of(conn({ labels: { docker_socket: '/run/other.sock' } }))).to.not.equal(first);
    expect(pool.size).to.equal(4);
    await pool.close();
    expect(pool.size).to.equal(0);
  });
});

describe('FleetManager: mapLimited', () => {
  it('keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimited([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running -= 1;
      return n * 10;
    });
    expect(out).to.deep.equal([50, 10, 40, 20, 30, 0, 60]);
    expect(most).to.equal(3);
    expect(await mapLimited([], 3, async (n: number) => n)).to.deep.equal([]);
  });
});
