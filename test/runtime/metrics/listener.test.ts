import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import recorder from '../fixtures/recorder.actor.js';
import { startPlatformProcess, type PlatformProcess } from '../../../runtime/boot.js';
import { ConfigError, MessagingEnv, parseEnv, RuntimeEnv } from '../../../runtime/config.js';
import { intake } from '../../../runtime/messaging/intake.js';
import { packagePath } from '../../../runtime/package-path.js';
import { parseTopology, type Catalogue } from '../../../runtime/topology.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { sample } from '../../helpers/prometheus.js';
import { waitFor } from '../../helpers/wait.js';

const decode = (payload: unknown) => ({ ok: true as const, value: payload as { n: number; crash?: boolean } });
const catalogue: Catalogue = { recorder: { actor: recorder, intake: [intake({ queue: 'recorder', topic: 'deliver', decode, concurrency: 'serial', timeoutMs: 10_000 })] } };
const topology = parseTopology(JSON.stringify({ name: 't', transport: 'in-memory', components: [{ name: 'recorder' }] }), 't.json');
const envWith = (address: string) => parseEnv(RuntimeEnv.extend(MessagingEnv.shape), { OA_HEARTBEAT_INTERVAL_MS: '100000', OA_LOG_LEVEL: 'silent', OA_METRICS_ADDRESS: address });

describe('OA_METRICS_ADDRESS', () => {
  it('takes host:port, [v6]:port and off; anything else names the variable', () => {
    expect(envWith('0.0.0.0:9100').OA_METRICS_ADDRESS).to.deep.equal({ host: '0.0.0.0', port: 9100 });
    expect(envWith('[::1]:9464').OA_METRICS_ADDRESS).to.deep.equal({ host: '::1', port: 9464 });
    expect(envWith('off').OA_METRICS_ADDRESS).to.equal('off');
    for (const bad of ['9464', 'localhost', 'host:99999', 'host:port', ':9464', 'on']) {
      expect(() => envWith(bad), bad).to.throw(ConfigError, `OA_METRICS_ADDRESS: expected host:port (e.g. 127.0.0.1:9464) or off (got "${bad}")`);
    }
  });
});

describe('a platform process with a bad OA_METRICS_ADDRESS', function () {
  this.timeout(30_000);

  it('stops at start, naming the variable', async () => {
    const env = { ...process.env, OA_METRICS_ADDRESS: '9464', OA_DATA_DIR: '/nonexistent/never-used' };
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', packagePath('actors', 'main.ts'), '--topology', 'all-in-one'], { env });
    const err = (await run.then(() => new Error('it started'), (e: unknown) => e)) as { code?: number; stderr?: string };
    expect(err.code).to.equal(1);
    expect(err.stderr).to.include('OA_METRICS_ADDRESS: expected host:port (e.g. 127.0.0.1:9464) or off (got "9464")');
  });
});

describe('a platform process serves its metrics (curl http://<OA_METRICS_ADDRESS>/metrics)', function () {
  this.timeout(30_000);
  let platform: PlatformProcess;

  before(async () => {
    platform = await startPlatformProcess({ topology, catalogue, env: envWith('127.0.0.1:0'), log: captureLogs().log, onFailure: () => undefined });
  });
  after(() => platform.system.shutdown(2_000));

  const scrape = async (): Promise<string> => {
    const res = await fetch(platform.metricsUrl!);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('counts deliveries, retries, acks, RPC latency, restarts and mailbox depth of the real runtime, with the process metrics', async () => {
    await platform.transport.publish({ exchangeId: 1, queue: 'recorder' }, 'recorder.noted', { n: 1, crash: true });
    expect(await platform.transport.request({ exchangeId: 1, queue: 'recorder' }, 'recorder.asked', { n: 2 }, { timeoutMs: 5_000 })).to.equal(2);
    const text = await waitFor('the restart counted', async () => {
      const now = await scrape();
      return sample(now, 'openaperture_actor_restarts_total{supervisor="root/recorder",actor="recorder"}') === 1 && now;
    });
    // The crashing message twice (its retry, then its redelivery acked), the request once.
    expect(sample(text, 'openaperture_messaging_deliveries_total{queue="recorder"}')).to.equal(3);
    expect(sample(text, 'openaperture_messaging_retries_total{queue="recorder"}')).to.equal(1);
    expect(sample(text, 'openaperture_messaging_acks_total{queue="recorder"}')).to.equal(2);
    expect(sample(text, 'openaperture_rpc_duration_seconds_count{queue="recorder",outcome="ok"}')).to.equal(1);
    expect(sample(text, 'openaperture_actor_mailbox_depth{actor="recorder"}')).to.equal(0);
    expect(text).to.match(/^process_resident_memory_bytes /m);
  });

  it('answers 404 to any other path', async () => {
    expect((await fetch(platform.metricsUrl!.replace('/metrics', '/other'))).status).to.equal(404);
  });
});

describe('a platform process without a metrics listener', function () {
  this.timeout(30_000);

  it('serves none with OA_METRICS_ADDRESS=off', async () => {
    const platform = await startPlatformProcess({ topology, catalogue, env: envWith('off'), log: captureLogs().log, onFailure: () => undefined });
    await platform.system.shutdown(2_000);
    expect(platform.metricsUrl).to.equal(undefined);
  });

  it('starts anyway when the port is taken, with a warning naming OA_METRICS_ADDRESS', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    const logs = captureLogs();
    try {
      const platform = await startPlatformProcess({ topology, catalogue, env: envWith(`127.0.0.1:${port}`), log: logs.log, onFailure: () => undefined });
      await platform.system.shutdown(2_000);
      expect(platform.metricsUrl).to.equal(undefined);
      expect(logs.lines.map((l) => String(l.msg))).to.include(`OA_METRICS_ADDRESS: cannot listen on 127.0.0.1:${port} (listen EADDRINUSE: address already in use 127.0.0.1:${port}); this process serves no metrics`);
    } finally {
      holder.close();
    }
  });
});
