/**
 * When the platform rests after a trial: every assembly consuming again on the primary broker, and every queue but the
 * dead-letter ones empty (nothing ready, nothing delivered and unacknowledged). Cheap looks over AMQP (a passive
 * declare counts a queue's ready messages and consumers) until they see rest, then a look with rabbitmqctl, the only
 * one that sees unacknowledged messages; rest is when both agree, one after the other.
 */
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { sleep } from '../../runtime/core/promises.js';
import { queueCounts, type QueueCounts } from '../helpers/rabbit.js';
import { TAP_QUEUE, type RunVhost, type World } from './world.js';

export type VhostQueues = ReadonlyArray<{ readonly vhost: RunVhost; readonly counts: QueueCounts[] }>;

/** The queues a running platform consumes on its primary broker: each assembly's intake. */
const CONSUMED = [
  { vhost: 'management', queue: 'workflow_orchestration' },
  { vhost: 'zone', queue: 'builder' },
  { vhost: 'zone', queue: 'deployer' },
] as const;

/** Every vhost's queues now, from rabbitmqctl. */
export async function queuesNow(world: World): Promise<VhostQueues> {
  return Promise.all(world.vhosts.map(async (vhost) => ({ vhost, counts: await queueCounts(vhost.node, vhost.name) })));
}

/** A queue of the platform's whose messages should all have been consumed: not a dead-letter queue, not this test's tap. */
export const isPlatformQueue = (name: string): boolean => !name.endsWith('_error') && name !== TAP_QUEUE;

/** What keeps the platform from resting in `queues`: an intake without consumer, a queue not empty. */
function busyIn(queues: VhostQueues): string[] {
  const idle = CONSUMED.filter(
    ({ vhost, queue }) => !queues.some((v) => v.vhost.role === 'primary' && v.vhost.name.endsWith(`-${vhost}`) && v.counts.some((q) => q.name === queue && q.consumers > 0)),
  );
  return [
    ...idle.map(({ queue }) => `no consumer on ${queue}`),
    ...queues.flatMap(({ vhost, counts }) => counts.filter((q) => isPlatformQueue(q.name) && (q.ready > 0 || q.unacked > 0)).map((q) => `${q.name} (${vhost.label})`)),
  ];
}

/** Passive declares of the queues rabbitmqctl listed last (broadcast queues are another connection's, exclusive). */
class AmqpLooks {
  private readonly connections = new Map<string, { model: ChannelModel; channel: Channel }>();

  async look(known: VhostQueues): Promise<VhostQueues> {
    return Promise.all(
      known.map(async ({ vhost, counts }) => {
        const channel = await this.channelOf(vhost);
        const looked: QueueCounts[] = [];
        for (const q of counts.filter((c) => !c.name.includes('.broadcast.'))) {
          const ok = await channel.checkQueue(q.name);
          looked.push({ name: q.name, ready: ok.messageCount, unacked: 0, consumers: ok.consumerCount });
        }
        return { vhost, counts: looked };
      }),
    );
  }

  async close(): Promise<void> {
    for (const { model } of this.connections.values()) await model.close().catch(() => undefined);
    this.connections.clear();
  }

  private async channelOf(vhost: RunVhost): Promise<Channel> {
    const open = this.connections.get(vhost.url);
    if (open !== undefined) return open.channel;
    const model = await connect(vhost.url);
    const channel = await model.createChannel();
    const forget = () => this.connections.delete(vhost.url);
    model.on('error', forget).on('close', forget);
    channel.on('error', forget).on('close', forget);
    this.connections.set(vhost.url, { model, channel });
    return channel;
  }
}

export interface Rest {
  /** The last rabbitmqctl look: what the invariants read. */
  readonly queues: VhostQueues;
  readonly rested: boolean;
  /** What each look saw busy, for a report of where the time went. */
  readonly waitedFor: readonly string[];
}

/** `known`: the queues the last rest saw (the set hardly changes), so that the first look can be a cheap one. */
export async function atRest(world: World, timeoutMs: number, known: VhostQueues = []): Promise<Rest> {
  const deadline = Date.now() + timeoutMs;
  const waitedFor: string[] = [];
  const looks = new AmqpLooks();
  let full: VhostQueues = known;
  try {
    for (;;) {
      let busy: string[];
      try {
        if (full.length === 0) full = await queuesNow(world);
        busy = busyIn(await looks.look(full));
        if (busy.length === 0) {
          full = await queuesNow(world);
          busy = busyIn(full);
        }
      } catch (err) {
        // A node starting again refuses connections, and answers rabbitmqctl with an error, for a moment.
        busy = [`no look: ${(err as Error).message.split('\n')[0] ?? ''}`];
        full = [];
        await looks.close();
      }
      if (waitedFor[waitedFor.length - 1] !== busy.join(', ')) waitedFor.push(busy.join(', '));
      if (busy.length === 0) return { queues: full, rested: true, waitedFor };
      if (Date.now() > deadline) return { queues: full.length > 0 ? full : await queuesNow(world).catch(() => []), rested: false, waitedFor };
      await sleep(200);
    }
  } finally {
    await looks.close();
  }
}
