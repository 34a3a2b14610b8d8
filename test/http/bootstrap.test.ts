import { expect } from 'chai';
import { verifySecret } from '../../http/auth.js';
import { bootstrapPlatform, ensureAdminClient, isBootstrapOptionsInvalid, type BootstrapReport } from '../../http/bootstrap.js';
import { PLATFORM_COMPONENT_TYPES } from '../../http/core/bootstrap-plan.js';
import { openDatabase, type Database } from '../../http/database.js';
import { generateKeyPair, loadKeyPair, type SecretBox } from '../../http/secrets.js';
import { captureLogs } from '../helpers/log-capture.js';
import { needs } from '../helpers/services.js';
import { scratchPostgres } from './harness.js';

type Row = Record<string, unknown>;
const MIGRATIONS_TABLE = 'mikro_orm_migrations';
const AMQP_URL = 'amqp://oa:s3cret%2Fpw@rabbit.example:5673/oa%2Fprod';
const OPTIONS = { amqpUrl: AMQP_URL, componentSourceRepo: 'https://git.example/oa.git', componentSourceRepoGitRef: 'v1.0.0' };
const EVERYTHING = 5 + PLATFORM_COMPONENT_TYPES.length + 1;

async function query(db: Database, sql: string): Promise<Row[]> {
  return db.orm.em.getConnection().execute<Row[]>(sql);
}

async function tableNames(db: Database): Promise<string[]> {
  const rows = await query(db, `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`);
  return rows.map((r) => String(r.table_name)).filter((t) => t !== MIGRATIONS_TABLE);
}

/** Every row of every table, as JSON text: equal snapshots mean no row was added, removed or changed. */
async function snapshot(db: Database): Promise<Record<string, string>> {
  const tables = await tableNames(db);
  return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, JSON.stringify(await query(db, `select * from "${t}" order by 1`))] as const)));
}

const rowsOf = (db: Database, table: string): Promise<Row[]> => query(db, `select * from "${table}" order by id`);
const itemKeys = (items: BootstrapReport['created']) => items.map((i) => `${i.kind}:${i.key}`);

/** A box that cannot seal: the connection fails after the exchange and broker rows are flushed. */
const brokenSeal = (box: SecretBox): SecretBox => ({
  keyName: box.keyName,
  keyNames: box.keyNames,
  seal: () => {
    throw new Error('sealing failed');
  },
  open: (v) => box.open(v),
  isSealed: (v): v is string => box.isSealed(v),
  needsResealing: (v) => box.needsResealing(v),
});

