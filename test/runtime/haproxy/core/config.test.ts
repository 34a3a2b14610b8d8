import { expect } from 'chai';
import { renderConfig, serverOptions } from '../../../../runtime/haproxy/core/config.js';
import { parseRoutingModel } from '../../../../runtime/haproxy/core/model.js';
import { proxySettings, ProxySettingsError } from '../../../../runtime/haproxy/core/settings.js';

const settings = proxySettings({ statsSocket: '/run/oa-router/admin.sock', bindAddress: '127.0.0.1', check: { intervalMs: 500, fall: 2, rise: 1 } });
const model = parseRoutingModel({
  authorities: [
    { hostname: 'app.test', port: 8080, routes: [
      { host: '127.0.0.1', port: 45001, weight: 90, state: 'ready' },
      { host: '127.0.0.1', port: 45002, weight: 10, state: 'drain' },
      { host: '127.0.0.1', port: 45003, weight: 5, state: 'maint' },
    ] },
    { hostname: 'api.test', port: 8080, routes: [] },
    { hostname: 'app.test', port: 80, routes: [{ host: '10.0.0.7', port: 45010, weight: 1, state: 'ready' }] },
  ],
});
const config = renderConfig(model, settings);
const section = (header: string): string[] => {
  const blocks = config.split('\n\n');
  const block = blocks.find((b) => b.split('\n').includes(header));
  if (block === undefined) throw new Error(`no section "${header}" in\n${config}`);
  return block.split('\n').filter((l) => l !== header && l !== '').map((l) => l.trim());
};

describe('renderConfig', () => {
  it('runs master-worker with an admin Runtime API socket that hands listeners over on reload', () => {
    expect(section('global')).to.include.members(['master-worker', 'stats socket /run/oa-router/admin.sock mode 600 level admin expose-fd listeners']);
  });

  it('sets the timeouts of the settings', () => {
    expect(section('defaults')).to.include.members(['mode http', 'timeout connect 5000ms', 'timeout client 60000ms', 'timeout server 60000ms']);
  });

  it('has one frontend per listening port, on the bind address', () => {
    expect(config.match(/^frontend /gm)).to.have.length(2);
    expect(section('frontend fe_80')).to.include('bind 127.0.0.1:80');
    expect(section('frontend fe_8080')).to.include('bind 127.0.0.1:8080');
  });

  it('routes each Host, case-insensitively and with or without the port, to its authority\'s backend', () => {
    expect(section('frontend fe_8080')).to.deep.equal([
      'bind 127.0.0.1:8080',
      'acl host_app.test_8080 hdr(host) -i app.test app.test:8080',
      'acl host_api.test_8080 hdr(host) -i api.test api.test:8080',
      'use_backend be_app.test_8080 if host_app.test_8080',
      'use_backend be_api.test_8080 if host_api.test_8080',
      'default_backend be_no_route',
    ]);
    expect(section('frontend fe_80')).to.not.include('acl host_api.test_8080 hdr(host) -i api.test api.test:8080');
  });

  it('answers 503 for any other Host', () => {
    expect(section('backend be_no_route')).to.deep.equal(['http-request return status 503 content-type text/plain string "no route for this host"']);
  });

  it('writes each route as a checked server: drain at weight 0, maint disabled', () => {
    expect(section('backend be_app.test_8080')).to.deep.equal([
      'balance roundrobin',
      'server s_127.0.0.1_45001 127.0.0.1:45001 weight 90 check inter 500 fall 2 rise 1',
      'server s_127.0.0.1_45002 127.0.0.1:45002 weight 0 check inter 500 fall 2 rise 1',
      'server s_127.0.0.1_45003 127.0.0.1:45003 weight 5 check inter 500 fall 2 rise 1 disabled',
    ]);
    expect(section('backend be_api.test_8080')).to.deep.equal(['balance roundrobin']);
  });

  it('renders an empty model to a config with only the fallback backend', () => {
    const empty = renderConfig({ authorities: [] }, settings);
    expect(empty).to.not.match(/^frontend /m);
    expect(empty).to.match(/^backend be_no_route$/m);
  });

  it('gives `add server` the options of a server line', () => {
    expect(serverOptions({ host: '127.0.0.1', port: 1, weight: 7, state: 'ready' }, settings)).to.equal('127.0.0.1:1 weight 7 check inter 500 fall 2 rise 1');
  });
});

describe('proxySettings', () => {
  const bad: Array<[string, Parameters<typeof proxySettings>[0], RegExp]> = [
    ['a relative socket path', { statsSocket: 'admin.sock', bindAddress: '127.0.0.1' }, /statsSocket must be an absolute path/],
    ['a socket path too long for sun_path', { statsSocket: `/${'x'.repeat(120)}`, bindAddress: '127.0.0.1' }, /statsSocket is longer than/],
    ['a bind address that is a name', { statsSocket: '/run/a.sock', bindAddress: 'localhost' }, /bindAddress must be an IPv4 address/],
    ['a zero check interval', { statsSocket: '/run/a.sock', bindAddress: '127.0.0.1', check: { intervalMs: 0, fall: 1, rise: 1 } }, /check\.intervalMs must be a positive integer/],
  ];
  for (const [what, opts, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => proxySettings(opts)).to.throw(ProxySettingsError, message);
    });
  }
});
