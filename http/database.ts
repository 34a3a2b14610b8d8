import { MikroORM, type EntityManager, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver, type AbstractSqlConnection } from '@mikro-orm/postgresql';
import { PGliteDriver } from 'mikro-orm-pglite';
import { PGlite } from '@electric-sql/pglite';
import { ENTITIES } from '../entities/index.js';
import { migrationsList } from '../migrations/index.js';
import type { Logger } from '../runtime/logger.js';

/** PostgreSQL for deployments; PGlite (embedded, a directory or memory) for the all-in-one default (design §6). */
export type DatabaseConfig = { readonly kind: 'postgresql'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir?: string };

export interface Database {
  readonly orm: MikroORM;
  /** A fresh unit of work: one per request. */
  fork(): EntityManager;
  /**
   * The rows of one read-only statement (`$1` parameters) on a pooled connection, outside any unit of work or
   * transaction: for the hottest reads, where the ORM's query building and hydration cost more than the query.
   * Columns come back as the driver returns them (`readOr404` converts them as the ORM does).
   */
  read(sql: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** What knex's client offers for its pool (public on knex's Client, absent from its typings). */
interface PooledClient {
  acquireConnection(): Promise<{ query(sql: string, params: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> }>;
  releaseConnection(connection: unknown): void;
}

/** Opens the database and applies every pending migration (the same files on both engines). */
export async function openDatabase(config: DatabaseConfig, log: Logger): Promise<Database> {
  const migrations = { migrationsList: await migrationsList(), transactional: true, allOrNothing: true, silent: true, snapshot: false };
  const common = { entities: ENTITIES, extensions: [Migrator], migrations, debug: false, discovery: { warnWhenNoEntities: false } };
  let pglite: PGlite | undefined;
  let options: Options;
  if (config.kind === 'postgresql') {
    options = { ...common, driver: PostgreSqlDriver, clientUrl: config.url };
  } else {
    const instance = config.dataDir === undefined ? new PGlite() : new PGlite(config.dataDir);
    pglite = instance;
    options = { ...common, driver: PGliteDriver, dbName: 'postgres', driverOptions: { connection: { pglite: () => instance } } } as Options;
  }
  const orm = await MikroORM.init(options);
  try {
    const applied = await orm.getMigrator().up();
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
  } catch (err) {
    await orm.close();
    await pglite?.close();
    throw new Error(`database migration failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // The ORM's own pool (knex): on PostgreSQL a pg client, on PGlite the one session, which waits for any transaction
  // in progress. Both answer `query(sql, params)` with `{ rows }`.
  const pool = (orm.em.getConnection() as AbstractSqlConnection).getKnex().client as unknown as PooledClient;
  return {
    orm,
    fork: () => orm.em.fork(),
    async read(sql, params) {
      const connection = await pool.acquireConnection();
      try {
        return (await connection.query(sql, params)).rows;
      } finally {
        pool.releaseConnection(connection);
      }
    },
    async close() {
      await orm.close();
      await pglite?.close();
    },
  };
}
