import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../../runtime/config.js';
import type { MessagingMetadata } from '../../../runtime/messaging/core/routing.js';
import {
  type MessagingMetadataProvider,
  MessagingMetadataError,
  cachedMetadataProvider,
  isMessagingMetadataError,
  loadMetadataFile,
  parseMessagingMetadata,
  singleBrokerMetadata,
  staticMetadataProvider,
} from '../../../runtime/messaging/metadata.js';
import { rejectionOf } from '../../helpers/wait.js';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (e) {
    if (e instanceof Error) return e;
  }
  throw new Error('expected an error');
}
const problemsOf = (run: () => unknown): readonly string[] => {
  const e = thrown(run);
  if (e instanceof MessagingMetadataError || e instanceof ConfigError) return e.problems;
  throw e;
};

// Seed 002 as a hand-written file: nullable columns left out.
const file = {
  exchanges: [
    { id: 1, name: 'AWS', routing_key_fragment: 'aws' },
    { id: 2, name: 'US-EAST-1', parent_exchange_id: 1, routing_key_fragment: 'us-east-1' },
    { id: 3, name: 'US-WEST-1', parent_exchange_id: 1, routing_key_fragment: 'us-west-1', failover_exchange_id: 2 },
  ],
  brokers: [{ id: 1, name: 'east', failover_broker_id: 2 }, { id: 2, name: 'west' }],
  connections: [
    { id: 1, messaging_broker_id: 1, username: 'oa', password: 's3cret', host: 'rabbit-1', port: 5672, virtual_host: 'oa' },
    { id: 2, messaging_broker_id: 2, username: 'oa', password: 's3cret', host: 'rabbit-2' },
  ],
  restrictions: [{ id: 1, messaging_exchange_id: 3, messaging_broker_id: 2 }],
};

describe('parseMessagingMetadata', () => {
  it('fills left-out nullable columns with null and a left-out restrictions list with []', () => {
    const { restrictions: _, ...noRestrictions } = file;
    const metadata = parseMessagingMetadata(noRestrictions, 'm.json');
    expect(metadata.exchanges[0]).to.deep.equal({
      id: 1,
      name: 'AWS',
      parent_exchange_id: null,
      routing_key_fragment: 'aws',
      failover_exchange_id: null,
    });
    expect(metadata.connections[1]).to.include({ port: null, virtual_host: null });
    expect(metadata.restrictions).to.deep.equal([]);
  });

  const invalid: Array<[string, unknown, string[]]> = [
    ['not an object', [], ['(top level): expected an object']],
    ['missing tables', { exchanges: 'all' }, ['exchanges: expected an array', 'brokers: required', 'connections: required']],
    [
      'a string failover id',
      { ...file, brokers: [{ id: 1, name: 'east', failover_broker_id: 'west' }] },
      ['brokers[0].failover_broker_id: expected a number or null'],
    ],
    [
      'a typo in a key',
      { ...file, exchanges: [{ id: 1, name: 'AWS', parent_exchange: 2 }] },
      ['exchanges[0]: unknown key "parent_exchange"'],
    ],
    ['an unknown top-level key', { ...file, queues: [] }, ['(top level): unknown key "queues"']],
    [
      'several field problems at once',
      {
        ...file,
        brokers: [{ name: '' }],
        connections: [{ id: 1.5, messaging_broker_id: 1, username: 'u', password: 'p', host: 'h', port: 70_000 }],
      },
      [
        'brokers[0].id: required',
        'brokers[0].name: must not be empty',
        'connections[0].id: expected a whole number',
        'connections[0].port: expected a port number from 1 to 65535',
      ],
    ],
    [
      'dangling references, after the fields are well-formed',
      {
        ...file,
        brokers: [{ id: 1, name: 'east', failover_broker_id: 9 }],
        restrictions: [{ id: 1, messaging_exchange_id: 4, messaging_broker_id: 1 }],
      },
      [
        'brokers[0].failover_broker_id: no broker with id 9',
        'connections[1].messaging_broker_id: no broker with id 2',
        'restrictions[0].messaging_exchange_id: no exchange with id 4',
      ],
    ],
  ];
  for (const [title, json, problems] of invalid) {
    it(`rejects ${title}`, () => expect(problemsOf(() => parseMessagingMetadata(json, 'm.json'))).to.deep.equal(problems));
  }
});

