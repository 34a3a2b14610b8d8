import { expect } from 'chai';
import recorder from './fixtures/recorder.actor.js';
import { startPlatformProcess, type PlatformProcess } from '../../runtime/boot.js';
import { ConfigError, MessagingEnv, parseEnv, RuntimeEnv } from '../../runtime/config.js';
import { SYSTEM_MODULES_QUEUE } from '../../runtime/messaging/core/heartbeat.js';
import { intake } from '../../runtime/messaging/intake.js';
import { parseTopology, type Catalogue } from '../../runtime/topology.js';
import { captureLogs } from '../helpers/log-capture.js';
import { rejectionOf, waitFor } from '../helpers/wait.js';

const decode = (payload: unknown) => ({ ok: true as const, value: payload as { n: number; crash?: boolean } });
const catalogue: Catalogue = { recorder: { actor: recorder, intake: [intake({ queue: 'recorder', topic: 'deliver', decode, concurrency: 'serial', timeoutMs: 10_000 })] } };
const env = parseEnv(RuntimeEnv.extend(MessagingEnv.shape), { OA_HEARTBEAT_INTERVAL_MS: '100000', OA_LOG_LEVEL: 'silent' });

for (const mode of ['in-memory', 'forked'] as const) {
  describe(`a platform process on the in-memory transport (${mode} component)`, function () {
    this.timeout(30_000);
    let platform: PlatformProcess;

    beforeEach(async () => {
      const topology = parseTopology(JSON.stringify({ name: 't', transport: 'in-memory', components: [{ name: 'recorder', mode }] }), 't.json');
      platform = await startPlatformProcess({ topology, catalogue, env, log: captureLogs().log, onFailure: () => undefined });
    });
    afterEach(() => platform.system.shutdown(2_000));

    it('routes its queue into the component actor, and answers requests with the actor reply', async () => {
      const recorderHandle = platform.system.root.supervisor('recorder').handle('recorder', recorder);
      await platform.transport.publish({ exchangeId: 1, queue: 'recorder' }, 'recorder.noted', { n: 1 });
      const count = await platform.transport.request({ exchangeId: 1, queue: 'recorder' }, 'recorder.asked', { n: 2 }, { timeoutMs: 5_000 });
      expect(count).to.equal(2);
      expect(await recorderHandle.ask('seen')).to.deep.equal([1, 2]);
    });

    it('redelivers a message that crashed the actor to its next incarnation', async () => {
      const recorderHandle = platform.system.root.supervisor('recorder').handle('recorder', recorder);
      await platform.transport.publish({ exchangeId: 1, queue: 'recorder' }, 'recorder.noted', { n: 7, crash: true });
      const seen = await waitFor('the redelivery', async () => {
        const now = recorderHandle.status === 'running' ? await recorderHandle.ask('seen') : [];
        return now.includes(7) && now;
      });
      expect(seen).to.deep.equal([7]);
    });

    it(mode === 'in-memory' ? 'lets the component publish through the process transport' : 'tells a forked component it cannot reach the in-memory transport', async () => {
      const forwarded: unknown[] = [];
      await platform.transport.consume({ queue: 'forwarded', decode: (p) => ({ ok: true, value: p }), handle: async (p) => (forwarded.push(p), { type: 'ack' }) });
      const reply = platform.transport.request({ exchangeId: 1, queue: 'recorder' }, 'recorder.asked', { n: 5, forward: true }, { timeoutMs: 5_000 });
      if (mode === 'in-memory') {
        expect(await reply).to.equal(1);
        await waitFor('the forwarded message', () => forwarded.length === 1);
        expect(forwarded).to.deep.equal([{ n: 5 }]);
      } else {
        const err = await rejectionOf(reply);
        expect(err.name).to.equal('TransportUnavailable');
        expect(err.message).to.equal('recorder is forked: it cannot reach the in-memory transport of its parent (use "transport": "amqp")');
      }
    });

    it('sends a heartbeat for each component to system_modules', async () => {
      const beats: unknown[] = [];
      await platform.transport.consume({
        queue: SYSTEM_MODULES_QUEUE,
        decode: (p) => ({ ok: true, value: p }),
        handle: async (p) => (beats.push(p), { type: 'ack' }),
      });
      await waitFor('a heartbeat', () => beats.length > 0);
      expect(beats[0]).to.include({ type: 'recorder', event_type: 'status', status: 'active' });
    });
  });
}

describe('startPlatformProcess configuration', () => {
  it('refuses the amqp transport without AMQP_URL or OA_MESSAGING_METADATA, naming both', async () => {
    const topology = parseTopology('{"name":"t","transport":"amqp","components":[]}', 't.json');
    const err = await rejectionOf(startPlatformProcess({ topology, catalogue, env, log: captureLogs().log, onFailure: () => undefined }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.match(/AMQP_URL or OA_MESSAGING_METADATA: the amqp transport needs one of them/);
  });
});
