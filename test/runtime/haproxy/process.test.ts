import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { HaproxyError, HaproxyProcess } from '../../../runtime/haproxy/process.js';
import { needs } from '../../helpers/services.js';
import { stillRuns, type ProcessId, processStat } from '../../helpers/processes.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';
import { closedPort } from '../../helpers/ports.js';
import { get, Harness, modelOf, route } from './harness.js';

describe('runtime/haproxy/process: HAProxy master-worker owned by a HaproxyProcess', function () {
  this.timeout(30_000);
  needs('haproxy');
  const h = new Harness();
  afterEach(() => h.cleanUp());

  it('routes by Host header, case-insensitively, with and without the port; any other Host gets 503', async () => {
    const [a, b, c] = [await h.backend('a'), await h.backend('b'), await h.backend('c')];
    const [port, other] = [await closedPort(), await closedPort()];
    await h.proxy(
      modelOf(
        { hostname: 'a.test', port, routes: [route(a)] },
        { hostname: 'b.test', port, routes: [route(b)] },
        { hostname: 'a.test', port: other, routes: [route(c)] },
      ),
    );
    expect(await get(port, 'a.test')).to.deep.equal({ status: 200, body: 'a' });
    expect(await get(port, `A.Test:${port}`)).to.deep.equal({ status: 200, body: 'a' });
    expect(await get(port, 'B.TEST')).to.deep.equal({ status: 200, body: 'b' });
    expect(await get(other, 'a.test')).to.deep.equal({ status: 200, body: 'c' });
    expect(await get(port, 'c.test')).to.deep.equal({ status: 503, body: 'no route for this host' });
    expect(await get(port, `a.test:${other}`)).to.include({ status: 503 });
  });

  it('adds a server through the Runtime API: it takes traffic, with no reload and the same worker', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const before = modelOf({ hostname: 'app.test', port, routes: [route(a)] });
    const proxy = await h.proxy(before);
    const worker = await proxy.api.workerPid();
    const change = await proxy.apply(modelOf({ hostname: 'app.test', port, routes: [route(a), route(b)] }));
    expect(change.kind).to.equal('runtime');
    const bodies = await Promise.all(Array.from({ length: 20 }, () => get(port, 'app.test').then((r) => r.body)));
    expect(bodies.filter((x) => x === 'b')).to.have.length(10);
    expect(await proxy.api.workerPid()).to.equal(worker);
    expect((await proxy.processList()).reloads).to.equal(0);
  });

  it('splits traffic by weight: 10 against 90 gives the small one 7-13 % of 1,000 requests', async () => {
    const [canary, stable] = [await h.backend('canary'), await h.backend('stable')];
    const port = await closedPort();
    const proxy = await h.proxy(modelOf({ hostname: 'app.test', port, routes: [route(stable, 90), route(canary, 10)] }));
    const counts = { canary: 0, stable: 0 };
    for (let batch = 0; batch < 50; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => get(port, 'app.test')));
      for (const { body } of answers) counts[body as keyof typeof counts] += 1;
    }
    const share = counts.canary / 1_000;
    process.stdout.write(`      measured canary share: ${(share * 100).toFixed(1)} % (${counts.canary} of 1,000)\n`);
    expect(share).to.be.within(0.07, 0.13);
    const stats = await proxy.api.serverStats();
    expect(stats.find((s) => s.address === `127.0.0.1:${canary.port}`)?.requests).to.equal(counts.canary);
  });

  it('reloads without a failed request: a probe loop through three reloads that add ports and authorities', async () => {
    const a = await h.backend('a');
    const ports = [await closedPort(), await closedPort(), await closedPort(), await closedPort()];
    const authority = (i: number) => ({ hostname: `app${i}.test`, port: ports[i] ?? 0, routes: [route(a)] });
    const proxy = await h.proxy(modelOf(authority(0)));
    let probing = true;
    const tally = { ok: 0, failed: 0, errors: [] as string[] };
    const probe = async () => {
      while (probing) {
        try {
          const { status } = await get(ports[0] ?? 0, 'app0.test');
          if (status === 200) tally.ok += 1;
          else (tally.failed += 1), tally.errors.push(`status ${status}`);
        } catch (err) {
          tally.failed += 1;
          tally.errors.push((err as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 4 }, probe);
    const workers: number[] = [await proxy.api.workerPid()];
    for (let i = 1; i <= 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const change = await proxy.apply(modelOf(...Array.from({ length: i + 1 }, (_, k) => authority(k))));
      expect(change.kind).to.equal('reload');
      workers.push(await proxy.api.workerPid());
      expect(await get(ports[i] ?? 0, `app${i}.test`)).to.deep.equal({ status: 200, body: 'a' });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    probing = false;
    await Promise.all(loops);
    process.stdout.write(`      probe through 3 reloads: ${tally.ok} ok, ${tally.failed} failed\n`);
    expect(tally.errors).to.deep.equal([]);
    expect(tally.ok).to.be.greaterThan(100);
    expect(new Set(workers).size).to.equal(4);
  });

  it('refuses a config haproxy cannot load, with its own words, and keeps serving the old one', async () => {
    const a = await h.backend('a');
    const port = await closedPort();
    const held: Server = createServer();
    const busy = await closedPort();
    await new Promise<void>((resolve) => held.listen(busy, '127.0.0.1', resolve));
    try {
      const proxy = await h.proxy(modelOf({ hostname: 'app.test', port, routes: [route(a)] }));
      const err = await rejectionOf(proxy.apply(modelOf({ hostname: 'app.test', port, routes: [route(a)] }, { hostname: 'app.test', port: busy, routes: [route(a)] })));
      expect(err).to.be.instanceOf(HaproxyError);
      expect(err.message).to.match(new RegExp(`could not load the new config[\\s\\S]*${busy}`));
      expect(proxy.model).to.equal(undefined);
      expect(await get(port, 'app.test')).to.deep.equal({ status: 200, body: 'a' });
    } finally {
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
  });

  it('resolves `exited` on kill -9 of the master, its worker goes too, and a new one starts on the same ports', async () => {
    const a = await h.backend('a');
    const port = await closedPort();
    const model = modelOf({ hostname: 'app.test', port, routes: [route(a)] });
    const dir = h.newDir();
    const proxy = await h.proxy(model, dir);
    const workerPid = await proxy.api.workerPid();
    const worker: ProcessId = { pid: workerPid, startTicks: processStat(workerPid)?.startTicks ?? 0, command: '' };
    process.kill(proxy.pid, 'SIGKILL');
    expect(await proxy.exited).to.deep.equal({ code: null, signal: 'SIGKILL', requested: false });
    await waitFor('the worker to exit', () => !stillRuns(worker), 5_000);
    const restarted = await h.proxy(model, dir);
    expect(await get(port, 'app.test')).to.deep.equal({ status: 200, body: 'a' });
    expect(await restarted.stop()).to.include({ requested: true });
  });

  it('resolves `exited` when the worker is killed: the master exits with it', async () => {
    const proxy = await h.proxy(modelOf());
    process.kill(await proxy.api.workerPid(), 'SIGKILL');
    const exit = await proxy.exited;
    expect(exit.requested).to.equal(false);
    expect(exit.code).to.not.equal(0);
  });

  it('fails to start, naming the executable, when it does not exist', async () => {
    const dir = h.newDir();
    const err = await rejectionOf(HaproxyProcess.start({ binary: `${dir}/no-haproxy`, dir, settings: h.settingsFor(dir) }, modelOf()));
    expect(err).to.be.instanceOf(HaproxyError);
    expect(err.message).to.equal(`cannot run ${dir}/no-haproxy: no such file`);
  });
});