describe('loadMetadataFile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-metadata-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const write = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it('reads and checks a file', async () => {
    const metadata = await loadMetadataFile(await write('good.json', JSON.stringify(file)));
    expect(metadata.exchanges.map((x) => x.name)).to.deep.equal(['AWS', 'US-EAST-1', 'US-WEST-1']);
    expect(metadata.brokers[1]).to.deep.equal({ id: 2, name: 'west', failover_broker_id: null });
  });

  it('names the file and every problem', async () => {
    const exchanges = [
      { id: 1, name: 'AWS', parent_exchange_id: 'x' },
      { id: 2, name: 'B', parent_exchange_id: 7 },
    ];
    const path = await write('bad.json', JSON.stringify({ ...file, exchanges }));
    const err = await rejectionOf(loadMetadataFile(path));
    expect(isMessagingMetadataError(err)).to.equal(true);
    expect(err.message).to.contain(path).and.to.contain('exchanges[0].parent_exchange_id: expected a number or null');
    // Field problems come first; references are checked only once every field is well-formed.
    expect((err as MessagingMetadataError).problems).to.have.length(1);
  });

  it('says when the file is not JSON, or missing', async () => {
    const notJson = await rejectionOf(loadMetadataFile(await write('text.json', 'exchanges: []')));
    expect(notJson.message).to.contain('text.json').and.to.contain('not valid JSON');
    const missing = await rejectionOf(loadMetadataFile(join(dir, 'absent.json')));
    expect(missing.message).to.contain('absent.json').and.to.contain('cannot read it');
  });
});

describe('staticMetadataProvider', () => {
  it('loads what it was given', async () => {
    const metadata = parseMessagingMetadata(file, 'm.json');
    expect(await staticMetadataProvider(metadata).load()).to.equal(metadata);
  });

  it('refuses dangling references at once, not at the first publish', () => {
    const metadata = parseMessagingMetadata(file, 'm.json');
    const broken: MessagingMetadata = { ...metadata, brokers: metadata.brokers.slice(0, 1) };
    expect(problemsOf(() => staticMetadataProvider(broken))).to.deep.equal([
      'brokers[0].failover_broker_id: no broker with id 2',
      'connections[1].messaging_broker_id: no broker with id 2',
      'restrictions[0].messaging_broker_id: no broker with id 2',
    ]);
  });
});

describe('singleBrokerMetadata', () => {
  const connection = (url: string) => singleBrokerMetadata({ amqpUrl: url, exchangeName: 'openaperture' }).connections[0];
  const cases: Array<[string, Record<string, unknown>]> = [
    ['amqp://oa:s3cret@rabbit:5673/%2F', { username: 'oa', password: 's3cret', host: 'rabbit', port: 5673, virtual_host: '/' }],
    ['amqp://rabbit', { username: 'guest', password: 'guest', host: 'rabbit', port: null, virtual_host: null }],
    ['amqp://rabbit/', { username: 'guest', password: 'guest', port: null, virtual_host: null }],
    [
      'amqp://us%40er:p%3Ass%2F@10.0.0.5:5672/team%2Fa',
      { username: 'us@er', password: 'p:ss/', host: '10.0.0.5', port: 5672, virtual_host: 'team/a' },
    ],
    ['amqp://oa@rabbit/oa', { username: 'oa', password: '', virtual_host: 'oa' }],
  ];
  for (const [url, expected] of cases) {
    it(url, () => expect(connection(url)).to.include({ id: 1, messaging_broker_id: 1, ...expected }));
  }

  it('is one root exchange, one broker and no restrictions, and passes its own checks', async () => {
    const metadata = singleBrokerMetadata({ amqpUrl: 'amqp://rabbit:5672', exchangeName: 'openaperture' });
    expect(metadata.exchanges).to.deep.equal([
      { id: 1, name: 'openaperture', parent_exchange_id: null, routing_key_fragment: '', failover_exchange_id: null },
    ]);
    expect(metadata.brokers).to.deep.equal([{ id: 1, name: 'rabbit:5672', failover_broker_id: null }]);
    expect(metadata.restrictions).to.deep.equal([]);
    expect(await staticMetadataProvider(metadata).load()).to.equal(metadata);
  });

  const invalid: Array<[string, string]> = [
    ['rabbit:5672', 'AMQP_URL: expected an amqp:// URL, got scheme "rabbit"'],
    ['not a url', 'AMQP_URL: expected a URL such as amqp://user:password@host:5672/vhost'],
    ['amqps://oa:s3cret@rabbit', 'AMQP_URL: expected an amqp:// URL, got scheme "amqps"'],
    ['http://oa:s3cret@rabbit', 'AMQP_URL: expected an amqp:// URL, got scheme "http"'],
    ['amqp://oa:s3cret@rabbit/%zz', 'AMQP_URL: the virtual host has a malformed %-escape'],
  ];
  for (const [url, problem] of invalid) {
    it(`refuses ${url}, naming the variable and not the password`, () => {
      const err = thrown(() => singleBrokerMetadata({ amqpUrl: url, exchangeName: 'openaperture' }));
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).problems).to.deep.equal([problem]);
      expect(err.message).not.to.contain('s3cret');
    });
  }
});

