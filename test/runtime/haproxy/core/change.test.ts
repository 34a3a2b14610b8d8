import { expect } from 'chai';
import { planChange, type Change } from '../../../../runtime/haproxy/core/change.js';
import { parseRoutingModel, type RouteState } from '../../../../runtime/haproxy/core/model.js';
import { proxySettings } from '../../../../runtime/haproxy/core/settings.js';

const settings = proxySettings({ statsSocket: '/run/a.sock', certDir: '/run/certs', bindAddress: '127.0.0.1', check: { intervalMs: 1000, fall: 2, rise: 2 } });
const check = 'check inter 1000 fall 2 rise 2';
const r = (port: number, weight = 10, state: RouteState = 'ready') => ({ host: '127.0.0.1', port, weight, state });
const model = (...authorities: Array<[string, number, ReturnType<typeof r>[]]>) =>
  parseRoutingModel({ authorities: authorities.map(([hostname, port, routes]) => ({ hostname, port, routes })) });
const be = 'be_app.test_80';
const pem = (label: string, body: string): string => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const tlsModel = (over: { certificate?: string; privateKey?: string } = {}, redirectHttpPort?: number) =>
  parseRoutingModel({ authorities: [{ hostname: 'app.test', port: 443, routes: [r(1)], tls: { certificate: pem('CERTIFICATE', 'C'), privateKey: pem('PRIVATE KEY', 'K'), ...over }, ...(redirectHttpPort === undefined ? {} : { redirectHttpPort }) }] });

const cases: Array<[string, ReturnType<typeof model>, ReturnType<typeof model>, Change]> = [
  ['nothing changed', model(['app.test', 80, [r(1)]]), model(['app.test', 80, [r(1)]]), { kind: 'runtime', commands: [] }],
  ['a ready server added', model(['app.test', 80, [r(1)]]), model(['app.test', 80, [r(1), r(2, 20)]]), { kind: 'runtime', commands: [
    `add server ${be}/s_127.0.0.1_2 127.0.0.1:2 weight 20 ${check}`,
    `enable health ${be}/s_127.0.0.1_2`,
    `enable server ${be}/s_127.0.0.1_2`,
  ] }],
  ['a server added in maint stays in maintenance', model(['app.test', 80, []]), model(['app.test', 80, [r(2, 5, 'maint')]]), { kind: 'runtime', commands: [
    `add server ${be}/s_127.0.0.1_2 127.0.0.1:2 weight 5 ${check}`,
    `enable health ${be}/s_127.0.0.1_2`,
  ] }],
  ['a weight changed', model(['app.test', 80, [r(1, 10)]]), model(['app.test', 80, [r(1, 256)]]), { kind: 'runtime', commands: [`set server ${be}/s_127.0.0.1_1 weight 256`] }],
  ['a server set to drain', model(['app.test', 80, [r(1)]]), model(['app.test', 80, [r(1, 10, 'drain')]]), { kind: 'runtime', commands: [`set server ${be}/s_127.0.0.1_1 state drain`] }],
  ['a server back from drain gets its weight again', model(['app.test', 80, [r(1, 10, 'drain')]]), model(['app.test', 80, [r(1, 10, 'ready')]]), { kind: 'runtime', commands: [
    `set server ${be}/s_127.0.0.1_1 weight 10`,
    `set server ${be}/s_127.0.0.1_1 state ready`,
  ] }],
  ['a server to maint', model(['app.test', 80, [r(1)]]), model(['app.test', 80, [r(1, 10, 'maint')]]), { kind: 'runtime', commands: [`set server ${be}/s_127.0.0.1_1 state maint`] }],
  ['a server removed: disabled, then deleted', model(['app.test', 80, [r(1), r(2)]]), model(['app.test', 80, [r(2)]]), { kind: 'runtime', commands: [
    `disable server ${be}/s_127.0.0.1_1`,
    `del server ${be}/s_127.0.0.1_1`,
  ] }],
  ['a replacement: add first, then weights, then removal', model(['app.test', 80, [r(1), r(2)]]), model(['app.test', 80, [r(2, 30), r(3)]]), { kind: 'runtime', commands: [
    `add server ${be}/s_127.0.0.1_3 127.0.0.1:3 weight 10 ${check}`,
    `enable health ${be}/s_127.0.0.1_3`,
    `enable server ${be}/s_127.0.0.1_3`,
    `set server ${be}/s_127.0.0.1_2 weight 30`,
    `disable server ${be}/s_127.0.0.1_1`,
    `del server ${be}/s_127.0.0.1_1`,
  ] }],
  ['changes in two authorities', model(['app.test', 80, [r(1)]], ['b.test', 80, [r(5)]]), model(['app.test', 80, [r(1, 1)]], ['b.test', 80, [r(5, 2)]]), { kind: 'runtime', commands: [
    `set server ${be}/s_127.0.0.1_1 weight 1`,
    'set server be_b.test_80/s_127.0.0.1_5 weight 2',
  ] }],
  ['a new authority on a port already served', model(['app.test', 80, [r(1)]]), model(['app.test', 80, [r(1)]], ['b.test', 80, [r(2)]]), { kind: 'reload', reasons: ['new authority b.test:80'] }],
  ['a new listening port', model(['app.test', 80, [r(1)]]), model(['app.test', 80, [r(1)]], ['app.test', 8443, [r(2)]]), { kind: 'reload', reasons: ['new listening port 8443', 'new authority app.test:8443'] }],
  ['an authority removed', model(['app.test', 80, [r(1)]], ['b.test', 80, [r(2)]]), model(['app.test', 80, [r(1)]]), { kind: 'reload', reasons: ['authority b.test:80 removed'] }],
  ['a certificate changed', tlsModel(), tlsModel({ certificate: pem('CERTIFICATE', 'A') }), { kind: 'reload', reasons: ['certificate of authority app.test:443 changed'] }],
  ['a key changed', tlsModel(), tlsModel({ privateKey: pem('PRIVATE KEY', 'B') }), { kind: 'reload', reasons: ['certificate of authority app.test:443 changed'] }],
  ['a redirect added', tlsModel(), tlsModel({}, 80), { kind: 'reload', reasons: ['redirect of authority app.test:443 changed', 'new listening port 80'] }],
  ['the same certificate and redirect', tlsModel({}, 80), tlsModel({}, 80), { kind: 'runtime', commands: [] }],
];

describe('planChange', () => {
  for (const [what, from, to, change] of cases) {
    it(what, () => expect(planChange(from, to, settings)).to.deep.equal(change));
  }
});
