import { expect } from 'chai';
import { routingModelOf } from '../../../../actors/router/core/routing-model.js';
import type { FeedAuthority, FeedTls } from '../../../../actors/router/messages.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMII=\n-----END PRIVATE KEY-----\n';
const authority = (hostname: string, port: number): FeedAuthority => ({ hostname, port, routes: [] });
const feed = (...authorities: FeedAuthority[]) => ({ authorities, timestamp: 1_700_000_000 });
const tls = (hostname: string, port: number, over: Partial<FeedTls> = {}): FeedTls => ({ hostname, port, redirect_http_port: null, certificate: CERT, private_key: KEY, problem: null, ...over });
const served = { certificate: CERT, privateKey: KEY };

describe('router core: TLS over the routing model', () => {
  it('serves an authority with a certificate over TLS, matched without case, with its redirect', () => {
    const plan = routingModelOf(feed(authority('Shop.test', 443), authority('plain.test', 80)), [tls('shop.TEST', 443, { redirect_http_port: 80 })]);
    expect(plan.problems).to.deep.equal([]);
    expect(plan.model.authorities).to.deep.equal([
      { hostname: 'plain.test', port: 80, routes: [] },
      { hostname: 'shop.test', port: 443, routes: [], tls: served, redirectHttpPort: 80 },
    ]);
  });

  const cases: Array<[string, FeedAuthority[], FeedTls[], string[], string[]]> = [
    ['a key the Manager could not open: left out, never served in plain', [authority('shop.test', 443)], [tls('shop.test', 443, { private_key: null, problem: 'the private key cannot be opened here: sealed under key "old"' })],
      [], ['authority shop.test:443 left out: its certificate has no private key here (the private key cannot be opened here: sealed under key "old")']],
    ['a plain authority on a TLS port: left out, the TLS one served', [authority('shop.test', 443), authority('new.test', 443)], [tls('shop.test', 443)],
      ['shop.test:443'], ['authority new.test:443 left out: port 443 serves TLS and this authority has no certificate']],
    ['a redirect without a certificate: the authority served plain, the redirect left out', [authority('shop.test', 8080)], [tls('shop.test', 8080, { certificate: null, private_key: null, redirect_http_port: 80 })],
      ['shop.test:8080'], ['authority shop.test:8080: redirect from port 80 left out: the authority has no certificate']],
    ['a redirect onto a TLS port', [authority('shop.test', 443), authority('blog.test', 8443)], [tls('shop.test', 443, { redirect_http_port: 8443 }), tls('blog.test', 8443)],
      ['blog.test:8443', 'shop.test:443'], ['authority shop.test:443: redirect from port 8443 left out: port 8443 serves TLS']],
    ['a redirect for a Host its port serves', [authority('shop.test', 443), authority('shop.test', 80)], [tls('shop.test', 443, { redirect_http_port: 80 })],
      ['shop.test:80', 'shop.test:443'], ['authority shop.test:443: redirect from port 80 left out: shop.test:80 is already served']],
    ['TLS of an authority the feed does not hold (read at another moment): ignored', [authority('a.test', 80)], [tls('gone.test', 443)], ['a.test:80'], []],
  ];
  for (const [what, authorities, tlsFeed, keys, problems] of cases) {
    it(what, () => {
      const plan = routingModelOf(feed(...authorities), tlsFeed);
      expect(plan.problems).to.deep.equal(problems);
      expect(plan.model.authorities.map((a) => `${a.hostname}:${a.port}`)).to.deep.equal(keys);
    });
  }

  it('drops only the redirect that clashes, and keeps the authority on TLS', () => {
    const plan = routingModelOf(feed(authority('shop.test', 443), authority('shop.test', 80)), [tls('shop.test', 443, { redirect_http_port: 80 })]);
    expect(plan.model.authorities.find((a) => a.port === 443)).to.deep.equal({ hostname: 'shop.test', port: 443, routes: [], tls: served });
  });
});
