import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import type { MessagingMetadata } from '../../../runtime/messaging/core/routing.js';
import { loadMetadataFile } from '../../../runtime/messaging/metadata.js';
import { writeMetadataFile } from '../../../runtime/messaging/metadata-source.js';
import { metadataCacheFile, openMessaging, type MetadataOrigin } from '../../../runtime/messaging/open.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { rejectionOf } from '../../helpers/wait.js';

/** Nothing listens on port 1: the transports here never connect, which is not what these tests look at. */
const tables: MessagingMetadata = {
  exchanges: [{ id: 1, name: 'root', parent_exchange_id: null, routing_key_fragment: null, failover_exchange_id: null }],
  brokers: [{ id: 1, name: 'b', failover_broker_id: null }],
  connections: [{ id: 1, messaging_broker_id: 1, username: 'u', password: 'p', host: '127.0.0.1', port: 1, virtual_host: null }],
  restrictions: [],
};

/** Issue 19 item 1: which metadata an AMQP process runs on (README "Messaging"). */
describe('openMessaging: where the messaging metadata comes from', () => {
  let dir: string;
  const opened: Transport[] = [];
  let asked = 0;
  const origin = (): MetadataOrigin => {
    asked += 1;
    return { provider: { load: () => Promise.resolve(tables) }, describe: 'the Manager at http://m', variable: 'MANAGER_URL' };
  };
  const open = async (vars: Record<string, string>, withOrigin = true) => {
    const env = parseEnv(MessagingEnv, { OA_MESSAGING_CACHE_DIR: join(dir, 'cache'), ...vars });
    const result = await openMessaging('amqp', env, captureLogs().log, withOrigin ? origin : undefined);
    opened.push(result.transport);
    return { ...result, env };
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-open-'));
    asked = 0;
  });
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('from the Manager by default: cached on disk, and forked children told to follow the cache', async () => {
    const { childEnv, env } = await open({});
    expect(asked).to.equal(1);
    expect(childEnv.OA_MESSAGING_METADATA).to.equal(metadataCacheFile(env));
    expect(await loadMetadataFile(metadataCacheFile(env))).to.deep.equal(tables);
  });

  it('OA_MESSAGING_METADATA wins, and the Manager is not asked', async () => {
    const file = join(dir, 'operator.json');
    await writeMetadataFile(file, tables);
    const { childEnv } = await open({ OA_MESSAGING_METADATA: file, AMQP_URL: 'amqp://127.0.0.1:1' });
    expect(asked).to.equal(0);
    expect(childEnv.OA_MESSAGING_METADATA).to.equal(file);
  });

  it('AMQP_URL comes next, and the Manager is not asked', async () => {
    const { childEnv } = await open({ AMQP_URL: 'amqp://127.0.0.1:1' });
    expect(asked).to.equal(0);
    expect(childEnv.OA_MESSAGING_METADATA).to.equal(undefined);
  });

  it('a process that cannot read the Manager (a forked child given nothing) names what to set', async () => {
    const err = await rejectionOf(open({}, false));
    expect(err.message).to.match(/AMQP_URL or OA_MESSAGING_METADATA: the amqp transport needs one of them/);
  });

  it('the cache directory defaults under OA_DATA_DIR', () => {
    expect(metadataCacheFile(parseEnv(MessagingEnv, { OA_DATA_DIR: '/srv/oa' }))).to.equal('/srv/oa/messaging/messaging-metadata.json');
    expect(metadataCacheFile(parseEnv(MessagingEnv, {}))).to.equal(join(process.cwd(), '.data', 'messaging', 'messaging-metadata.json'));
  });

  it('OA_MESSAGING_REFRESH_S is checked like every variable', () => {
    expect(() => parseEnv(MessagingEnv, { OA_MESSAGING_REFRESH_S: 'soon' })).to.throw(/OA_MESSAGING_REFRESH_S: expected a number \(got "soon"\)/);
  });
});
