import { expect } from 'chai';
import {
  type BrokerRestriction,
  type MessagingExchange,
  type MessagingMetadata,
  type PickOne,
  RoutingError,
  connectionTarget,
  isRoutingError,
  publishKeyFor,
  resolveBroker,
  rootExchangeName,
  routeFor,
  routingKeyFor,
} from '../../../../runtime/messaging/core/routing.js';

function exchange(id: number, name: string, parent: number | null, fragment: string | null): MessagingExchange {
  return { id, name, parent_exchange_id: parent, routing_key_fragment: fragment, failover_exchange_id: null };
}

// Seed 002: AWS at the root, two regions below it.
const seed: MessagingExchange[] = [
  exchange(1, 'AWS', null, 'aws'),
  exchange(2, 'US-EAST-1', 1, 'us-east-1'),
  exchange(3, 'US-WEST-1', 1, 'us-west-1'),
];

const first: PickOne = (xs) => xs[0];
const last: PickOne = (xs) => xs[xs.length - 1] ?? xs[0];

function routingErrorOf(run: () => unknown): RoutingError {
  try {
    run();
  } catch (e) {
    if (e instanceof RoutingError) return e;
    throw e;
  }
  throw new Error('expected a RoutingError');
}

describe('routing keys (reference §4.1)', () => {
  const tree: MessagingExchange[] = [
    ...seed,
    exchange(4, 'bare-root', null, null),
    exchange(5, 'az-a', 3, 'a'),
    exchange(6, 'no-fragment', 3, ''),
    exchange(7, 'below-no-fragment', 6, 'x'),
  ];
  const cases: Array<[number, string, string]> = [
    [1, 'AWS', 'aws'],
    [2, 'AWS', 'aws.us-east-1'],
    [3, 'AWS', 'aws.us-west-1'],
    [4, 'bare-root', ''],
    [5, 'AWS', 'aws.us-west-1.a'],
    [6, 'AWS', 'aws.us-west-1'],
    [7, 'AWS', 'aws.us-west-1.x'],
  ];
  for (const [id, root, key] of cases) {
    it(`exchange ${id} -> root ${root}, key "${key}"`, () => {
      expect(routingKeyFor(tree, id)).to.equal(key);
      expect(rootExchangeName(tree, id)).to.equal(root);
      expect(routeFor(tree, id)).to.deep.equal({ exchangeId: id, rootExchangeName: root, routingKey: key });
    });
  }

  it('seed 002: a builder in US-EAST-1 is published to AWS with key aws.us-east-1.builder', () => {
    const route = routeFor(seed, 2);
    expect(route.rootExchangeName).to.equal('AWS');
    expect(publishKeyFor(route.routingKey, 'builder')).to.equal('aws.us-east-1.builder');
  });

  const publishCases: Array<[string, string, string]> = [
    ['aws.us-east-1', 'builder', 'aws.us-east-1.builder'],
    ['aws', 'system_modules', 'aws.system_modules'],
    ['', 'builder', 'builder'],
  ];
  for (const [key, queue, expected] of publishCases) {
    it(`publishKeyFor("${key}", "${queue}") = "${expected}"`, () => expect(publishKeyFor(key, queue)).to.equal(expected));
  }

  it('refuses an empty queue name', () => expect(() => publishKeyFor('aws', '')).to.throw(RangeError));
});

