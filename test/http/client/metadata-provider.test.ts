import { expect } from 'chai';
import { managerClient, readAllPages, type ManagerUnavailableError, type Page } from '../../../http/client/manager-client.js';
import { managerMetadataProvider } from '../../../http/client/metadata-provider.js';
import type { Role } from '../../../entities/auth.js';
import { connectionTarget, publishKeyFor, routeFor, type MessagingMetadata } from '../../../runtime/messaging/core/routing.js';
import { cachedMetadataProvider, isMessagingMetadataError, type MessagingMetadataError } from '../../../runtime/messaging/metadata.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { closedPort } from './fake-manager.js';
import { forEachManager, recordingFetch, routeRequests, type LiveManager } from './live-manager.js';

const idOf = (location: string | null): number => Number(location!.split('/').pop());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/**
 * Seed 002's example (reference §4.1, issue 3): AWS / US-EAST-1 / US-WEST-1, with a GCP tree beside it so the lists
 * span pages; three brokers, one failing over to another, connections and restrictions.
 */
async function seedMessaging(m: LiveManager): Promise<MessagingMetadata> {
  const exchange = async (name: string, parent: number | null, fragment: string, failover: number | null = null) =>
    idOf((await m.seed('POST', '/messaging/exchanges', { name, parent_exchange_id: parent, routing_key_fragment: fragment, failover_exchange_id: failover })).location);
  const aws = await exchange('AWS', null, 'aws');
  const east = await exchange('US-EAST-1', aws, 'us-east-1');
  const west = await exchange('US-WEST-1', aws, 'us-west-1', east);
  const gcp = await exchange('GCP', null, 'gcp');
  const eu = await exchange('EUROPE-WEST-1', gcp, 'europe-west1');
  const broker = async (name: string, failover: number | null = null) =>
    idOf((await m.seed('POST', '/messaging/brokers', { name, failover_broker_id: failover })).location);
  const standby = await broker('standby');
  const primary = await broker('primary', standby);
  const other = await broker('other');
  const connections = [
    { broker: primary, username: 'oa', password: 'p1', host: 'rabbit-1', port: 5672, virtual_host: '/' },
    { broker: primary, username: 'oa', password: 'p2', host: 'rabbit-2', port: null, virtual_host: 'oa' },
    { broker: primary, username: 'oa', password: 'p3', host: 'rabbit-3', port: 5673, virtual_host: '/' },
    { broker: standby, username: 'dr', password: 's1', host: 'rabbit-dr', port: 5672, virtual_host: '/' },
    { broker: other, username: 'gc', password: 'o1', host: 'rabbit-gcp', port: 5672, virtual_host: '/' },
  ];
  for (const { broker: b, ...body } of connections) await m.seed('POST', `/messaging/brokers/${b}/connections`, body);
  const restrictions = [
    [east, primary],
    [east, other],
    [west, standby],
    [eu, other],
  ] as const;
  for (const [x, b] of restrictions) await m.seed('POST', `/messaging/exchanges/${x}/brokers`, { messaging_broker_id: b });
  // Connections and restrictions get their ids from the rows the Manager lists; the rest is known.
  return {
    exchanges: [
      { id: aws, name: 'AWS', parent_exchange_id: null, routing_key_fragment: 'aws', failover_exchange_id: null },
      { id: east, name: 'US-EAST-1', parent_exchange_id: aws, routing_key_fragment: 'us-east-1', failover_exchange_id: null },
      { id: west, name: 'US-WEST-1', parent_exchange_id: aws, routing_key_fragment: 'us-west-1', failover_exchange_id: east },
      { id: gcp, name: 'GCP', parent_exchange_id: null, routing_key_fragment: 'gcp', failover_exchange_id: null },
      { id: eu, name: 'EUROPE-WEST-1', parent_exchange_id: gcp, routing_key_fragment: 'europe-west1', failover_exchange_id: null },
    ],
    brokers: [
      { id: standby, name: 'standby', failover_broker_id: null },
      { id: primary, name: 'primary', failover_broker_id: standby },
      { id: other, name: 'other', failover_broker_id: null },
    ],
    connections: connections.map(({ broker: b, ...c }) => ({ id: 0, messaging_broker_id: b, ...c })),
    restrictions: restrictions.map(([x, b]) => ({ id: 0, messaging_exchange_id: x, messaging_broker_id: b })),
  };
}

const withoutIds = <T extends { id: number }>(rows: readonly T[]) => rows.map(({ id: _id, ...rest }) => rest);

