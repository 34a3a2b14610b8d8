import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createApp } from '../../http/app.js';
import { tokenIssuer } from '../../http/auth.js';
import { claimAt, externalAuthFrom, provisionUser, tokenInfoLifetimeSeconds, TOKEN_INFO_FIELDS, type ExternalAuth } from '../../http/external-auth.js';
import type { ExternalAuthConfig } from '../../http/manager-config.js';
import type { AnyRoute } from '../../http/route.js';
import { userRoutes } from '../../http/routes/users.js';
import { AuthSourceSchema, AuthSourceUserSchema, UserSchema } from '../../entities/auth.js';
import { captureLogs, type LogLine } from '../helpers/log-capture.js';
import { forEachDatabase, type HarnessDeps } from './harness.js';

const routes = userRoutes as ReadonlyArray<AnyRoute<HarnessDeps>>;

/** A real HTTP server on 127.0.0.1; `handle` answers each request. */
async function listen(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const close = (server: Server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));

/** Plays an IdP's tokeninfo endpoint: answers per token, counts calls per token. */
class TokenInfoReceiver {
  readonly answers = new Map<string, { status: number; body?: unknown; delayMs?: number }>();
  readonly calls = new Map<string, number>();
  url = '';
  server?: Server;
  async start(): Promise<void> {
    ({ url: this.url, server: this.server } = await listen((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? '';
      this.calls.set(token, (this.calls.get(token) ?? 0) + 1);
      const answer = this.answers.get(token) ?? { status: 401, body: { error: 'invalid_token' } };
      setTimeout(() => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body ?? {})), answer.delayMs ?? 0);
    }));
    this.url += '/oauth/token/info';
  }
}

/** The original IdP's token info shape (reference §3.1 defaults). */
const info = (email: string, lifetime: Record<string, unknown>) => ({
  ...lifetime,
  resource_owner: { email, custom_attributes: { first_name: 'Ann', last_name: 'Smith' } },
});

describe('external auth: pure parts', () => {
  const lifetimes: Array<[Record<string, unknown>, number | undefined]> = [
    [{ expires_in_seconds: 60 }, 60],
    [{ expires_in: 60 }, 60],
    [{ expires_in: '3599' }, 3599],
    [{ expires_in_seconds: 0 }, undefined],
    [{ expires_in_seconds: 0, expires_in: 30 }, 30],
    [{ expires_in: -5 }, undefined],
    [{ expires_in: 'soon' }, undefined],
    [{ expires_in: 60, active: false }, undefined],
    [{}, undefined],
  ];
  for (const [given, expected] of lifetimes) {
    it(`lifetime of ${JSON.stringify(given)} is ${String(expected)}`, () => expect(tokenInfoLifetimeSeconds(given)).to.equal(expected));
  }
  it('reads slash-separated paths, own keys only', () => {
    const claims = { a: { b: { c: 'x' } }, n: null };
    expect([claimAt(claims, 'a/b/c'), claimAt(claims, 'a/b'), claimAt(claims, 'a/x/c'), claimAt(claims, 'n/x'), claimAt(claims, 'a/constructor')]).to.deep.equal(['x', { c: 'x' }, undefined, undefined, undefined]);
  });
});

