import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError } from '../core/errors.js';
import { labels, unitOptionValues, unitsNamed, wholeNumber } from '../core/inputs.js';
import { formatTable } from '../core/table.js';
import { inCluster, managerCalls, type HostInput } from '../manager-calls.js';
import type { Context } from '../output.js';
import { clustersApi } from '../../http/client/clusters-api.js';
import type { Cluster, ClusterHost } from '../../http/client/schemas.js';

/** Clusters and their Docker hosts (reference §3.2, design §2), and the units the FleetManager sees on them. */

const all = { limit: 1_000 };

async function listClusters(ctx: Context): Promise<void> {
  const { items } = await clustersApi((await ctx.session()).http).list(all);
  ctx.out.result(items, () =>
    formatTable<Cluster>(
      [
        { header: 'TOKEN', value: (c) => c.etcd_token },
        { header: 'NAME', value: (c) => c.name },
        { header: 'EXCHANGE', value: (c) => c.messaging_exchange_id },
        { header: 'BUILDS', value: (c) => (c.allow_docker_builds === true ? 'yes' : 'no') },
      ],
      items,
      'no clusters',
    ),
  );
}

interface AddClusterOptions {
  readonly name?: string;
  readonly exchange?: string;
  readonly allowBuilds?: boolean;
}

async function addCluster(ctx: Context, token: string, o: AddClusterOptions): Promise<void> {
  const body = {
    etcd_token: token,
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.exchange === undefined ? {} : { messaging_exchange_id: wholeNumber(o.exchange, '--exchange', 1) }),
    ...(o.allowBuilds === true ? { allow_docker_builds: true } : {}),
  };
  await managerCalls((await ctx.session()).http).addCluster(body);
  ctx.out.result(body, () => `cluster ${token} added`);
}

async function removeCluster(ctx: Context, token: string): Promise<void> {
  await managerCalls((await ctx.session()).http).removeCluster(token);
  ctx.out.result({ removed: token }, () => `cluster ${token} removed`);
}

async function listHosts(ctx: Context, token: string): Promise<void> {
  const { items } = await inCluster(token, clustersApi((await ctx.session()).http).hosts(token, all));
  ctx.out.result(items, () =>
    formatTable<ClusterHost>(
      [
        { header: 'NAME', value: (h) => h.name },
        { header: 'DOCKER URL', value: (h) => h.docker_url },
        { header: 'STATUS', value: (h) => h.status },
        { header: 'LABELS', value: (h) => Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(',') },
      ],
      items,
      `no hosts in cluster ${token}`,
    ),
  );
}

interface AddHostOptions {
  readonly sshUser?: string;
  readonly sshKey?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly label: string[];
}

/** The text of the file an option names; one that cannot be read is a CliError naming the option. */
export async function fileText(path: string | undefined, option: string): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`${option}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function addHost(ctx: Context, token: string, name: string, dockerUrl: string, o: AddHostOptions): Promise<void> {
  const files = {
    ssh_private_key: await fileText(o.sshKey, '--ssh-key'),
    tls_ca: await fileText(o.tlsCa, '--tls-ca'),
    tls_cert: await fileText(o.tlsCert, '--tls-cert'),
    tls_private_key: await fileText(o.tlsKey, '--tls-key'),
  };
  const host: HostInput = {
    name,
    docker_url: dockerUrl,
    labels: labels(o.label),
    ...(o.sshUser === undefined ? {} : { ssh_user: o.sshUser }),
    ...Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)),
  };
  await managerCalls((await ctx.session()).http).addHost(token, host);
  ctx.out.result({ cluster: token, name, docker_url: dockerUrl }, () => `host ${name} (${dockerUrl}) added to cluster ${token}`);
}

async function removeHost(ctx: Context, token: string, name: string): Promise<void> {
  await managerCalls((await ctx.session()).http).removeHost(token, name);
  ctx.out.result({ cluster: token, removed: name }, () => `host ${name} removed from cluster ${token}`);
}

async function units(ctx: Context, token: string): Promise<void> {
  const list = await managerCalls((await ctx.session()).http).units(token);
  ctx.out.result(list, () =>
    formatTable(
      [
        { header: 'UNIT', value: (u: (typeof list)[number]) => u.name },
        { header: 'HOST', value: (u) => u.machineID },
        { header: 'DESIRED', value: (u) => u.desiredState },
        { header: 'CURRENT', value: (u) => u.currentState },
        // `host:container` ports, and Docker's health (`-` without a HEALTHCHECK in the image).
        { header: 'PORTS', value: (u) => unitOptionValues(u, 'Port').join(',') || null },
        { header: 'HEALTH', value: (u) => unitOptionValues(u, 'Health').find((h) => h !== 'none') ?? null },
      ],
      list,
      `no units in cluster ${token}`,
    ),
  );
}

async function logs(ctx: Context, token: string, unit: string): Promise<void> {
  const calls = managerCalls((await ctx.session()).http);
  const matching = unitsNamed(await calls.units(token), unit);
  if (matching.length === 0) throw new CliError(`no unit ${JSON.stringify(unit)} in cluster ${JSON.stringify(token)} (see: openaperture units ${token})`);
  const texts = await Promise.all(matching.map(async (u) => ({ unit: u.name, host: u.machineID, logs: await calls.unitLogs(token, u.machineID ?? '-', u.name) })));
  ctx.out.result(texts, () => texts.map((t) => (texts.length === 1 ? t.logs : `==> ${t.unit} on ${t.host ?? '?'} <==\n${t.logs}`)).join('\n'));
}

export function registerClusters(program: Command, ctx: () => Context): void {
  const clusters = program.command('clusters').description('clusters of Docker hosts');
  clusters.command('list').description('list clusters').action(() => listClusters(ctx()));
  clusters
    .command('add <token>')
    .description('register a cluster under its token (the token deployment repos name in cluster.json)')
    .option('--name <name>', 'a name for people')
    .option('--exchange <id>', 'the messaging exchange its components run in')
    .option('--allow-builds', 'let the Builder build images on it')
    .action((token: string, o: AddClusterOptions) => addCluster(ctx(), token, o));
  clusters.command('remove <token>').description('remove a cluster').action((token: string) => removeCluster(ctx(), token));

  const hosts = program.command('hosts').description('the Docker hosts of a cluster');
  hosts.command('list <cluster>').description("list a cluster's hosts").action((token: string) => listHosts(ctx(), token));
  hosts
    .command('add <cluster> <name> <docker-url>')
    .description('add a Docker host: unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host[:port]')
    .option('--ssh-user <user>', 'the ssh user, when the URL names none')
    .option('--ssh-key <file>', 'the ssh private key (PEM file)')
    .option('--tls-ca <file>', 'the CA certificate of a tcp:// host (PEM file)')
    .option('--tls-cert <file>', 'the client certificate (PEM file)')
    .option('--tls-key <file>', 'the client key (PEM file)')
    .option('--label <key=value>', 'a label, repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .action((token: string, name: string, url: string, o: AddHostOptions) => addHost(ctx(), token, name, url, o));
  hosts.command('remove <cluster> <name>').description('remove a host from a cluster').action((token: string, name: string) => removeHost(ctx(), token, name));

  program.command('units <cluster>').description('the units running on a cluster (asks its FleetManager)').action((token: string) => units(ctx(), token));
  program
    .command('logs <cluster> <unit>')
    .description("a unit's logs: the unit (hello@1.service) or all instances of it (hello)")
    .action((token: string, unit: string) => logs(ctx(), token, unit));
}