describe('broken exchange trees', () => {
  const cases: Array<[string, MessagingExchange[], number, RoutingError['kind'], number[]]> = [
    ['unknown exchange', seed, 9, 'unknown-exchange', [9]],
    ['dangling parent', [exchange(1, 'a', null, 'a'), exchange(2, 'b', 8, 'b')], 2, 'dangling-parent', [2, 8]],
    ['dangling grandparent', [exchange(1, 'a', 8, 'a'), exchange(2, 'b', 1, 'b')], 2, 'dangling-parent', [1, 8]],
    ['exchange is its own parent', [exchange(1, 'a', 1, 'a')], 1, 'cycle', [1, 1]],
    ['two-exchange cycle', [exchange(1, 'a', 2, 'a'), exchange(2, 'b', 1, 'b')], 1, 'cycle', [1, 2, 1]],
    ['cycle above the start', [exchange(1, 'a', 2, 'a'), exchange(2, 'b', 3, 'b'), exchange(3, 'c', 2, 'c')], 1, 'cycle', [2, 3, 2]],
  ];
  for (const [title, exchanges, id, kind, ids] of cases) {
    it(`${title}: RoutingError ${kind} naming ${ids.join(', ')}`, () => {
      const err = routingErrorOf(() => routingKeyFor(exchanges, id));
      expect(err.kind).to.equal(kind);
      expect(err.ids).to.deep.equal(ids);
      for (const x of ids) expect(err.message).to.include(String(x));
      expect(isRoutingError(err)).to.equal(true);
      expect(err.retryable).to.equal(false);
    });
  }

  it('is recognised by name after a process hop drops the prototype', () => {
    const hopped = Object.assign(new Error('exchange tree has a cycle'), { name: 'RoutingError' });
    expect(isRoutingError(hopped)).to.equal(true);
    expect(isRoutingError(new Error('x'))).to.equal(false);
  });
});

describe('resolveBroker (reference §4.4)', () => {
  // Row ids (100+) differ from broker ids on purpose: the original used the row id (§10.1 #3).
  const row = (id: number, exchangeId: number, brokerId: number): BrokerRestriction => ({
    id,
    messaging_exchange_id: exchangeId,
    messaging_broker_id: brokerId,
  });
  const SOURCE = 2;
  const DESTINATION = 3;
  const OWN = 1;
  const cases: Array<[string, BrokerRestriction[], PickOne, number, 'destination' | 'source' | 'own']> = [
    ['no restrictions', [], first, OWN, 'own'],
    ['restrictions only on other exchanges', [row(100, 1, 7)], first, OWN, 'own'],
    ['destination only', [row(101, DESTINATION, 7)], first, 7, 'destination'],
    ['source only', [row(102, SOURCE, 8)], first, 8, 'source'],
    ['both, destination listed first', [row(103, DESTINATION, 7), row(104, SOURCE, 8)], first, 7, 'destination'],
    ['both, source listed first', [row(105, SOURCE, 8), row(106, DESTINATION, 7)], first, 7, 'destination'],
    ['several destination brokers, pick the last', [row(107, DESTINATION, 7), row(108, DESTINATION, 9)], last, 9, 'destination'],
    ['several source brokers, pick the last', [row(112, SOURCE, 8), row(113, SOURCE, 5)], last, 5, 'source'],
  ];
  for (const [title, restrictions, pick, brokerId, basis] of cases) {
    it(`${title} -> broker ${brokerId} (${basis})`, () => {
      const choice = resolveBroker({ source: SOURCE, destination: DESTINATION, restrictions, ownBrokerId: OWN, pick });
      expect(choice).to.deep.equal({ brokerId, basis });
    });
  }

  it('offers pick only the distinct broker ids', () => {
    const offered: number[][] = [];
    const spy: PickOne = (xs) => {
      offered.push(xs.map(Number));
      return xs[0];
    };
    const restrictions = [row(1, DESTINATION, 7), row(2, DESTINATION, 7), row(3, DESTINATION, 9)];
    resolveBroker({ source: SOURCE, destination: DESTINATION, restrictions, ownBrokerId: OWN, pick: spy });
    expect(offered).to.deep.equal([[7, 9]]);
  });
});

