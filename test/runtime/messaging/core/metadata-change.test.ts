import { expect } from 'chai';
import { metadataProblemsFor, planMetadataChange, sameMetadata, type LinkAction, type LinkView } from '../../../../runtime/messaging/core/metadata-change.js';
import type { MessagingBrokerConnection, MessagingMetadata } from '../../../../runtime/messaging/core/routing.js';

const connection = (id: number, brokerId: number, host = `h${id}`): MessagingBrokerConnection => ({
  id,
  messaging_broker_id: brokerId,
  username: 'u',
  password: 'p',
  host,
  port: null,
  virtual_host: null,
});

// The e2e's layout: exchange 2 (a zone under root 1) on broker 2, the management exchange 1 on broker 1.
const base: MessagingMetadata = {
  exchanges: [
    { id: 1, name: 'root', parent_exchange_id: null, routing_key_fragment: 'root', failover_exchange_id: null },
    { id: 2, name: 'zone', parent_exchange_id: 1, routing_key_fragment: 'zone', failover_exchange_id: null },
  ],
  brokers: [
    { id: 1, name: 'management', failover_broker_id: null },
    { id: 2, name: 'zone', failover_broker_id: null },
  ],
  connections: [connection(1, 1), connection(2, 2)],
  restrictions: [
    { id: 1, messaging_exchange_id: 1, messaging_broker_id: 1 },
    { id: 2, messaging_exchange_id: 2, messaging_broker_id: 2 },
  ],
};

/** Broker 2 fails over to a new broker 3 (connection 3): what an operator adds through the API. */
const withFailover: MessagingMetadata = {
  ...base,
  brokers: [base.brokers[0]!, { id: 2, name: 'zone', failover_broker_id: 3 }, { id: 3, name: 'spare', failover_broker_id: null }],
  connections: [...base.connections, connection(3, 3)],
};

const own = { brokerId: 2, exchangeId: 2 };
/** The build process: its own link (broker 2) and the one it publishes to the management exchange through (broker 1). */
const links: LinkView[] = [
  { brokerId: 2, exchangeId: 2, primaryConnectionId: 2 },
  { brokerId: 1, exchangeId: 1, primaryConnectionId: 1 },
];
const linksFailingOver: LinkView[] = [{ brokerId: 2, exchangeId: 2, primaryConnectionId: 2, failover: { brokerId: 3, connectionId: 3 } }, links[1]!];

const edit = (m: MessagingMetadata, change: Partial<MessagingMetadata>): MessagingMetadata => ({ ...m, ...change });
const actions = (plan: { links: readonly LinkAction[] }) => plan.links.map((a) => `${a.brokerId}:${a.action}`);

