import { expect } from 'chai';
import type { FeedRoute } from '../../../actors/router/messages.js';
import { routeRows, shareOf } from '../../../cli/core/routes.js';

const backend = (port: number, weight: number, state: FeedRoute['state'] = 'ready'): FeedRoute => ({ hostname: '127.0.0.1', port, weight, state, secure_connection: false });

describe('cli/core routes', () => {
  it('a ready backend takes its weight over the ready backends’ sum; drain and maint take none', () => {
    const routes = [backend(1, 90), backend(2, 10), backend(3, 100, 'drain'), backend(4, 100, 'maint')];
    expect(routes.map((r) => shareOf(r, routes))).to.deep.equal([0.9, 0.1, 0, 0]);
  });

  it('weights that sum to 0 give every backend a share of 0', () => {
    const routes = [backend(1, 0), backend(2, 0)];
    expect(routes.map((r) => shareOf(r, routes))).to.deep.equal([0, 0]);
  });

  it('one row per backend, and one for an authority nothing serves', () => {
    const rows = routeRows({
      authorities: [
        { hostname: 'shop.example.test', port: 80, routes: [backend(21000, 100), backend(21001, 100)] },
        { hostname: 'empty.example.test', port: 8080, routes: [] },
      ],
    });
    expect(rows).to.deep.equal([
      { authority: 'shop.example.test:80', backend: '127.0.0.1:21000', weight: 100, state: 'ready', share: 0.5 },
      { authority: 'shop.example.test:80', backend: '127.0.0.1:21001', weight: 100, state: 'ready', share: 0.5 },
      { authority: 'empty.example.test:8080', backend: null, weight: null, state: null, share: null },
    ]);
  });
});
