/**
 * RabbitMQ as the tests drive it from outside: vhosts of their own (queue names such as `builder` are global to a vhost,
 * and other suites consume them), a node's application stopped and started (a broker outage), and what a vhost's
 * queues hold, through `rabbitmqctl` (the management plugin is not necessarily enabled).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { services } from './services.js';

const run = promisify(execFile);

/** `rabbitmqctl [-n node] ...args`; its stdout. */
export async function rabbitmqctl(node: string | undefined, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('rabbitmqctl', [...(node === undefined ? [] : ['-n', node]), ...args], { timeout: timeoutMs, encoding: 'utf8' });
  return stdout;
}

export interface ScratchVhost {
  readonly name: string;
  /** The AMQP URL of the vhost on its node. */
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * A vhost made for a suite and deleted after it, on the node `amqpUrl` reaches (`node` names it to rabbitmqctl; the
 * default node when absent); `name` is taken as given, else made unique from `prefix`.
 */
export async function scratchVhost(opts: { amqpUrl?: string; node?: string | undefined; name?: string; prefix?: string } = {}): Promise<ScratchVhost> {
  const name = opts.name ?? `${opts.prefix ?? 'oa_overseer'}_${randomUUID().slice(0, 8)}`;
  const url = new URL(opts.amqpUrl ?? services().amqpUrl);
  await rabbitmqctl(opts.node, ['add_vhost', name]);
  await rabbitmqctl(opts.node, ['set_permissions', '-p', name, decodeURIComponent(url.username) || 'guest', '.*', '.*', '.*']);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), drop: async () => void (await rabbitmqctl(opts.node, ['delete_vhost', name])) };
}

/** Stops or starts the RabbitMQ application of a node (the node's Erlang VM stays up, so `start_app` brings it back). */
export async function rabbitApp(node: string, action: 'stop_app' | 'start_app'): Promise<void> {
  try {
    await rabbitmqctl(node, [action]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`rabbitmqctl -n ${node} ${action} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** What one queue holds: ready for a consumer, and delivered but not yet acknowledged. */
export interface QueueCounts {
  readonly name: string;
  readonly ready: number;
  readonly unacked: number;
  readonly consumers: number;
}

/** Every queue of a vhost with its counts (`rabbitmqctl list_queues`). */
export async function queueCounts(node: string | undefined, vhost: string): Promise<QueueCounts[]> {
  const out = await rabbitmqctl(node, ['list_queues', '-q', '--no-table-headers', '-p', vhost, 'name', 'messages_ready', 'messages_unacknowledged', 'consumers']);
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name = '', ready = '0', unacked = '0', consumers = '0'] = line.split('\t');
      return { name, ready: Number(ready), unacked: Number(unacked), consumers: Number(consumers) };
    });
}
