import { expect } from 'chai';
import { listeningPortsOf, parseRoutingModel, RoutingModelError } from '../../../../runtime/haproxy/core/model.js';

const route = { host: '127.0.0.1', port: 45001, weight: 100, state: 'ready' };
const authority = { hostname: 'app.example.test', port: 8080, routes: [route] };
const tls = { certificate: '-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n', privateKey: '-----BEGIN PRIVATE KEY-----\nMII=\n-----END PRIVATE KEY-----\n' };

function problemsOf(value: unknown): readonly string[] {
  try {
    parseRoutingModel(value);
  } catch (err) {
    if (err instanceof RoutingModelError) return err.problems;
    throw err;
  }
  throw new Error('expected a RoutingModelError');
}

describe('parseRoutingModel', () => {
  it('accepts a model and lower-cases hostnames', () => {
    const model = parseRoutingModel({ authorities: [{ ...authority, hostname: 'App.Example.TEST' }] });
    expect(model.authorities[0]?.hostname).to.equal('app.example.test');
    expect(model.authorities[0]?.routes).to.deep.equal([route]);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['no authorities key', {}, /^authorities: /],
    ['a hostname with a space', { authorities: [{ ...authority, hostname: 'my app' }] }, /^authorities\[0\]\.hostname: must be a DNS hostname/],
    ['a hostname with a port in it', { authorities: [{ ...authority, hostname: 'app.test:80' }] }, /^authorities\[0\]\.hostname: must be a DNS hostname/],
    ['port 0', { authorities: [{ ...authority, port: 0 }] }, /^authorities\[0\]\.port: /],
    ['port 70000', { authorities: [{ ...authority, port: 70_000 }] }, /^authorities\[0\]\.port: /],
    ['a backend named, not addressed', { authorities: [{ ...authority, routes: [{ ...route, host: 'app-1.internal' }] }] }, /routes\[0\]\.host: must be an IPv4 address/],
    ['weight 257', { authorities: [{ ...authority, routes: [{ ...route, weight: 257 }] }] }, /routes\[0\]\.weight: /],
    ['weight 1.5', { authorities: [{ ...authority, routes: [{ ...route, weight: 1.5 }] }] }, /routes\[0\]\.weight: /],
    ['state "up"', { authorities: [{ ...authority, routes: [{ ...route, state: 'up' }] }] }, /routes\[0\]\.state: /],
    ['an unknown key', { authorities: [{ ...authority, sni: true }] }, /^authorities\[0\]: .*sni/],
    ['a certificate that is no PEM', { authorities: [{ ...authority, tls: { ...tls, certificate: 'x' } }] }, /^authorities\[0\]\.tls\.certificate: must be a PEM certificate chain$/],
    ['a port both TLS and plain', { authorities: [{ ...authority, tls }, { ...authority, hostname: 'b.test' }] }, /^authorities\[1\]\.tls: port 8080 serves TLS: every authority on it needs a certificate$/],
    ['a redirect without TLS', { authorities: [{ ...authority, redirectHttpPort: 80 }] }, /^authorities\[0\]\.redirectHttpPort: a redirect to https needs the authority to have TLS$/],
    ['a redirect onto a TLS port', { authorities: [{ ...authority, tls, redirectHttpPort: 8443 }, { ...authority, port: 8443, tls }] }, /^authorities\[0\]\.redirectHttpPort: port 8443 serves TLS, not plain HTTP$/],
    ['a redirect for a Host its port serves', { authorities: [{ ...authority, tls, redirectHttpPort: 80 }, { ...authority, port: 80 }] }, /^authorities\[0\]\.redirectHttpPort: app\.example\.test:80 is already served$/],
    ['two routes to one address', { authorities: [{ ...authority, routes: [route, { ...route, weight: 1 }] }] }, /^authorities\[0\]\.routes\[1\]: duplicate route 127\.0\.0\.1:45001$/],
    ['one authority twice, in other case', { authorities: [authority, { ...authority, hostname: 'APP.example.test' }] }, /^authorities\[1\]: duplicate authority app\.example\.test:8080$/],
  ];
  for (const [what, value, problem] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      const problems = problemsOf(value);
      expect(problems.some((p) => problem.test(p)), problems.join(' | ')).to.equal(true);
    });
  }

  it('says every problem at once', () => {
    const problems = problemsOf({ authorities: [{ ...authority, port: 0, routes: [{ ...route, weight: -1 }] }] });
    expect(problems).to.have.length(2);
  });
});

describe('listeningPortsOf', () => {
  it('lists each port once, ascending', () => {
    const model = parseRoutingModel({
      authorities: [
        { ...authority, port: 8080 },
        { ...authority, hostname: 'b.test', port: 80 },
        { ...authority, hostname: 'c.test', port: 8080 },
      ],
    });
    expect(listeningPortsOf(model)).to.deep.equal([80, 8080]);
  });

  it('counts the plain ports that redirect to a TLS authority', () => {
    const model = parseRoutingModel({ authorities: [{ ...authority, port: 443, tls, redirectHttpPort: 8081 }] });
    expect(listeningPortsOf(model)).to.deep.equal([443, 8081]);
  });
});
