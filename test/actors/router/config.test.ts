import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { resolveExecutable, routerArgsFromEnv } from '../../../actors/router/config.js';
import { decodeRequest } from '../../../actors/router/intake.js';
import { DRAIN_REQUESTED, SYNC_REQUESTED } from '../../../actors/router/messages.js';
import { ConfigError } from '../../../runtime/config.js';
import { haproxyBinary, needs } from '../../helpers/services.js';

const MANAGER = { MANAGER_URL: 'http://127.0.0.1:4000', OAUTH_CLIENT_ID: 'router', OAUTH_CLIENT_SECRET: 's3cret' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    routerArgsFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('router configuration', () => {
  let bin: string;
  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'oa-router-bin-'));
    writeFileSync(join(bin, 'haproxy'), '#!/bin/sh\n');
    chmodSync(join(bin, 'haproxy'), 0o755);
    writeFileSync(join(bin, 'not-executable'), '');
  });
  after(() => rmSync(bin, { recursive: true, force: true }));

  it('defaults: haproxy from PATH, <OA_DATA_DIR>/router, 127.0.0.1, a resync every 2 s', () => {
    const args = routerArgsFromEnv({ ...MANAGER, PATH: bin, OA_DATA_DIR: '/var/lib/oa' });
    expect(args).to.deep.include({ haproxy: { binary: join(bin, 'haproxy') }, dir: '/var/lib/oa/router', resyncMs: 2_000 });
    expect(args.settings).to.deep.include({ statsSocket: '/var/lib/oa/router/admin.sock', bindAddress: '127.0.0.1' });
    expect(args.manager).to.deep.equal({ baseUrl: 'http://127.0.0.1:4000', clientId: 'router', clientSecret: 's3cret' });
    expect(routerArgsFromEnv({ ...MANAGER, PATH: bin }).dir).to.equal(resolve('.data/router'));
  });

  it('takes ROUTER_DIR, ROUTER_BIND_ADDRESS and ROUTER_RESYNC_MS', () => {
    const args = routerArgsFromEnv({ ...MANAGER, PATH: bin, ROUTER_DIR: '/srv/router', ROUTER_BIND_ADDRESS: '0.0.0.0', ROUTER_RESYNC_MS: '500' });
    expect([args.dir, args.settings.bindAddress, args.resyncMs]).to.deep.equal(['/srv/router', '0.0.0.0', 500]);
  });

  it('a haproxy not found is no configuration error: the router says why, naming ROUTER_HAPROXY_BINARY', () => {
    for (const env of [{ PATH: '/nowhere', ROUTER_HAPROXY_BINARY: 'no-such-haproxy' }, { ROUTER_HAPROXY_BINARY: join(bin, 'not-executable') }]) {
      const { haproxy } = routerArgsFromEnv({ ...MANAGER, ...env });
      expect(haproxy).to.have.property('missing').that.matches(/^ROUTER_HAPROXY_BINARY: no executable .*haproxy 2\.6/);
    }
  });

  it('looks a name up on PATH, then in the sbin directories; a path is taken as it is', () => {
    expect(resolveExecutable('ls', '/usr/bin')).to.equal('/usr/bin/ls');
    expect(resolveExecutable('haproxy', `relative:${bin}`)).to.equal(join(bin, 'haproxy'));
    expect(resolveExecutable(join(bin, 'haproxy'), '')).to.equal(join(bin, 'haproxy'));
    expect(resolveExecutable('no-such-tool', bin)).to.equal(undefined);
  });

  it('names each bad variable', () => {
    expect(problemsOf({ ...MANAGER, ROUTER_BIND_ADDRESS: 'localhost', ROUTER_RESYNC_MS: '10' })).to.deep.equal([
      'ROUTER_BIND_ADDRESS: expected an IPv4 address (e.g. 0.0.0.0 or 127.0.0.1) (got "localhost")',
      'ROUTER_RESYNC_MS: at least 100 (got "10")',
    ]);
    expect(problemsOf({ ...MANAGER, ROUTER_DIR: `/${'d'.repeat(120)}` })[0]).to.match(/^ROUTER_DIR: statsSocket is longer than a unix socket path may be/);
    expect(problemsOf({ ROUTER_DIR: '/srv/router' })[0]).to.match(/^MANAGER_URL: /);
  });
});

describe('router configuration: the installed haproxy', () => {
  needs('haproxy');
  it('is found in /usr/sbin with a PATH that lacks it (where Debian puts it)', function () {
    if (dirname(haproxyBinary()) !== '/usr/sbin') this.skip();
    expect(routerArgsFromEnv({ ...MANAGER, PATH: '/usr/bin:/bin' }).haproxy).to.deep.equal({ binary: haproxyBinary() });
  });
});

describe('router intake: what queue `router` takes', () => {
  const drain = { hostname: 'app.test', port: 80, backend_host: '127.0.0.1', backend_port: 9000, timeout_ms: 30_000 };
  it('a sync and a drain, told apart by envelope type', () => {
    expect(decodeRequest({}, SYNC_REQUESTED)).to.deep.equal({ ok: true, value: { kind: 'sync' } });
    expect(decodeRequest(drain, DRAIN_REQUESTED)).to.deep.equal({ ok: true, value: { kind: 'drain', ...drain } });
  });
  it('refuses an unknown type and a bad field, naming it', () => {
    expect(decodeRequest({}, 'router.reload')).to.deep.equal({ ok: false, reason: 'unexpected message type "router.reload" (expected router.sync_requested, router.drain_requested or router.counters_requested)' });
    expect(decodeRequest({ ...drain, timeout_ms: -1 }, DRAIN_REQUESTED)).to.deep.equal({ ok: false, reason: 'timeout_ms: Too small: expected number to be >=0' });
    expect(decodeRequest({ force: true }, SYNC_REQUESTED)).to.have.property('ok', false);
  });
});
