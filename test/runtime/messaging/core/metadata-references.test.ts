import { expect } from 'chai';
import { findMetadataProblems } from '../../../../runtime/messaging/core/metadata-references.js';
import type { MessagingExchange, MessagingMetadata } from '../../../../runtime/messaging/core/routing.js';

function exchange(id: number, parent: number | null, failover: number | null = null): MessagingExchange {
  return { id, name: `x${id}`, parent_exchange_id: parent, routing_key_fragment: `f${id}`, failover_exchange_id: failover };
}
const broker = (id: number, failover: number | null = null) => ({ id, name: `b${id}`, failover_broker_id: failover });
const connection = (id: number, brokerId: number) => ({
  id,
  messaging_broker_id: brokerId,
  username: 'u',
  password: 'p',
  host: 'h',
  port: null,
  virtual_host: null,
});

// Seed 002: AWS at the root, two regions below it; US-WEST-1 fails over to US-EAST-1, broker 1 to broker 2.
const seed: MessagingMetadata = {
  exchanges: [exchange(1, null), exchange(2, 1), exchange(3, 1, 2)],
  brokers: [broker(1, 2), broker(2)],
  connections: [connection(1, 1), connection(2, 2)],
  restrictions: [{ id: 1, messaging_exchange_id: 3, messaging_broker_id: 2 }],
};

describe('findMetadataProblems', () => {
  const cases: Array<[string, Partial<MessagingMetadata>, string[]]> = [
    ['the seed example is consistent', {}, []],
    [
      'a dangling parent',
      { exchanges: [exchange(1, null), exchange(2, 9)], restrictions: [] },
      ['exchanges[1].parent_exchange_id: no exchange with id 9'],
    ],
    [
      'a dangling failover exchange',
      { exchanges: [exchange(1, null, 4)], restrictions: [] },
      ['exchanges[0].failover_exchange_id: no exchange with id 4'],
    ],
    ['a dangling failover broker', { brokers: [broker(1, 7), broker(2)] }, ['brokers[0].failover_broker_id: no broker with id 7']],
    [
      'a connection of an unknown broker',
      { connections: [connection(1, 1), connection(2, 5)] },
      ['connections[1].messaging_broker_id: no broker with id 5'],
    ],
    [
      'a restriction naming neither a known exchange nor a known broker',
      { restrictions: [{ id: 1, messaging_exchange_id: 8, messaging_broker_id: 6 }] },
      ['restrictions[0].messaging_exchange_id: no exchange with id 8', 'restrictions[0].messaging_broker_id: no broker with id 6'],
    ],
    [
      'duplicate ids, per table',
      { brokers: [broker(1), broker(2), broker(1)], connections: [connection(1, 1), connection(1, 2)] },
      ['brokers[2].id: duplicate id 1 (also brokers[0])', 'connections[1].id: duplicate id 1 (also connections[0])'],
    ],
    [
      'a self-parent',
      { exchanges: [exchange(1, null), exchange(2, 2)], restrictions: [] },
      ['exchanges[1].parent_exchange_id: exchange tree has a cycle (child -> parent): 2 -> 2'],
    ],
    [
      'a two-exchange cycle, reported once, and not again for the exchange below it',
      { exchanges: [exchange(1, null), exchange(2, 3), exchange(3, 2), exchange(4, 3)], restrictions: [] },
      ['exchanges[1].parent_exchange_id: exchange tree has a cycle (child -> parent): 2 -> 3 -> 2'],
    ],
    [
      'every problem at once, in table order',
      { exchanges: [exchange(1, 5)], brokers: [broker(1, 3)], connections: [connection(1, 4)], restrictions: [] },
      [
        'exchanges[0].parent_exchange_id: no exchange with id 5',
        'brokers[0].failover_broker_id: no broker with id 3',
        'connections[0].messaging_broker_id: no broker with id 4',
      ],
    ],
  ];
  for (const [title, change, problems] of cases) {
    it(title, () => expect(findMetadataProblems({ ...seed, ...change })).to.deep.equal(problems));
  }
});