forEachDatabase('external auth', routes, (h) => {
  const idp = new TokenInfoReceiver();
  let jwks: { url: string; server: Server };
  let key: CryptoKey;
  let strangerKey: CryptoKey;
  let skewMs = 0;
  const now = () => Date.now() + skewMs;
  const servers: Server[] = [];
  let base = '';

  /** An app over the harness database whose externalAuth is built from `config`. */
  async function serve(config: ExternalAuthConfig): Promise<{ url: string; lines: LogLine[] }> {
    const { log, lines } = captureLogs();
    const externalAuth = externalAuthFrom(config, { log, now, timeoutMs: 500 });
    const tokens = tokenIssuer({ secret: 'y'.repeat(48), ttlSeconds: 600 });
    const deps = { db: h().db, tokens, log, transport: h().broker.transport({ exchangeId: 1, log }), exchangeId: 1, ...(externalAuth ? { externalAuth } : {}) };
    const app = await listen(createApp(deps, userRoutes).callback());
    servers.push(app.server);
    return { url: app.url, lines };
  }
  const me = (token: string, at = base) => fetch(`${at}/users/me`, { headers: { authorization: `Bearer ${token}` } });
  const jwt = (claims: JWTPayload, opts: { key?: CryptoKey; exp?: number } = {}) =>
    new SignJWT({ iss: 'https://idp.example', aud: 'openaperture', email: 'olivia@example.com', given_name: 'Olivia', family_name: 'Ops', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime(opts.exp ?? Math.floor(now() / 1_000) + 600)
      .sign(opts.key ?? key);

  before(async () => {
    await idp.start();
    const pair = await generateKeyPair('RS256', { extractable: true });
    ({ privateKey: strangerKey } = await generateKeyPair('RS256'));
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    key = pair.privateKey;
    jwks = await listen((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
    ({ url: base } = await serve({ tokenInfoUrl: idp.url, oidc: { jwksUrl: `${jwks.url}/jwks.json`, issuer: 'https://idp.example', audience: 'openaperture' } }));
  });
  after(async () => Promise.all([idp.server, jwks.server, ...servers].map((s) => (s ? close(s) : undefined))));
  afterEach(() => (skewMs = 0));

  it('accepts a tokeninfo token with expires_in_seconds and provisions the user as reference §3.1', async () => {
    idp.answers.set('t-seconds', { status: 200, body: info('ann@example.com', { expires_in_seconds: 3600 }) });
    const res = await me('t-seconds');
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.include({ email: 'ann@example.com', first_name: 'Ann', last_name: 'Smith', role: 'viewer' });
    const em = h().db.fork();
    const source = await em.findOneOrFail(AuthSourceSchema, { token_info_url: idp.url });
    expect(source).to.deep.include(TOKEN_INFO_FIELDS);
    const user = await em.findOneOrFail(UserSchema, { email: 'ann@example.com' });
    expect(await em.count(AuthSourceUserSchema, { auth_source_id: source.id, user_id: user.id })).to.equal(1);
  });

  it('accepts expires_in (fix of reference §10.1 item 15), as a number or as Google sends it', async () => {
    idp.answers.set('t-in', { status: 200, body: info('ben@example.com', { expires_in: 3600 }) });
    idp.answers.set('t-google', { status: 200, body: info('gus@example.com', { expires_in: '3599' }) });
    expect((await me('t-in')).status).to.equal(200);
    expect((await me('t-google')).status).to.equal(200);
  });

  it('refuses expired tokens, IdP refusals, and token info without an e-mail with 401', async () => {
    idp.answers.set('t-expired', { status: 200, body: info('exp@example.com', { expires_in_seconds: 0 }) });
    idp.answers.set('t-no-lifetime', { status: 200, body: info('nol@example.com', {}) });
    idp.answers.set('t-no-email', { status: 200, body: { expires_in: 3600, resource_owner: {} } });
    idp.answers.set('t-refused', { status: 401, body: { error: 'invalid_token' } });
    for (const token of ['t-expired', 't-no-lifetime', 't-no-email', 't-refused']) {
      const res = await me(token);
      expect(res.status, token).to.equal(401);
      expect(await res.json()).to.deep.equal({ errors: [{ message: 'Unauthorized' }] });
    }
    expect(await h().db.fork().count(UserSchema, { email: { $in: ['exp@example.com', 'nol@example.com'] } })).to.equal(0);
  });

  it('answers 401, not 500, when the IdP is down or too slow', async () => {
    const gone = await listen(() => undefined);
    await close(gone.server);
    const down = await serve({ tokenInfoUrl: `${gone.url}/info` });
    expect((await me('anything', down.url)).status).to.equal(401);
    expect(down.lines.find((l) => l.msg === 'token info not available; token refused')).to.have.property('reason').that.matches(/ECONNREFUSED/);
    expect(JSON.stringify(down.lines)).to.not.include('anything');
    idp.answers.set('t-slow', { status: 200, body: info('slow@example.com', { expires_in: 3600 }), delayMs: 2_000 });
    expect((await me('t-slow')).status).to.equal(401);
  });

  it('asks the IdP once per token until 30 s before expiry (the receiver counts)', async () => {
    idp.answers.set('t-cached', { status: 200, body: info('cache@example.com', { expires_in: 100 }) });
    const all = await Promise.all([me('t-cached'), me('t-cached')]);
    expect(all.map((r) => r.status)).to.deep.equal([200, 200]);
    expect((await me('t-cached')).status).to.equal(200);
    expect(idp.calls.get('t-cached')).to.equal(1);
    skewMs = 69_000;
    expect((await me('t-cached')).status).to.equal(200);
    expect(idp.calls.get('t-cached')).to.equal(1);
    skewMs = 71_000;
    expect((await me('t-cached')).status).to.equal(200);
    expect(idp.calls.get('t-cached')).to.equal(2);
    // Less than the 30 s margin left: valid, but never cached.
    idp.answers.set('t-short', { status: 200, body: info('short@example.com', { expires_in: 20 }) });
    await me('t-short');
    await me('t-short');
    expect(idp.calls.get('t-short')).to.equal(2);
  });

  it('creates one user for two concurrent first requests (race-safe provisioning)', async () => {
    idp.answers.set('t-race-1', { status: 200, body: info('race@example.com', { expires_in: 3600 }) });
    idp.answers.set('t-race-2', { status: 200, body: info('race@example.com', { expires_in: 3600 }) });
    const both = await Promise.all([me('t-race-1'), me('t-race-2')]);
    expect(both.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(await h().db.fork().count(UserSchema, { email: 'race@example.com' })).to.equal(1);
    // Eight Manager instances' first requests at once, straight at the database.
    const claims = info('race-8@example.com', {});
    const users = await Promise.all(Array.from({ length: 8 }, () => provisionUser(h().db.fork(), 'https://race.example/info', TOKEN_INFO_FIELDS, claims)));
    expect(new Set(users.map((u) => u?.id)).size).to.equal(1);
    const em = h().db.fork();
    expect(await em.count(UserSchema, { email: 'race-8@example.com' })).to.equal(1);
    expect(await em.count(AuthSourceSchema, { token_info_url: 'https://race.example/info' })).to.equal(1);
    expect(await em.count(AuthSourceUserSchema, { user_id: users[0]!.id })).to.equal(1);
  });

  it('gives the user its role as stored, so an admin promotion applies to a cached token', async () => {
    idp.answers.set('t-promote', { status: 200, body: info('promo@example.com', { expires_in: 3600 }) });
    const newUser = { first_name: 'N', last_name: 'N', email: 'new@example.com' };
    const post = (token: string) => fetch(`${base}/users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(newUser) });
    expect((await post('t-promote')).status).to.equal(403);
    const { id } = (await (await me('t-promote')).json()) as { id: number };
    expect((await h().call('PUT', `/users/${id}`, { token: h().tokens.admin, body: { role: 'admin' } })).status).to.equal(204);
    expect((await post('t-promote')).status).to.equal(201);
    expect(idp.calls.get('t-promote')).to.equal(1);
  });

  it('refuses every token of a disabled user at once, cached or new, until re-enabled; a deleted user comes back as a viewer', async () => {
    idp.answers.set('t-dis-1', { status: 200, body: info('dis@example.com', { expires_in: 3600 }) });
    idp.answers.set('t-dis-2', { status: 200, body: info('dis@example.com', { expires_in: 3600 }) });
    const created = await h().call('POST', '/users', { token: h().tokens.admin, body: { first_name: 'Dis', last_name: 'Abled', email: 'dis@example.com', role: 'operator' } });
    const path = created.headers.get('location')!;
    expect((await me('t-dis-1')).status).to.equal(200);
    const disabled = await h().call('PUT', path, { token: h().tokens.admin, body: { disabled: true } });
    expect(disabled.status).to.equal(204);
    expect(((await h().call('GET', path, { token: h().tokens.admin })).body as { disabled_at: string | null }).disabled_at).to.be.a('string');
    expect((await me('t-dis-1')).status, 'a token checked before').to.equal(401);
    expect((await me('t-dis-2')).status, 'a token never seen').to.equal(401);
    expect((await me(await jwt({ email: 'dis@example.com' }))).status, 'an OIDC token').to.equal(401);
    expect((await h().call('PUT', path, { token: h().tokens.admin, body: { disabled: false } })).status).to.equal(204);
    expect(await (await me('t-dis-1')).json()).to.deep.include({ email: 'dis@example.com', role: 'operator', disabled_at: null });
    // Deleting cannot lock a person out: their issuer still vouches, so they are provisioned again, as a viewer.
    expect((await h().call('DELETE', path, { token: h().tokens.admin })).status).to.equal(204);
    expect(await (await me('t-dis-1')).json()).to.deep.include({ email: 'dis@example.com', role: 'viewer' });
  });

  it('keeps an existing user as it is, and follows an auth source an admin edited', async () => {
    await h().call('POST', '/users', { token: h().tokens.admin, body: { first_name: 'Eve', last_name: 'Existing', email: 'eve@example.com', role: 'operator' } });
    idp.answers.set('t-eve', { status: 200, body: info('eve@example.com', { expires_in: 3600 }) });
    expect(await (await me('t-eve')).json()).to.deep.include({ first_name: 'Eve', last_name: 'Existing', role: 'operator' });
    await h().db.fork().nativeUpdate(AuthSourceSchema, { token_info_url: idp.url }, { email_field_name: 'email', first_name_field_name: 'given_name' });
    idp.answers.set('t-flat', { status: 200, body: { expires_in: 3600, email: 'flat@example.com', given_name: 'Flat' } });
    expect(await (await me('t-flat')).json()).to.deep.include({ email: 'flat@example.com', first_name: 'Flat', last_name: 'User' });
  });

  it('accepts an OIDC JWT signed by a key of the JWKS, and provisions from its claims', async () => {
    const res = await me(await jwt({}));
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.include({ email: 'olivia@example.com', first_name: 'Olivia', last_name: 'Ops', role: 'viewer' });
    expect(await h().db.fork().count(AuthSourceSchema, { token_info_url: `${jwks.url}/jwks.json` })).to.equal(1);
  });

  it('refuses expired, wrong-issuer, wrong-audience, foreign-key and unverified-e-mail JWTs with 401', async () => {
    const cases: Array<[string, Promise<string>]> = [
      ['expired', jwt({}, { exp: Math.floor(now() / 1_000) - 60 })],
      ['wrong issuer', jwt({ iss: 'https://evil.example' })],
      ['wrong audience', jwt({ aud: 'someone-else' })],
      ['signed by another key', jwt({}, { key: strangerKey })],
      ['unverified e-mail', jwt({ email: 'unverified@example.com', email_verified: false })],
    ];
    for (const [what, token] of cases) expect((await me(await token)).status, what).to.equal(401);
    // A valid one ages out with the clock too.
    const token = await jwt({ email: 'ages@example.com' }, { exp: Math.floor(now() / 1_000) + 120 });
    expect((await me(token)).status).to.equal(200);
    skewMs = 121_000;
    expect((await me(token)).status).to.equal(401);
  });

  it('answers 401 when the JWKS cannot be fetched', async () => {
    const gone = await listen(() => undefined);
    await close(gone.server);
    const down = await serve({ oidc: { jwksUrl: `${gone.url}/jwks.json`, issuer: 'https://idp.example', audience: 'openaperture' } });
    expect((await me(await jwt({}), down.url)).status).to.equal(401);
    expect(down.lines.map((l) => l.msg)).to.include('JWKS not available; token refused');
  });

  it('builds no validator when none is configured', () => {
    const none: ExternalAuth | undefined = externalAuthFrom({}, { log: captureLogs().log });
    expect(none).to.equal(undefined);
  });
});
