import { expect } from 'chai';
import { openDatabase } from '../../http/database.js';
import { MANAGER_ROUTES } from '../../http/routes/index.js';
import type { AnyRoute } from '../../http/route.js';
import { captureLogs } from '../helpers/log-capture.js';
import { needs } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep } from '../../runtime/core/promises.js';
import { scratchPostgres, serveApi, type ApiHarness, type HarnessDeps } from './harness.js';

const routes = MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>;
const OUTAGE_MS = 20_000;
/** The answer deadline during an outage (README "Limits"): a request without an answer by then counts as hung. */
const ANSWER_WITHIN_MS = 2_000;

describe('Manager: the database goes away (a TCP proxy between the Manager and PostgreSQL)', function () {
  this.timeout(120_000);
  needs('postgres');
  let proxy: TcpProxy;
  let served: { harness: ApiHarness; close(): Promise<void> };
  let drop: () => Promise<void>;
  const h = () => served.harness;

  before(async () => {
    const scratch = await scratchPostgres();
    drop = scratch.drop;
    const url = new URL(scratch.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const logs = captureLogs();
    served = await serveApi('postgresql', await openDatabase({ kind: 'postgresql', url: url.toString() }, logs.log), routes, logs);
  });
  after(async () => {
    await served?.close();
    await served?.harness.db.close();
    await proxy?.close();
    await drop?.();
  });

  /** A read and a write, several at once, each answered within the deadline. */
  async function volley(): Promise<Array<{ status: number; retryAfter: string | null; body: unknown }>> {
    const token = h().tokens.admin;
    const calls = [
      h().call('GET', '/products', { token, timeoutMs: ANSWER_WITHIN_MS }),
      h().call('GET', '/workflows/00000000-0000-4000-8000-000000000000', { token, timeoutMs: ANSWER_WITHIN_MS }),
      h().call('POST', '/products', { token, body: { name: `p-${Math.random()}` }, timeoutMs: ANSWER_WITHIN_MS }),
    ];
    return (await Promise.all(calls)).map((res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: res.body }));
  }

  async function throughOutage(cut: () => void): Promise<void> {
    expect((await volley()).map((r) => r.status)).to.deep.equal([200, 404, 201]);
    cut();
    const started = Date.now();
    const answers: Array<{ status: number; retryAfter: string | null; body: unknown }> = [];
    while (Date.now() - started < OUTAGE_MS) answers.push(...(await volley()));
    proxy.restore();
    expect(answers.length).to.be.greaterThan(15);
    for (const answer of answers) {
      expect(answer.status).to.equal(503);
      expect(answer.retryAfter).to.equal('5');
      expect(answer.body).to.deep.equal({ errors: [{ message: 'the database is unavailable; retry later' }] });
    }
    // Recovery without a restart: the pool makes new connections once the database is back.
    let statuses: number[] = [];
    for (let tries = 0; tries < 40 && statuses.join() !== '200,404,201'; tries++) {
      statuses = (await volley()).map((r) => r.status);
      if (statuses.join() !== '200,404,201') await sleep(250);
    }
    expect(statuses).to.deep.equal([200, 404, 201]);
  }

  it('answers every request 503 with Retry-After within 2 s while connections are refused for 20 s, then recovers', async () => {
    await throughOutage(() => proxy.drop());
  });

  it('answers 503 within 2 s too when the database hangs (connections open, nothing answered) for 20 s, then recovers', async () => {
    await throughOutage(() => proxy.freeze());
  });
});
