import { expect } from 'chai';
import type { FeedRoute } from '../../../actors/router/messages.js';
import { addressNotice, NO_ROUTE } from '../../../actors/deployer/messages.js';
import { addressLines, routeRows, routesTargetOf, shareOf } from '../../../cli/core/routes.js';

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

  const targets: Array<[string | undefined, unknown]> = [
    [undefined, { kind: 'all' }],
    ['shop', { kind: 'product', product: 'shop' }],
    [' My Shop ', { kind: 'product', product: 'My Shop' }],
    ['shop.example.test:8080', { kind: 'authority', hostname: 'shop.example.test', port: 8080 }],
  ];
  for (const [text, target] of targets) it(`routes ${JSON.stringify(text)} lists ${JSON.stringify(target)}`, () => expect(routesTargetOf(text)).to.deep.equal(target));

  it('a host:port that is not one is refused naming the argument', () => {
    expect(() => routesTargetOf('shop:http')).to.throw(/^<product \| hostname:port>: expected hostname:port such as shop\.example\.com:80 \(got "shop:http"\)$/);
  });

  const id = '[OA][0b5e][file:///tmp/hello_docker]';
  const deployed = (...lines: string[]) => ({ milestones: ['build', 'deploy'], event_log: [`${id} Starting Workflow Milestone:  :deploy`, ...lines.map((l) => `${id} ${l}`)] });
  const said: Array<[string, { milestones: string[]; event_log: string[] }, string[]]> = [
    ['each URL the deploy reported, once', deployed(addressNotice('http://hello.localhost:8080/'), addressNotice('http://api.localhost/'), addressNotice('http://hello.localhost:8080/')), ['the app answers at http://hello.localhost:8080/', 'the app answers at http://api.localhost/']],
    ['that the app has no route', deployed(NO_ROUTE), ['the app has no route: no unit of the deployment repo declares one (units.json "route": hostname and port), so it has no address on the router']],
    ['nothing when the workflow did not deploy', { milestones: ['build'], event_log: [] }, []],
  ];
  for (const [what, workflow, lines] of said) it(`after a deploy, workflow run says ${what}`, () => expect(addressLines(workflow)).to.deep.equal(lines));
});
