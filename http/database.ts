import { MikroORM, type EntityManager, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
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
  close(): Promise<void>;
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
  return {
    orm,
    fork: () => orm.em.fork(),
    async close() {
      await orm.close();
      await pglite?.close();
    },
  };
}
