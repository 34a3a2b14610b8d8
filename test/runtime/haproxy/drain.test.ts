import { expect } from 'chai';
import { drainRoute, UnknownRouteError } from '../../../runtime/haproxy/drain.js';
import { needs } from '../../helpers/services.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';
import { closedPort } from '../../helpers/ports.js';
import { get, Harness, modelOf, route, type Backend } from './harness.js';

describe('runtime/haproxy/drain: a route drained, then removed', function () {
  this.timeout(30_000);
  needs('haproxy');
  const h = new Harness();
  afterEach(() => h.cleanUp());

  async function twoServers(): Promise<{ old: Backend; next: Backend; port: number; proxy: Awaited<ReturnType<Harness['proxy']>> }> {
    const [old, next] = [await h.backend('old'), await h.backend('next')];
    const port = await closedPort();
    const proxy = await h.proxy(modelOf({ hostname: 'app.test', port, routes: [route(old)] }));
    return { old, next, port, proxy };
  }

  it('lets an in-flight slow request finish, sends nothing new to the drained server, then deletes it', async () => {
    const { old, next, port, proxy } = await twoServers();
    const slow = get(port, 'app.test', '/slow?ms=1500');
    await waitFor('the slow request to reach the old server', () => old.hits === 1);
    await proxy.apply(modelOf({ hostname: 'app.test', port, routes: [route(old), route(next)] }));
    const draining = drainRoute(proxy, { authority: `app.test:${port}`, route: `127.0.0.1:${old.port}` }, { deadlineMs: 10_000, pollIntervalMs: 50 });
    await waitFor('the drain state', async () => (await proxy.api.serverStats()).some((s) => s.address === `127.0.0.1:${old.port}` && s.status === 'DRAIN'));
    const during = await Promise.all(Array.from({ length: 20 }, () => get(port, 'app.test')));
    expect(during.map((a) => a.body)).to.deep.equal(Array.from({ length: 20 }, () => 'next'));
    expect(await slow).to.deep.equal({ status: 200, body: 'old' });
    const result = await draining;
    process.stdout.write(`      drained in ${result.tookMs} ms (the slow request had ~1,500 ms to go)\n`);
    expect(result).to.include({ drained: true, cutSessions: 0 });
    expect(result.tookMs).to.be.within(1_000, 3_000);
    expect(old.hits).to.equal(1);
    expect((await proxy.api.serverStats()).map((s) => s.address)).to.deep.equal([`127.0.0.1:${next.port}`]);
    expect(proxy.model?.authorities[0]?.routes.map((r) => r.port)).to.deep.equal([next.port]);
  });

  it('shuts down what is left at the deadline, and removes the server', async () => {
    const { old, next, port, proxy } = await twoServers();
    const slow = get(port, 'app.test', '/slow?ms=5000');
    await waitFor('the slow request to reach the old server', () => old.hits === 1);
    await proxy.apply(modelOf({ hostname: 'app.test', port, routes: [route(old), route(next)] }));
    const result = await drainRoute(proxy, { authority: `app.test:${port}`, route: `127.0.0.1:${old.port}` }, { deadlineMs: 500, pollIntervalMs: 50 });
    expect(result).to.include({ drained: false, cutSessions: 1 });
    expect(result.tookMs).to.be.lessThan(2_000);
    expect((await slow).status, 'the cut request').to.equal(502);
    expect(await get(port, 'app.test')).to.deep.equal({ status: 200, body: 'next' });
  });

  it('refuses a route the running model does not have, naming it', async () => {
    const { port, proxy } = await twoServers();
    const err = await rejectionOf(drainRoute(proxy, { authority: `app.test:${port}`, route: '127.0.0.1:1' }, { deadlineMs: 100 }));
    expect(err).to.be.instanceOf(UnknownRouteError);
    expect(err.message).to.equal(`authority app.test:${port} has no route 127.0.0.1:1`);
  });
});
