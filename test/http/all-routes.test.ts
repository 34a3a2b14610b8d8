import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { MANAGER_ROUTES } from '../../http/routes/index.js';
import type { AnyRoute } from '../../http/route.js';
import { forEachDatabase, type HarnessDeps } from './harness.js';
import { seededRandom as prng } from '../helpers/random.js';

const routes = MANAGER_ROUTES as ReadonlyArray<AnyRoute<HarnessDeps>>;
const PUBLIC = new Set(['GET /status', 'POST /oauth/token', 'POST /oauth/revoke']);
const pathWith = (path: string, value: string): string => path.replace(/:[A-Za-z_]+/g, value);

const BAD_PARAMS = ['1', '0', '-1', '1e99', 'abc', '%00', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(5_000), "'%20OR%201%3D1%20--", '%E2%98%83', '%25', 'null', '9'.repeat(40), '00000000-0000-0000-0000-000000000000'];
const BAD_QUERIES = ['', '?limit=-1', '?limit=abc&offset=-5', '?page=0', '?lookback=xyz', '?coalesced=maybe', '?allow_docker_builds=2', '?updated_since=-x', `?q=${'y'.repeat(3_000)}`, '?limit=1e9&page=1e9', '?hostspec=%00'];
const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const deepArray = (n: number): string => `{"name":${'['.repeat(n)}${']'.repeat(n)}}`;
/** A body, its Content-Type and, for the malformed encodings, its Content-Encoding. */
type BadBody = [string | Uint8Array, string, string?];
const BAD_BODIES: BadBody[] = [
  ['{', 'application/json'],
  ['null', 'application/json'],
  ['[]', 'application/json'],
  ['"text"', 'application/json'],
  ['123', 'application/json'],
  ['{"name":123,"id":"x","port":"eighty","milestones":"build","enabled":"yes"}', 'application/json'],
  ['{"unknown_field":true,"__proto__":{"admin":true}}', 'application/json'],
  [JSON.stringify({ name: 'n'.repeat(100_000) }), 'application/json'],
  [deep(500), 'application/json'],
  [JSON.stringify({ name: 'a\u0000b', type: '\u0000' }), 'application/json'],
  [JSON.stringify({ name: 'ok', failover_broker_id: -3, messaging_exchange_id: 1.5, etcd_token: '../x' }), 'application/json'],
  ['name=x&port=%00', 'application/x-www-form-urlencoded'],
  ['<xml/>', 'text/xml'],
  [deep(10_000), 'application/json'],
  [deepArray(100_000), 'application/json'],
  ['{"name":"\\ud800","value":"x\\udfff"}', 'application/json'],
  ['{"\\ud800":1}', 'application/json'],
  ['{"name":"ok"}', 'application/json', 'gzip'],
  [gzipSync('{"name":"ok"}').subarray(0, 12), 'application/json', 'gzip'],
  [gzipSync('not json'), 'application/json', 'gzip'],
  [gzipSync(JSON.stringify({ name: 'z'.repeat(3_000_000) })), 'application/json', 'gzip'],
  ['{"name":"ok"}', 'application/json', 'deflate'],
  ['{"name":"ok"}', 'application/json', 'br'],
  ['{"name":"ok"}', 'application/json', 'compress'],
  ['{"name":"ok"}', 'application/json; charset=klingon'],
];

forEachDatabase('Manager: every route', routes, (h, kind) => {
  it('answers 401 without a token on every route but /status, /oauth/token, /oauth/revoke and /openapi.json', async () => {
    const open: string[] = [];
    for (const route of routes) {
      const name = `${route.method.toUpperCase()} ${route.path}`;
      if (PUBLIC.has(name)) continue;
      const res = await h().call(route.method.toUpperCase(), pathWith(route.path, '1'), route.method === 'get' ? {} : { body: {} });
      if (res.status !== 401) open.push(`${name} -> ${res.status}`);
    }
    expect(open).to.deep.equal([]);
    expect((await h().call('GET', '/openapi.json')).status).to.equal(200);
  });

  it('answers 403 to a viewer on every mutation', async () => {
    const allowed: string[] = [];
    for (const route of routes.filter((r) => r.method !== 'get' && r.access !== 'public')) {
      const res = await h().call(route.method.toUpperCase(), pathWith(route.path, '1'), { token: h().tokens.viewer, body: {} });
      if (res.status !== 403) allowed.push(`${route.method.toUpperCase()} ${route.path} -> ${res.status}`);
    }
    expect(allowed).to.deep.equal([]);
  });

  it('documents every route in /openapi.json', async () => {
    const doc = (await h().call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const missing = routes.filter((r) => doc.paths[r.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[r.method] === undefined).map((r) => `${r.method} ${r.path}`);
    expect(missing).to.deep.equal([]);
  });

  it(`survives 10,000 malformed requests on ${kind} without one 5xx or one request left unanswered`, async function () {
    this.timeout(600_000);
    const random = prng(20261121);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const failures: string[] = [];
    const timeouts: string[] = [];
    const one = async (): Promise<void> => {
      const route = pick(routes);
      const path = pathWith(route.path, pick(BAD_PARAMS)) + pick(BAD_QUERIES);
      const [raw, contentType, encoding] = pick(BAD_BODIES);
      const token = random() < 0.9 ? h().tokens.admin : pick([h().tokens.operator, 'garbage', `${h().tokens.admin}x`]);
      const headers = encoding === undefined ? {} : { 'content-encoding': encoding };
      const sent = route.method === 'get' ? { token } : { token, raw, contentType, headers };
      const shown = `${route.method.toUpperCase()} ${path.slice(0, 120)} [${String(raw).slice(0, 60)}${encoding ? ` as ${encoding}` : ''}]`;
      try {
        const res = await h().call(route.method.toUpperCase(), path, { ...sent, timeoutMs: 10_000 });
        if (res.status >= 500) failures.push(`${shown} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      } catch (err) {
        timeouts.push(`${shown}: ${(err as Error).message}`);
      }
    };
    for (let sent = 0; sent < 10_000; sent += 20) await Promise.all(Array.from({ length: 20 }, one));
    expect(failures.slice(0, 10), `${failures.length} responses >= 500`).to.deep.equal([]);
    expect(timeouts.slice(0, 10), `${timeouts.length} requests without an answer`).to.deep.equal([]);
    expect((await h().call('GET', '/status')).status).to.equal(200);
  });
});