describe('connectionTarget (reference §4.2, §4.5)', () => {
  const metadata: MessagingMetadata = {
    exchanges: [...seed, exchange(4, 'US-EAST-1-DR', 1, 'us-east-1-dr'), { ...exchange(5, 'EU', null, 'eu'), failover_exchange_id: 99 }],
    brokers: [
      { id: 1, name: 'primary', failover_broker_id: 2 },
      { id: 2, name: 'secondary', failover_broker_id: null },
      { id: 3, name: 'fails-over-to-itself', failover_broker_id: 3 },
      { id: 4, name: 'dangling-failover', failover_broker_id: 42 },
      { id: 5, name: 'empty', failover_broker_id: null },
      { id: 6, name: 'fails-over-to-empty', failover_broker_id: 5 },
    ],
    connections: [
      { id: 10, messaging_broker_id: 1, username: 'u1', password: 'p1', host: 'rmq-a', port: 5672, virtual_host: 'oa' },
      { id: 11, messaging_broker_id: 1, username: 'u1', password: 'p1', host: 'rmq-a2', port: null, virtual_host: null },
      { id: 20, messaging_broker_id: 2, username: 'u2', password: 'p2', host: 'rmq-b', port: 5673, virtual_host: '' },
      { id: 30, messaging_broker_id: 3, username: 'u3', password: 'p3', host: 'rmq-c', port: 5672, virtual_host: '/' },
      { id: 40, messaging_broker_id: 4, username: 'u4', password: 'p4', host: 'rmq-d', port: 5672, virtual_host: '/' },
      { id: 60, messaging_broker_id: 6, username: 'u6', password: 'p6', host: 'rmq-f', port: 5672, virtual_host: '/' },
    ],
    restrictions: [],
  };
  const withFailoverExchange: MessagingMetadata = {
    ...metadata,
    exchanges: metadata.exchanges.map((x) => (x.id === 2 ? { ...x, failover_exchange_id: 4 } : x)),
  };

  it('attaches the failover broker options and the failover exchange route', () => {
    const target = connectionTarget({ metadata: withFailoverExchange, brokerId: 1, exchangeId: 2, pick: first });
    expect(target).to.deep.equal({
      primary: {
        endpoint: { brokerId: 1, connectionId: 10, host: 'rmq-a', port: 5672, username: 'u1', password: 'p1', virtualHost: 'oa' },
        route: { exchangeId: 2, rootExchangeName: 'AWS', routingKey: 'aws.us-east-1' },
      },
      failover: {
        endpoint: { brokerId: 2, connectionId: 20, host: 'rmq-b', port: 5673, username: 'u2', password: 'p2', virtualHost: '/' },
        route: { exchangeId: 4, rootExchangeName: 'AWS', routingKey: 'aws.us-east-1-dr' },
      },
    });
  });

  it('keeps the same exchange on the failover broker when there is no failover exchange', () => {
    const target = connectionTarget({ metadata, brokerId: 1, exchangeId: 2, pick: first });
    expect(target.failover?.endpoint.brokerId).to.equal(2);
    expect(target.failover?.route).to.deep.equal(target.primary.route);
  });

  it('lets pick choose the connection row; a null port is omitted and a null vhost is "/"', () => {
    const { primary } = connectionTarget({ metadata, brokerId: 1, exchangeId: 1, pick: last });
    expect(primary.endpoint).to.deep.equal({
      brokerId: 1,
      connectionId: 11,
      host: 'rmq-a2',
      username: 'u1',
      password: 'p1',
      virtualHost: '/',
    });
    expect(primary.endpoint).not.to.have.property('port');
  });

  it('a broker without failover has no failover key', () => {
    const target = connectionTarget({ metadata, brokerId: 2, exchangeId: 3, pick: first });
    expect(target).not.to.have.property('failover');
    expect(target.primary.route.routingKey).to.equal('aws.us-west-1');
  });

  it('a broker named as its own failover is taken literally: another pick among its own connections', () => {
    const target = connectionTarget({ metadata, brokerId: 3, exchangeId: 3, pick: first });
    expect(target.failover?.endpoint).to.deep.equal(target.primary.endpoint);
  });

  const broken: Array<[string, number, number, RoutingError['kind'], number[]]> = [
    ['unknown broker', 42, 1, 'unknown-broker', [42]],
    ['dangling failover_broker_id', 4, 1, 'unknown-broker', [4, 42]],
    ['broker without connections', 5, 1, 'no-connection', [5]],
    ['failover broker without connections', 6, 1, 'no-connection', [5]],
    ['unknown exchange', 1, 77, 'unknown-exchange', [77]],
    ['dangling failover_exchange_id', 1, 5, 'unknown-exchange', [5, 99]],
  ];
  for (const [title, brokerId, exchangeId, kind, ids] of broken) {
    it(`${title}: RoutingError ${kind}`, () => {
      const err = routingErrorOf(() => connectionTarget({ metadata, brokerId, exchangeId, pick: first }));
      expect(err.kind).to.equal(kind);
      expect(err.ids).to.deep.equal(ids);
    });
  }
});