describe('planMetadataChange (issue 19: what changed -> what to do)', () => {
  const cases: Array<[string, MessagingMetadata, MessagingMetadata, LinkView[], string[]]> = [
    ['nothing changed', base, base, links, ['2:keep', '1:keep']],
    ['a failover broker added to the own broker: swapped in under the running primary', base, withFailover, links, ['2:retarget-failover', '1:keep']],
    ['the failover removed again', withFailover, base, linksFailingOver, ['2:retarget-failover', '1:keep']],
    [
      'the failover broker replaced by another',
      withFailover,
      edit(withFailover, {
        brokers: [...withFailover.brokers.slice(0, 1), { id: 2, name: 'zone', failover_broker_id: 4 }, withFailover.brokers[2]!, { id: 4, name: 'other', failover_broker_id: null }],
        connections: [...withFailover.connections, connection(4, 4)],
      }),
      linksFailingOver,
      ['2:retarget-failover', '1:keep'],
    ],
    [
      "the failover's connection row edited (a new password)",
      withFailover,
      edit(withFailover, { connections: [connection(1, 1), connection(2, 2), { ...connection(3, 3), password: 'new' }] }),
      linksFailingOver,
      ['2:retarget-failover', '1:keep'],
    ],
    [
      'the own primary connection moved to another host: reconnect',
      base,
      edit(base, { connections: [connection(1, 1), connection(2, 2, 'elsewhere')] }),
      links,
      ['2:reconnect', '1:keep'],
    ],
    [
      'a second connection row added to a broker: the one in use stays',
      base,
      edit(base, { connections: [...base.connections, connection(9, 2)] }),
      links,
      ['2:keep', '1:keep'],
    ],
    [
      "the own exchange's fragment renamed: its consumers are bound with the old key, reconnect",
      base,
      edit(base, { exchanges: [base.exchanges[0]!, { ...base.exchanges[1]!, routing_key_fragment: 'zone-b' }] }),
      links,
      ['2:reconnect', '1:keep'],
    ],
    [
      'the root renamed: a new root exchange for everyone below it',
      base,
      edit(base, { exchanges: [{ ...base.exchanges[0]!, name: 'root2' }, base.exchanges[1]!] }),
      links,
      ['2:reconnect', '1:keep'],
    ],
    [
      'a broker this process only publishes through is deleted: let go',
      edit(base, { brokers: [...base.brokers, { id: 5, name: 'old', failover_broker_id: null }], connections: [...base.connections, connection(5, 5)] }),
      base,
      [...links, { brokerId: 5, exchangeId: 1, primaryConnectionId: 5 }],
      ['2:keep', '1:keep', '5:close'],
    ],
    [
      'a broker loses its last connection row: let go (a later publish names the problem)',
      base,
      edit(base, { connections: [connection(2, 2)] }),
      links,
      ['2:keep', '1:close'],
    ],
    [
      'only a restriction changed: no link moves',
      base,
      edit(base, { restrictions: [base.restrictions[1]!] }),
      links,
      ['2:keep', '1:keep'],
    ],
  ];
  for (const [what, prev, next, views, expected] of cases) {
    it(what, () => expect(actions(planMetadataChange({ prev, next, links: views, own, source: 'test' }))).to.deep.equal(expected));
  }

  it('says which caches go: routes when exchanges changed, broker choices when restrictions changed', () => {
    const restricted = planMetadataChange({ prev: base, next: edit(base, { restrictions: [base.restrictions[1]!] }), links, own, source: 'test' });
    expect(restricted).to.include({ changed: true, routesChanged: false, restrictionsChanged: true });
    const failover = planMetadataChange({ prev: base, next: withFailover, links, own, source: 'test' });
    expect(failover).to.include({ changed: true, routesChanged: false, restrictionsChanged: false });
    const same = planMetadataChange({ prev: base, next: base, links, own, source: 'test' });
    expect(same).to.include({ changed: false });
  });

  it('the same tables listed in another order are no change', () => {
    const reordered = { ...base, exchanges: [...base.exchanges].reverse(), connections: [...base.connections].reverse() };
    expect(sameMetadata(base, reordered)).to.equal(true);
    expect(planMetadataChange({ prev: base, next: reordered, links, own, source: 'test' }).changed).to.equal(false);
  });

  it('refuses metadata this process cannot run on, keeping every link, and names the variable', () => {
    const plan = planMetadataChange({ prev: base, next: edit(base, { brokers: [base.brokers[0]!], connections: [connection(1, 1)], restrictions: [] }), links, own, source: 'the Manager at http://m' });
    expect(plan.problems).to.deep.equal(['BROKER_ID: broker 2 is not in the messaging metadata of the Manager at http://m']);
    expect(actions(plan)).to.deep.equal(['2:keep', '1:keep']);
  });
});

describe('metadataProblemsFor', () => {
  const cases: Array<[string, MessagingMetadata, { brokerId: number; exchangeId: number }, string[]]> = [
    ['a process of the zone', base, own, []],
    ['an exchange that is not there', base, { brokerId: 2, exchangeId: 7 }, ['EXCHANGE_ID: exchange 7 is not in the messaging metadata of M']],
    ['a broker that is not there', base, { brokerId: 7, exchangeId: 2 }, ['BROKER_ID: broker 7 is not in the messaging metadata of M']],
    [
      'a broker without connection options',
      edit(base, { connections: [connection(1, 1)] }),
      own,
      ['BROKER_ID: broker 2 cannot be reached through the messaging metadata of M: broker 2 has no connection options'],
    ],
    [
      'a failover broker without connection options',
      edit(withFailover, { connections: base.connections }),
      own,
      ['BROKER_ID: broker 2 cannot be reached through the messaging metadata of M: broker 3 has no connection options'],
    ],
    ['inconsistent tables, with their field', edit(base, { restrictions: [{ id: 1, messaging_exchange_id: 9, messaging_broker_id: 1 }] }), own, ['M: restrictions[0].messaging_exchange_id: no exchange with id 9']],
  ];
  for (const [what, metadata, place, expected] of cases) {
    it(what, () => expect(metadataProblemsFor(metadata, place, 'M')).to.deep.equal(expected));
  }
});
