import { expect } from 'chai';
import { RuntimeApi, RuntimeApiError, sendCommand } from '../../../runtime/haproxy/runtime-api.js';
import { needs } from '../../helpers/services.js';
import { rejectionOf } from '../../helpers/wait.js';
import { closedPort } from '../../helpers/ports.js';
import { get, Harness, modelOf, route } from './harness.js';

describe('runtime/haproxy/runtime-api: the worker\'s Runtime API over its unix socket', function () {
  this.timeout(30_000);
  needs('haproxy');
  const h = new Harness();
  afterEach(() => h.cleanUp());

  it('reads back each server\'s requests and 5xx responses', async () => {
    const [a, b] = [await h.backend('a'), await h.backend('b')];
    const port = await closedPort();
    const proxy = await h.proxy(modelOf({ hostname: 'app.test', port, routes: [route(a), route(b)] }));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(port, 'app.test', i < 6 ? '/fail' : '/')).status);
    expect(statuses.filter((s) => s === 500)).to.have.length(6);
    const stats = await proxy.api.serverStats();
    const of = (port: number) => stats.find((s) => s.address === `127.0.0.1:${port}`);
    // Round robin alternates: a takes requests 0, 2, 4 (/fail) and 6, 8; b takes 1, 3, 5 (/fail) and 7, 9.
    expect(of(a.port)).to.include({ requests: 5, responses5xx: 3, connectionErrors: 0, currentSessions: 0, status: 'UP', weight: 10 });
    expect(of(b.port)).to.include({ requests: 5, responses5xx: 3 });
  });

  it('counts connection errors of a server that stopped listening', async () => {
    const a = await h.backend('a');
    const port = await closedPort();
    const proxy = await h.proxy(modelOf({ hostname: 'app.test', port, routes: [route(a)] }));
    await a.close();
    expect((await get(port, 'app.test')).status).to.equal(503);
    const [stats] = await proxy.api.serverStats();
    expect(stats?.connectionErrors).to.be.greaterThan(0);
  });

  it('throws HAProxy\'s own words when it refuses a command', async () => {
    const proxy = await h.proxy(modelOf({ hostname: 'app.test', port: await closedPort(), routes: [] }));
    const err = await rejectionOf(proxy.api.execute('set server be_app.test_1/s_x weight 5'));
    expect(err).to.be.instanceOf(RuntimeApiError);
    expect(err.message).to.equal('haproxy refused "set server be_app.test_1/s_x weight 5": No such backend.');
  });

  it('refuses to send a second command hidden after a ";" or a newline', async () => {
    const err = await rejectionOf(sendCommand('/nonexistent.sock', 'show info; shutdown sessions server be/s'));
    expect(err).to.be.instanceOf(RuntimeApiError);
    expect(err.message).to.match(/newline or ';'/);
  });

  it('names the socket that does not answer', async () => {
    const dir = h.newDir();
    const err = await rejectionOf(new RuntimeApi(`${dir}/admin.sock`).workerPid());
    expect(err.message).to.match(new RegExp(`^${dir}/admin.sock: connect ENOENT .* \\(sending "show info"\\)$`));
  });
});
