import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../runtime/config.js';
import type { MessagingMetadata } from '../../../runtime/messaging/core/routing.js';
import { loadMetadataFile, type MessagingMetadataProvider } from '../../../runtime/messaging/metadata.js';
import { MetadataSource, writeMetadataFile, type MetadataSourceOptions } from '../../../runtime/messaging/metadata-source.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';

const metadata = (host: string): MessagingMetadata => ({
  exchanges: [{ id: 1, name: 'root', parent_exchange_id: null, routing_key_fragment: null, failover_exchange_id: null }],
  brokers: [{ id: 1, name: 'b', failover_broker_id: null }],
  connections: [{ id: 1, messaging_broker_id: 1, username: 'u', password: 'p', host, port: null, virtual_host: null }],
  restrictions: [],
});

/** A provider the test steers: each load answers what `next` says at the time, and is counted. */
function steered(first: MessagingMetadata | Error) {
  const state = { next: first as MessagingMetadata | Error, loads: 0, gate: undefined as Promise<void> | undefined };
  const provider: MessagingMetadataProvider = {
    async load() {
      state.loads += 1;
      await state.gate;
      if (state.next instanceof Error) throw state.next;
      return state.next;
    },
  };
  return { state, provider };
}

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { retryable: true });

describe('MetadataSource (issue 19: metadata from the Manager, cached on disk, refreshed)', () => {
  let dir: string;
  const opened: MetadataSource[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-metadata-source-'));
  });
  afterEach(async () => {
    for (const source of opened.splice(0)) await source.close();
    await rm(dir, { recursive: true, force: true });
  });
  const open = async (opts: Partial<MetadataSourceOptions> & Pick<MetadataSourceOptions, 'provider'>) => {
    const source = await MetadataSource.open({
      describe: 'the Manager at http://m',
      variable: 'MANAGER_URL',
      own: { brokerId: 1, exchangeId: 1 },
      log: captureLogs().log,
      cache: { file: join(dir, 'cache', 'messaging-metadata.json'), variable: 'OA_MESSAGING_CACHE_DIR' },
      ...opts,
    });
    opened.push(source);
    return source;
  };

  it('starts on what the provider gives and keeps a copy on disk, readable by its owner only', async () => {
    const { provider } = steered(metadata('h1'));
    const source = await open({ provider });
    expect(source.current()).to.deep.equal(metadata('h1'));
    const file = join(dir, 'cache', 'messaging-metadata.json');
    expect(await loadMetadataFile(file)).to.deep.equal(metadata('h1'));
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
  });

  it('starts on the cached copy when the Manager cannot be reached, saying so', async () => {
    await writeMetadataFile(join(dir, 'cache', 'messaging-metadata.json'), metadata('cached'));
    const { log, lines } = captureLogs();
    const source = await open({ provider: steered(unreachable()).provider, log });
    expect(source.current()).to.deep.equal(metadata('cached'));
    expect(lines.some((l) => /cannot be reached: starting on the cached messaging metadata/.test(l.msg))).to.equal(true);
  });

  it('without a cached copy, refuses to start naming the variable and the cache', async () => {
    const err = await rejectionOf(open({ provider: steered(unreachable()).provider }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.match(/MANAGER_URL: cannot read the messaging metadata from the Manager at http:\/\/m: connect ECONNREFUSED, and OA_MESSAGING_CACHE_DIR holds no cached copy/);
  });

  it('does not hide a refusal behind the cache (a wrong secret, a non-admin client)', async () => {
    await writeMetadataFile(join(dir, 'cache', 'messaging-metadata.json'), metadata('cached'));
    const err = await rejectionOf(open({ provider: steered(new Error('POST /oauth/token answered 401')).provider }));
    expect(err.message).to.match(/MANAGER_URL: cannot read .*401/);
  });

  it('a cache it cannot write stops the start, naming OA_MESSAGING_CACHE_DIR', async () => {
    await writeFile(join(dir, 'a-file'), '');
    const cache = { file: join(dir, 'a-file', 'messaging-metadata.json'), variable: 'OA_MESSAGING_CACHE_DIR' };
    const err = await rejectionOf(open({ provider: steered(metadata('h1')).provider, cache }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.match(/OA_MESSAGING_CACHE_DIR: cannot write the messaging metadata cache .*a-file\/messaging-metadata.json: EEXIST/);
  });

  it('refuses metadata this process cannot run on, naming BROKER_ID or EXCHANGE_ID', async () => {
    const err = await rejectionOf(open({ provider: steered(metadata('h1')).provider, own: { brokerId: 4, exchangeId: 1 } }));
    expect(err.message).to.match(/BROKER_ID: broker 4 is not in the messaging metadata of the Manager at http:\/\/m/);
  });

  it('refreshes: a change reaches the listeners and the disk; no change, a failure or unusable metadata reach neither', async () => {
    const { state, provider } = steered(metadata('h1'));
    const source = await open({ provider });
    const seen: string[] = [];
    source.onChange((m) => seen.push(m.connections[0]!.host));
    await source.refresh('test');
    state.next = metadata('h2');
    await source.refresh('test');
    state.next = unreachable();
    await source.refresh('test');
    state.next = { ...metadata('h3'), brokers: [], connections: [] };
    await source.refresh('test');
    expect(seen).to.deep.equal(['h2']);
    expect(source.current().connections[0]!.host).to.equal('h2');
    expect((await loadMetadataFile(join(dir, 'cache', 'messaging-metadata.json'))).connections[0]!.host).to.equal('h2');
  });

  it('shares a load in progress, and loads once more for what was asked meanwhile', async () => {
    const { state, provider } = steered(metadata('h1'));
    const source = await open({ provider });
    let release!: () => void;
    state.gate = new Promise<void>((resolve) => (release = resolve));
    const loadsBefore = state.loads;
    const asked = [source.refresh('a'), source.refresh('b'), source.refresh('c')];
    release();
    state.gate = undefined;
    await Promise.all(asked);
    expect(state.loads - loadsBefore).to.equal(2);
  });

  it('refreshes on its period', async () => {
    const { state, provider } = steered(metadata('h1'));
    const source = await open({ provider, refreshMs: 20 });
    state.next = metadata('h2');
    await waitFor('the periodic refresh', () => source.current().connections[0]!.host === 'h2', 2_000);
  });

  it('follows a file: an edit is picked up, a broken edit is logged and the last good metadata kept', async () => {
    const file = join(dir, 'operator.json');
    await writeMetadataFile(file, metadata('h1'));
    const { log, lines } = captureLogs();
    const source = await open({ provider: { load: () => loadMetadataFile(file) }, watch: { file, intervalMs: 20 }, log });
    const seen: string[] = [];
    source.onChange((m) => seen.push(m.connections[0]!.host));
    await writeMetadataFile(file, metadata('h2'));
    await waitFor('the edit', () => seen.includes('h2'), 3_000);
    await writeFile(file, '{ "exchanges": ');
    await waitFor('the broken edit logged', () => lines.some((l) => /cannot read the messaging metadata/.test(l.msg)), 3_000);
    expect(source.current().connections[0]!.host).to.equal('h2');
    expect(await readFile(file, 'utf8')).to.equal('{ "exchanges": ');
  });
});
