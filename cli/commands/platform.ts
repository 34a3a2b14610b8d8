import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../core/errors.js';
import { bootstrapOptions, databaseChoice, describeDatabase, embeddedSecrets } from '../core/platform.js';
import { formatTable } from '../core/table.js';
import type { Context } from '../output.js';

/**
 * Commands that run the platform's own code in this process: `start` (a topology), `migrate` and `bootstrap` (the
 * Manager's database). Their modules load on use, so the API commands start without MikroORM or the actor runtime.
 */

async function start(topology: string): Promise<void> {
  const { startTopology } = await import('../../actors/main.js');
  await startTopology(topology);
}

async function migrate(ctx: Context): Promise<void> {
  const choice = databaseChoice(ctx.env);
  if ('problem' in choice) throw new CliError(choice.problem);
  // PGlite makes its own directory but not its parents; the all-in-one's first start makes them the same way.
  if (choice.kind === 'pglite') await mkdir(dirname(choice.dataDir), { recursive: true, mode: 0o700 });
  const { openDatabase } = await import('../../http/database.js');
  const db = await openDatabase(choice, ctx.log);
  try {
    const executed = await db.orm.getMigrator().getExecutedMigrations();
    const latest = executed.at(-1)?.name ?? 'none';
    ctx.out.result({ database: describeDatabase(choice), migrations: executed.length, latest }, () => `${describeDatabase(choice)}: up to date, ${executed.length} migrations (latest ${latest})`);
  } finally {
    await db.close();
  }
}

interface BootstrapCliOptions {
  readonly amqpUrl?: string;
  readonly dockerUrl?: string;
  readonly exchange?: string;
  readonly cluster?: string;
  readonly host?: string;
}

async function bootstrap(ctx: Context, flags: BootstrapCliOptions): Promise<void> {
  const [{ managerArgsFromEnv }, { openDatabase }, { bootstrapPlatform }, { loadKeyPair }] = await Promise.all([
    import('../../actors/manager/setup.js'),
    import('../../http/database.js'),
    import('../../http/bootstrap.js'),
    import('../../http/secrets.js'),
  ]);
  // The Manager's own configuration, so the broker password is sealed with the key pair the Manager will open it with.
  const args = await managerArgsFromEnv(ctx.env, { embedded: embeddedSecrets(ctx.env), exchangeId: 1, brokerId: 1 });
  const options = bootstrapOptions(ctx.env, { amqpUrl: flags.amqpUrl, dockerUrl: flags.dockerUrl, exchangeName: flags.exchange, etcdToken: flags.cluster, hostName: flags.host });
  const db = await openDatabase(args.config.database, ctx.log);
  try {
    const report = await bootstrapPlatform(db.fork(), loadKeyPair(args.keys), options);
    ctx.out.result(report, () => {
      const rows = [...report.created.map((i) => ({ ...i, state: 'created' })), ...report.present.map((i) => ({ ...i, state: 'present' }))];
      const table = formatTable([{ header: 'STATE', value: (r) => r.state }, { header: 'KIND', value: (r) => r.kind }, { header: 'KEY', value: (r) => r.key }], rows, '');
      const ids = `EXCHANGE_ID=${report.exchangeId} BROKER_ID=${report.brokerId} (cluster id ${report.clusterId})`;
      const admin = report.adminClient
        ? `\nAdmin API client created; its secret is shown only now:\n  client_id:     ${report.adminClient.client_id}\n  client_secret: ${report.adminClient.client_secret}`
        : '';
      return `${table}\n${ids}${admin}`;
    });
  } finally {
    await db.close();
  }
}

export function registerPlatform(program: Command, ctx: () => Context): void {
  program
    .command('start')
    .description('start a topology of the platform in this process (Ctrl-C stops it)')
    .option('--topology <name>', 'a topology of deploy/topologies/ or a JSON file', 'all-in-one')
    .action((o: { topology: string }) => start(o.topology));
  program
    .command('migrate')
    .description("apply the Manager's pending database migrations (MANAGER_DATABASE_URL, MANAGER_DATA_DIR, or the all-in-one's database)")
    .action(() => migrate(ctx()));
  program
    .command('bootstrap')
    .description('create what a fresh platform needs (exchange, broker, cluster with the local Docker host, admin client); idempotent')
    .option('--amqp-url <url>', "the first broker's connection (default: AMQP_URL, else amqp://localhost:5672)")
    .option('--docker-url <url>', "the local Docker host (default: DOCKER_HOST, else unix:///var/run/docker.sock)")
    .option('--exchange <name>', 'the first exchange (default: openaperture)')
    .option('--cluster <token>', "the first cluster's etcd token (default: local)")
    .option('--host <name>', "the local Docker host's name (default: local)")
    .action((o: BootstrapCliOptions) => bootstrap(ctx(), o));
}