forEachManager('Manager-backed messaging metadata provider', (m) => {
  let expected: MessagingMetadata;
  before(async () => {
    expected = await seedMessaging(m());
  });

  async function providerOf(role: Role, pageSize: number) {
    const { clientId, clientSecret } = await m().addClient(role);
    const recorder = recordingFetch();
    const client = managerClient({ baseUrl: m().baseUrl, clientId, clientSecret, log: captureLogs().log, fetch: recorder.fetch });
    return { provider: managerMetadataProvider({ client, source: m().baseUrl, pageSize }), sent: recorder.sent };
  }

  it('reads every exchange, broker, connection and restriction, page after page', async () => {
    const { provider, sent } = await providerOf('admin', 2);
    const metadata = await provider.load();
    expect(metadata.exchanges).to.deep.equal(expected.exchanges);
    expect(metadata.brokers).to.deep.equal(expected.brokers);
    expect(withoutIds(metadata.connections)).to.have.deep.members(withoutIds(expected.connections));
    expect(withoutIds(metadata.restrictions)).to.have.deep.members(withoutIds(expected.restrictions));
    const paths = routeRequests(sent).map((r) => new URL(r.url));
    const pagesOf = (path: string) => paths.filter((u) => u.pathname === path).map((u) => u.searchParams.get('offset'));
    // 5 exchanges and 3 connections of the primary broker, 2 a page.
    expect(pagesOf('/messaging/exchanges')).to.deep.equal(['0', '2', '4']);
    expect(pagesOf('/messaging/brokers')).to.deep.equal(['0', '2']);
    expect(pagesOf(`/messaging/brokers/${expected.brokers[1]!.id}/connections`)).to.deep.equal(['0', '2']);
    expect(paths.every((u) => u.searchParams.get('limit') === '2')).to.equal(true);
  });

  it('gives the routing core what it needs: aws.us-east-1.builder, and the failover broker and exchange', async () => {
    const metadata = await (await providerOf('admin', 1_000)).provider.load();
    const [, east, west] = metadata.exchanges;
    expect(routeFor(metadata.exchanges, east!.id)).to.deep.equal({ exchangeId: east!.id, rootExchangeName: 'AWS', routingKey: 'aws.us-east-1' });
    expect(publishKeyFor(routeFor(metadata.exchanges, east!.id).routingKey, 'builder')).to.equal('aws.us-east-1.builder');
    const first = <T>(xs: readonly [T, ...T[]]): T => xs[0];
    const target = connectionTarget({ metadata, brokerId: expected.brokers[1]!.id, exchangeId: west!.id, pick: first });
    expect(target.primary.endpoint).to.deep.include({ host: 'rabbit-1', port: 5672, username: 'oa', password: 'p1', virtualHost: '/' });
    expect(target.failover?.endpoint).to.deep.include({ host: 'rabbit-dr', password: 's1' });
    expect(target.failover?.route).to.deep.equal({ exchangeId: east!.id, rootExchangeName: 'AWS', routingKey: 'aws.us-east-1' });
  });

  it('cached for 5 minutes by cachedMetadataProvider: a second load asks the Manager nothing', async () => {
    const { provider, sent } = await providerOf('admin', 1_000);
    let now = 0;
    const cached = cachedMetadataProvider(provider, { now: () => now });
    const first = await cached.load();
    const asked = sent.length;
    now += 4 * 60_000;
    expect(await cached.load()).to.equal(first);
    expect(sent.length).to.equal(asked);
    now += 2 * 60_000;
    await cached.load();
    expect(sent.length).to.be.greaterThan(asked);
  });

  it('refuses a client that is not an admin: the Manager withholds broker passwords from it', async () => {
    const err = (await rejection((await providerOf('operator', 1_000)).provider.load())) as MessagingMetadataError;
    expect(isMessagingMetadataError(err)).to.equal(true);
    expect(err.source).to.equal(m().baseUrl);
    expect(err.problems).to.have.length(1);
    expect(err.problems[0]).to.match(/^connections \d+, \d+, \d+, \d+, \d+: passwords withheld by the Manager; the component's API client must have the admin role$/);
  });
});

describe('Manager-backed messaging metadata provider without a Manager', () => {
  it('rejects with ManagerUnavailableError, and cachedMetadataProvider keeps nothing', async () => {
    const port = await closedPort();
    const client = managerClient({ baseUrl: `http://127.0.0.1:${port}`, clientId: 'c', clientSecret: 's', log: captureLogs().log, retry: { maxRetries: 1, baseDelayMs: 1 } });
    const cached = cachedMetadataProvider(managerMetadataProvider({ client, source: 'nowhere' }));
    const err = (await rejection(cached.load())) as ManagerUnavailableError;
    expect([err.name, err.route]).to.deep.equal(['ManagerUnavailableError', 'POST /oauth/token']);
    expect(((await rejection(cached.load())) as Error).name).to.equal('ManagerUnavailableError');
  });

  it('stops paging when a page comes back empty, even if the total promised more', async () => {
    const offsets: number[] = [];
    const pages: Array<Page<number>> = [
      { items: [1, 2], total: 5 },
      { items: [], total: 5 },
    ];
    const all = await readAllPages(async ({ offset }) => {
      offsets.push(offset);
      return pages[offsets.length - 1]!;
    }, 2);
    expect([all, offsets]).to.deep.equal([[1, 2], [0, 2]]);
    expect(await rejection(readAllPages(async () => ({ items: [], total: 0 }), 1_001))).to.be.instanceOf(RangeError);
  });
});
