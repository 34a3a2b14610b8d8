import { expect } from 'chai';
import { routeCountOf, routingModelOf } from '../../../../actors/router/core/routing-model.js';
import type { FeedAuthority, FeedRoute } from '../../../../actors/router/messages.js';

const route = (hostname: string, port: number, over: Partial<FeedRoute> = {}): FeedRoute => ({ hostname, port, secure_connection: false, weight: 100, state: 'ready', ...over });
const feed = (...authorities: FeedAuthority[]) => ({ authorities, timestamp: 1_700_000_000 });

describe('router core: routingModelOf', () => {
  it('turns the feed into a model, hostnames lower-case, sorted by authority and by backend', () => {
    const plan = routingModelOf(
      feed(
        { hostname: 'B.test', port: 80, routes: [route('127.0.0.2', 9000), route('127.0.0.1', 9001, { weight: 10, state: 'drain' })] },
        { hostname: 'a.test', port: 8080, routes: [] },
      ),
    );
    expect(plan.problems).to.deep.equal([]);
    expect(plan.model).to.deep.equal({
      authorities: [
        { hostname: 'a.test', port: 8080, routes: [] },
        {
          hostname: 'b.test',
          port: 80,
          routes: [
            { host: '127.0.0.1', port: 9001, weight: 10, state: 'drain' },
            { host: '127.0.0.2', port: 9000, weight: 100, state: 'ready' },
          ],
        },
      ],
    });
    expect(routeCountOf(plan.model)).to.equal(2);
  });

  it('gives an equal model for the same feed in any order', () => {
    const a = { hostname: 'a.test', port: 80, routes: [route('127.0.0.1', 1), route('127.0.0.1', 2)] };
    const b = { hostname: 'b.test', port: 80, routes: [route('127.0.0.3', 1)] };
    const reversed = { ...a, routes: [...a.routes].reverse() };
    expect(routingModelOf(feed(b, reversed))).to.deep.equal(routingModelOf(feed(a, b)));
  });

  const leftOut: Array<[string, FeedRoute, string]> = [
    ['a backend named by DNS', route('db.internal', 5432), 'authority app.example.test:8080: route db.internal:5432 left out: host: must be an IPv4 address (e.g. 127.0.0.1)'],
    ['a port out of range', route('127.0.0.1', 70_000), 'authority app.example.test:8080: route 127.0.0.1:70000 left out: port: Too big: expected number to be <=65535'],
    ['a weight above 256', route('127.0.0.1', 9000, { weight: 300 }), 'authority app.example.test:8080: route 127.0.0.1:9000 left out: weight: Too big: expected number to be <=256'],
    ['an unknown state', route('127.0.0.1', 9000, { state: 'paused' as FeedRoute['state'] }), 'authority app.example.test:8080: route 127.0.0.1:9000 left out: state: Invalid option: expected one of "ready"|"drain"|"maint"'],
    ['TLS to the backend', route('127.0.0.1', 9443, { secure_connection: true }), 'authority app.example.test:8080: route 127.0.0.1:9443 left out: secure_connection: TLS to a backend is not supported by the router'],
  ];
  for (const [what, bad, problem] of leftOut) {
    it(`leaves out ${what}, names it, and keeps the authority's other routes`, () => {
      const plan = routingModelOf(feed({ hostname: 'app.example.test', port: 8080, routes: [route('127.0.0.1', 8000), bad] }));
      expect(plan.problems).to.deep.equal([problem]);
      expect(plan.model.authorities).to.deep.equal([{ hostname: 'app.example.test', port: 8080, routes: [{ host: '127.0.0.1', port: 8000, weight: 100, state: 'ready' }] }]);
    });
  }

  it('keeps one of two routes to the same backend, the same one whatever the order', () => {
    const twice = [route('127.0.0.1', 9000, { weight: 50 }), route('127.0.0.1', 9000, { weight: 20 })];
    const plans = [twice, [...twice].reverse()].map((routes) => routingModelOf(feed({ hostname: 'a.test', port: 80, routes })));
    expect(plans[0]).to.deep.equal(plans[1]);
    expect(plans[0]?.model.authorities[0]?.routes).to.deep.equal([{ host: '127.0.0.1', port: 9000, weight: 20, state: 'ready' }]);
    expect(plans[0]?.problems).to.deep.equal(['authority a.test:80: route 127.0.0.1:9000 left out: a second route to the same backend']);
  });

  it('leaves out a bad authority and a second spelling of one, and keeps the others', () => {
    const plan = routingModelOf(
      feed(
        { hostname: 'App.Test', port: 80, routes: [route('127.0.0.1', 1)] },
        { hostname: 'app.test', port: 80, routes: [route('127.0.0.1', 2)] },
        { hostname: 'under_score.test', port: 80, routes: [route('127.0.0.1', 3)] },
        { hostname: 'ok.test', port: 0, routes: [] },
        { hostname: 'other.test', port: 80, routes: [route('127.0.0.1', 4)] },
      ),
    );
    expect(plan.problems).to.deep.equal([
      'authority app.test:80 left out: a second authority app.test:80 (authorities compare case-insensitively)',
      'authority ok.test:0 left out: port: Too small: expected number to be >=1',
      'authority under_score.test:80 left out: hostname: must be a DNS hostname (letters, digits, hyphens, dots)',
    ]);
    expect(plan.model.authorities.map((a) => [a.hostname, a.routes.map((r) => r.port)])).to.deep.equal([
      ['app.test', [1]],
      ['other.test', [4]],
    ]);
  });

  it('an empty feed is an empty model', () => expect(routingModelOf(feed())).to.deep.equal({ model: { authorities: [] }, problems: [] }));
});
