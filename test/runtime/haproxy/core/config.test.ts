import { expect } from 'chai';
import { renderConfig, serverOptions, tlsFilesOf } from '../../../../runtime/haproxy/core/config.js';
import { parseRoutingModel } from '../../../../runtime/haproxy/core/model.js';
import { proxySettings, ProxySettingsError } from '../../../../runtime/haproxy/core/settings.js';

const settings = proxySettings({ statsSocket: '/run/oa-router/admin.sock', certDir: '/run/oa-router/certs', bindAddress: '127.0.0.1', check: { intervalMs: 500, fall: 2, rise: 1 } });
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
      'http-request set-header X-Forwarded-Proto http',
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

describe('renderConfig with TLS', () => {
  const pem = (label: string, body: string): string => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
  const tlsOf = (name: string) => ({ certificate: pem('CERTIFICATE', name), privateKey: pem('PRIVATE KEY', name) });
  const secured = parseRoutingModel({
    authorities: [
      { hostname: 'app.test', port: 443, routes: [], tls: tlsOf('app'), redirectHttpPort: 80 },
      { hostname: 'api.test', port: 8443, routes: [], tls: tlsOf('api'), redirectHttpPort: 80 },
      { hostname: 'www.test', port: 443, routes: [], tls: tlsOf('www') },
      { hostname: 'plain.test', port: 80, routes: [] },
    ],
  });
  const tlsConfig = renderConfig(secured, settings);
  const frontend = (port: number): string[] => {
    const block = tlsConfig.split('\n\n').find((b) => b.startsWith(`frontend fe_${port}\n`));
    if (block === undefined) throw new Error(`no frontend fe_${port} in\n${tlsConfig}`);
    return block.split('\n').slice(1).map((l) => l.trim());
  };

  it('binds a TLS port with its crt-list and tells backends the scheme', () => {
    expect(frontend(443)).to.deep.equal([
      'bind 127.0.0.1:443 ssl crt-list /run/oa-router/certs/fe_443.crtlist',
      'http-request set-header X-Forwarded-Proto https',
      'acl host_app.test_443 hdr(host) -i app.test app.test:443',
      'acl host_www.test_443 hdr(host) -i www.test www.test:443',
      'use_backend be_app.test_443 if host_app.test_443',
      'use_backend be_www.test_443 if host_www.test_443',
      'default_backend be_no_route',
    ]);
  });

  it('redirects with a 308 to the https address on the plain port, beside the plain authorities', () => {
    expect(frontend(80)).to.deep.equal([
      'bind 127.0.0.1:80',
      'http-request set-header X-Forwarded-Proto http',
      'acl redirect_app.test_80 hdr(host) -i app.test app.test:80',
      'http-request redirect prefix https://app.test code 308 if redirect_app.test_80',
      'acl redirect_api.test_80 hdr(host) -i api.test api.test:80',
      'http-request redirect prefix https://api.test:8443 code 308 if redirect_api.test_80',
      'acl host_plain.test_80 hdr(host) -i plain.test plain.test:80',
      'use_backend be_plain.test_80 if host_plain.test_80',
      'default_backend be_no_route',
    ]);
  });

  it('lists the files to write: a PEM per TLS authority (chain, then key), a crt-list per TLS port with SNI filters', () => {
    const files = tlsFilesOf(secured, settings);
    expect(files.map((f) => f.path)).to.deep.equal([
      '/run/oa-router/certs/be_app.test_443.pem',
      '/run/oa-router/certs/be_api.test_8443.pem',
      '/run/oa-router/certs/be_www.test_443.pem',
      '/run/oa-router/certs/fe_443.crtlist',
      '/run/oa-router/certs/fe_8443.crtlist',
    ]);
    expect(files[0]?.content).to.equal(`${pem('CERTIFICATE', 'app')}${pem('PRIVATE KEY', 'app')}`);
    expect(files[3]?.content).to.equal('/run/oa-router/certs/be_app.test_443.pem app.test\n/run/oa-router/certs/be_www.test_443.pem www.test\n');
    expect(tlsFilesOf(model, settings)).to.deep.equal([]);
  });
});

describe('proxySettings', () => {
  const bad: Array<[string, Parameters<typeof proxySettings>[0], RegExp]> = [
    ['a relative socket path', { statsSocket: 'admin.sock', certDir: '/run/certs', bindAddress: '127.0.0.1' }, /statsSocket must be an absolute path/],
    ['a socket path too long for sun_path', { statsSocket: `/${'x'.repeat(120)}`, certDir: '/run/certs', bindAddress: '127.0.0.1' }, /statsSocket is longer than/],
    ['a bind address that is a name', { statsSocket: '/run/a.sock', certDir: '/run/certs', bindAddress: 'localhost' }, /bindAddress must be an IPv4 address/],
    ['a relative certificate directory', { statsSocket: '/run/a.sock', certDir: 'certs', bindAddress: '127.0.0.1' }, /certDir must be an absolute path/],
    ['a zero check interval', { statsSocket: '/run/a.sock', certDir: '/run/certs', bindAddress: '127.0.0.1', check: { intervalMs: 0, fall: 1, rise: 1 } }, /check\.intervalMs must be a positive integer/],
  ];
  for (const [what, opts, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => proxySettings(opts)).to.throw(ProxySettingsError, message);
    });
  }
});