for (const kind of ['postgresql', 'pglite'] as const) {
  describe(`bootstrapPlatform (${kind})`, function () {
    this.timeout(60_000);
    if (kind === 'postgresql') needs('postgres');
    let db: Database;
    let secrets: SecretBox;
    let drop: (() => Promise<void>) | undefined;

    before(async () => {
      const { log } = captureLogs();
      secrets = loadKeyPair({ ...(await generateKeyPair({ modulusBits: 2048 })), keyName: 'test' });
      if (kind === 'postgresql') {
        const scratch = await scratchPostgres();
        drop = scratch.drop;
        db = await openDatabase({ kind, url: scratch.url }, log);
      } else {
        db = await openDatabase({ kind }, log);
      }
    });
    after(async () => {
      await db?.close();
      await drop?.();
    });
    beforeEach(async () => {
      await query(db, `truncate table ${(await tableNames(db)).map((t) => `"${t}"`).join(', ')} restart identity cascade`);
    });

    it('creates everything a fresh platform needs', async () => {
      const report = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      expect(report.created).to.have.length(EVERYTHING);
      expect(report.present).to.deep.equal([]);
      const [exchange] = await rowsOf(db, 'messaging_exchanges');
      expect(exchange).to.include({ name: 'openaperture', parent_exchange_id: null, failover_exchange_id: null, routing_key_fragment: '' });
      const [broker] = await rowsOf(db, 'messaging_brokers');
      expect(broker).to.include({ name: 'rabbit.example:5673', failover_broker_id: null });
      const connections = await rowsOf(db, 'messaging_broker_connections');
      expect(connections).to.have.length(1);
      expect(connections[0]).to.include({ messaging_broker_id: broker?.id, username: 'oa', host: 'rabbit.example', port: 5673, virtual_host: 'oa/prod', password_keyname: 'test' });
      const sealed = String(connections[0]?.password);
      expect(sealed).not.to.contain('s3cret');
      expect(secrets.open(sealed)).to.equal('s3cret/pw');
      const [cluster] = await rowsOf(db, 'etcd_clusters');
      expect(cluster).to.include({ etcd_token: 'local', allow_docker_builds: true, messaging_exchange_id: exchange?.id, hosting_provider_id: null });
      const hosts = await rowsOf(db, 'cluster_hosts');
      expect(hosts).to.have.length(1);
      expect(hosts[0]).to.include({ etcd_cluster_id: cluster?.id, name: 'local', docker_url: 'unix:///var/run/docker.sock', status: 'active', labels: '{}', ssh_private_key: null });
      const refs = await rowsOf(db, 'system_component_refs');
      expect(refs.map((r) => r.type)).to.have.members([...PLATFORM_COMPONENT_TYPES]);
      for (const ref of refs) expect(ref).to.include({ source_repo: OPTIONS.componentSourceRepo, source_repo_git_ref: 'v1.0.0', auto_upgrade_enabled: false });
      expect(report).to.include({ exchangeId: exchange?.id, brokerId: broker?.id, clusterId: cluster?.id });
    });

    it('returns the admin secret once, stored only as a hash, and audits each row without secrets', async () => {
      const report = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      expect(report.adminClient?.client_id).to.equal('admin');
      const clients = await rowsOf(db, 'api_clients');
      expect(clients).to.have.length(1);
      expect(clients[0]).to.include({ client_id: 'admin', role: 'admin', disabled_at: null });
      expect(await verifySecret(report.adminClient?.client_secret ?? '', String(clients[0]?.secret_hash))).to.equal(true);
      const audit = await rowsOf(db, 'audit_events');
      expect(audit).to.have.length(EVERYTHING);
      expect(audit.map((a) => a.target_type)).to.include.members(['Exchange', 'Broker', 'BrokerConnection', 'EtcdCluster', 'ClusterHost', 'SystemComponentRef', 'ApiClient']);
      const text = JSON.stringify(audit);
      for (const secret of ['s3cret', report.adminClient?.client_secret ?? '?', String(clients[0]?.secret_hash)]) expect(text).not.to.contain(secret);
    });

    it('changes nothing when run again', async () => {
      const first = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      const before = await snapshot(db);
      const second = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      expect(second.created).to.deep.equal([]);
      expect(itemKeys(second.present)).to.deep.equal(itemKeys(first.created));
      expect(second.adminClient).to.equal(undefined);
      expect(second).to.include({ exchangeId: first.exchangeId, brokerId: first.brokerId, clusterId: first.clusterId });
      expect(await snapshot(db)).to.deep.equal(before);
      expect(await ensureAdminClient(db.fork())).to.equal(undefined);
    });

    it('with no options: RabbitMQ on localhost as guest', async () => {
      await bootstrapPlatform(db.fork(), secrets);
      const [broker] = await rowsOf(db, 'messaging_brokers');
      const [connection] = await rowsOf(db, 'messaging_broker_connections');
      expect(broker).to.include({ name: 'localhost:5672' });
      expect(connection).to.include({ username: 'guest', host: 'localhost', port: 5672, virtual_host: '/' });
      expect(secrets.open(String(connection?.password))).to.equal('guest');
    });

    it('creates only what is missing, and leaves what exists as it was', async () => {
      const conn = db.orm.em.getConnection();
      await conn.execute(`insert into messaging_exchanges (name, routing_key_fragment, inserted_at, updated_at) values ('openaperture', 'eu', now(), now())`);
      await conn.execute(`insert into etcd_clusters (etcd_token, name, allow_docker_builds, inserted_at, updated_at) values ('LOCAL', 'mine', false, now(), now())`);
      await conn.execute(`insert into system_component_refs (type, source_repo, source_repo_git_ref, auto_upgrade_enabled, inserted_at, updated_at) values ('builder', 'org/builder', 'v9', true, now(), now())`);
      await conn.execute(`insert into api_clients (client_id, name, secret_hash, role, inserted_at, updated_at) values ('admin', 'kept', 'scrypt$x$y', 'admin', now(), now())`);
      const before = await snapshot(db);
      const report = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      expect(itemKeys(report.present)).to.deep.equal(['exchange:openaperture', 'cluster:LOCAL', 'system_component_ref:builder', 'api_client:admin']);
      expect(itemKeys(report.created)).to.deep.equal([
        'broker:rabbit.example:5673',
        'broker_connection:rabbit.example:5673',
        'cluster_host:LOCAL/local',
        ...PLATFORM_COMPONENT_TYPES.filter((t) => t !== 'builder').map((t) => `system_component_ref:${t}`),
      ]);
      expect(report.adminClient).to.equal(undefined);
      const after = await snapshot(db);
      for (const table of ['messaging_exchanges', 'etcd_clusters', 'api_clients']) expect(after[table], table).to.equal(before[table]);
      const [builder] = (await rowsOf(db, 'system_component_refs')).filter((r) => r.type === 'builder');
      expect(builder).to.include({ source_repo: 'org/builder', source_repo_git_ref: 'v9', auto_upgrade_enabled: true });
      const [host] = await rowsOf(db, 'cluster_hosts');
      expect(host?.etcd_cluster_id).to.equal(report.clusterId);
    });

    it('adds a connection to a broker that has none, and none to one that has', async () => {
      const conn = db.orm.em.getConnection();
      await conn.execute(`insert into messaging_brokers (name, inserted_at, updated_at) values ('rabbit.example:5673', now(), now())`);
      const first = await bootstrapPlatform(db.fork(), secrets, { ...OPTIONS, brokerName: 'rabbit.example:5673' });
      expect(itemKeys(first.present)).to.deep.equal(['broker:rabbit.example:5673']);
      expect(itemKeys(first.created)).to.include('broker_connection:rabbit.example:5673');
      const other = await bootstrapPlatform(db.fork(), secrets, { ...OPTIONS, amqpUrl: 'amqp://x:y@elsewhere:5673', brokerName: 'rabbit.example:5673' });
      expect(other.created).to.deep.equal([]);
      expect(await rowsOf(db, 'messaging_broker_connections')).to.have.length(1);
    });

    it('refuses a bad AMQP URL naming the option, and writes nothing', async () => {
      const error = await bootstrapPlatform(db.fork(), secrets, { amqpUrl: 'amqps://oa:hunter2@rabbit' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isBootstrapOptionsInvalid(error)).to.equal(true);
      expect(String(error)).to.contain('amqpUrl').and.to.contain('amqps').and.not.to.contain('hunter2');
      for (const [table, rows] of Object.entries(await snapshot(db))) expect(rows, table).to.equal('[]');
    });

    it('rolls everything back when a step fails part-way', async () => {
      const error = await bootstrapPlatform(db.fork(), brokenSeal(secrets), OPTIONS).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(String(error)).to.contain('sealing failed');
      for (const [table, rows] of Object.entries(await snapshot(db))) expect(rows, table).to.equal('[]');
      const report = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      expect(report.created).to.have.length(EVERYTHING);
    });

    if (kind === 'postgresql') {
      it('two runs at once create one platform', async () => {
        const reports = await Promise.all([1, 2, 3].map(() => bootstrapPlatform(db.fork(), secrets, OPTIONS)));
        expect(reports.map((r) => r.created.length).sort()).to.deep.equal([0, 0, EVERYTHING]);
        expect(reports.filter((r) => r.adminClient !== undefined)).to.have.length(1);
        expect(await rowsOf(db, 'messaging_exchanges')).to.have.length(1);
      });
    }

    it('keeps ensureAdminClient as the Manager uses it: only when no client exists', async () => {
      const created = await ensureAdminClient(db.fork());
      expect(created?.client_id).to.equal('admin');
      expect(await ensureAdminClient(db.fork())).to.equal(undefined);
      const report = await bootstrapPlatform(db.fork(), secrets, OPTIONS);
      expect(itemKeys(report.present)).to.deep.equal(['api_client:admin']);
      expect(report.adminClient).to.equal(undefined);
    });
  });
}