/** An inner provider whose loads the test settles by hand. */
function manualProvider() {
  const pending: Array<{ resolve: (m: MessagingMetadata) => void; reject: (e: Error) => void }> = [];
  const provider: MessagingMetadataProvider = {
    load: () => new Promise((resolve, reject) => pending.push({ resolve, reject })),
  };
  return { provider, pending };
}

describe('cachedMetadataProvider (reference §4.1: 5 min, flushed when stale)', () => {
  const v1 = singleBrokerMetadata({ amqpUrl: 'amqp://one', exchangeName: 'a' });
  const v2 = singleBrokerMetadata({ amqpUrl: 'amqp://two', exchangeName: 'b' });
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  it('serves the cache until the TTL has passed, then loads again', async () => {
    let loads = 0;
    const inner = { load: () => Promise.resolve(++loads === 1 ? v1 : v2) };
    const cached = cachedMetadataProvider(inner, { now });
    expect(await cached.load()).to.equal(v1);
    clock += 300_000;
    expect(await cached.load()).to.equal(v1);
    clock += 1;
    expect(await cached.load()).to.equal(v2);
    expect(loads).to.equal(2);
  });

  it('shares one inner load among concurrent callers', async () => {
    const { provider, pending } = manualProvider();
    const cached = cachedMetadataProvider(provider, { now, ttlMs: 10 });
    const loads = [cached.load(), cached.load(), cached.load()];
    expect(pending).to.have.length(1);
    pending[0]?.resolve(v1);
    expect(await Promise.all(loads)).to.deep.equal([v1, v1, v1]);
  });

  it('rejects a failed refresh rather than serve stale metadata, and tries again on the next load', async () => {
    const { provider, pending } = manualProvider();
    const cached = cachedMetadataProvider(provider, { now, ttlMs: 10 });
    const first = cached.load();
    pending[0]?.resolve(v1);
    await first;
    clock += 11;
    const [a, b] = [cached.load(), cached.load()];
    pending[1]?.reject(new Error('manager unreachable'));
    expect((await rejectionOf(a)).message).to.equal('manager unreachable');
    expect(await rejectionOf(b)).to.equal(await rejectionOf(a));
    const retry = cached.load();
    expect(pending).to.have.length(3);
    pending[2]?.resolve(v2);
    expect(await retry).to.equal(v2);
  });

  it('recovers from an inner load that throws before returning a promise', async () => {
    let calls = 0;
    const inner: MessagingMetadataProvider = {
      load: () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return Promise.resolve(v1);
      },
    };
    const cached = cachedMetadataProvider(inner, { now });
    expect((await rejectionOf(cached.load())).message).to.equal('boom');
    expect(await cached.load()).to.equal(v1);
  });

  it('refuses a negative TTL', () => {
    expect(() => cachedMetadataProvider(staticMetadataProvider(v1), { ttlMs: -1 })).to.throw(RangeError);
  });
});
