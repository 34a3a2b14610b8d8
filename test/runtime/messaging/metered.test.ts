import { expect } from 'chai';
import { meteredTransport } from '../../../runtime/messaging/metered.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { ProcessMetrics } from '../../../runtime/metrics/process-metrics.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { sample } from '../../helpers/prometheus.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';

describe('meteredTransport (openaperture_messaging_*, openaperture_rpc_duration_seconds)', () => {
  let metrics: ProcessMetrics;
  let transport: Transport;
  const to = (queue: string) => ({ exchangeId: 1, queue });
  const value = async (series: string) => sample(await metrics.registry.metrics(), series);

  beforeEach(() => {
    metrics = new ProcessMetrics();
    transport = meteredTransport(new MemoryBroker().transport({ exchangeId: 1, log: captureLogs().log }), metrics);
  });
  afterEach(() => transport.close());

  it('counts a payload its decoder refuses as a dead letter', async () => {
    await transport.consume({ queue: 'q', decode: () => ({ ok: false, reason: 'no' }), handle: async () => ({ type: 'ack' }) });
    await transport.publish(to('q'), 't', {});
    await waitFor('the dead letter', async () => (await value('openaperture_messaging_dead_letters_total{queue="q"}')) === 1);
    expect(await value('openaperture_messaging_deliveries_total{queue="q"}')).to.equal(1);
  });

  it('counts a retry, then the dead letter of the redelivery; a handler that throws counts as a retry', async () => {
    let calls = 0;
    await transport.consume({
      queue: 'q',
      decode: (p) => ({ ok: true, value: p }),
      handle: async () => {
        calls += 1;
        if (calls === 1) throw new Error('first time');
        return { type: 'retry', reason: 'again' };
      },
    });
    await transport.publish(to('q'), 't', {});
    await waitFor('the dead letter', async () => (await value('openaperture_messaging_dead_letters_total{queue="q"}')) === 1);
    expect(await value('openaperture_messaging_retries_total{queue="q"}')).to.equal(1);
    expect(await value('openaperture_messaging_deliveries_total{queue="q"}')).to.equal(2);
  });

  it('times requests by queue and outcome: a reply, an error reply, no reply', async () => {
    await transport.consume({ queue: 'ok', decode: (p) => ({ ok: true, value: p }), handle: async () => ({ type: 'ack', reply: 1 }) });
    await transport.consume({
      queue: 'err',
      decode: (p) => ({ ok: true, value: p }),
      handle: async () => {
        throw new Error('refused');
      },
    });
    expect(await transport.request(to('ok'), 't', {}, { timeoutMs: 2_000 })).to.equal(1);
    expect((await rejectionOf(transport.request(to('err'), 't', {}, { timeoutMs: 2_000 }))).message).to.equal('refused');
    expect((await rejectionOf(transport.request(to('nobody'), 't', {}, { timeoutMs: 50 }))).name).to.equal('RpcTimeout');
    expect(await value('openaperture_rpc_duration_seconds_count{queue="ok",outcome="ok"}')).to.equal(1);
    expect(await value('openaperture_rpc_duration_seconds_count{queue="err",outcome="error"}')).to.equal(1);
    expect(await value('openaperture_rpc_duration_seconds_count{queue="nobody",outcome="timeout"}')).to.equal(1);
    expect(await value('openaperture_messaging_acks_total{queue="err"}')).to.equal(1);
  });
});
