import { expect } from 'chai';
import { connect } from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmqpTransport } from '../../../runtime/messaging/amqp-transport.js';
import { errorQueueOf } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';
import { twoExchangeMetadata } from './amqp-harness.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/owner-process.ts', import.meta.url));

describe('messaging across processes (RabbitMQ)', function () {
  this.timeout(60_000);
  needs('rabbitmq');
  const queue = `owner_${randomUUID().slice(0, 8)}`;
  const metadata = twoExchangeMetadata(process.env.AMQP_URL ?? 'amqp://unset');
  const lines: Array<Record<string, unknown>> = [];
  let dir: string;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let client: AmqpTransport;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oa-xproc-'));
    const file = join(dir, 'messaging.json');
    writeFileSync(file, JSON.stringify(metadata));
    child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, queue, 'forked'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, EXCHANGE_ID: '3', BROKER_ID: '1', OA_MESSAGING_METADATA: file, OA_LOG_LEVEL: 'warn' },
    });
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as Record<string, unknown>);
    });
    await waitFor('the owner process to start', () => lines.some((l) => l.ready === true), 30_000);
    client = new AmqpTransport({ metadata, exchangeId: 2, brokerId: 1, log: captureLogs().log });
  });

  after(async () => {
    await client?.close();
    if (child && child.exitCode === null) child.kill('SIGKILL');
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    for (const q of [queue, errorQueueOf(queue), `${queue}_fwd`, errorQueueOf(`${queue}_fwd`), 'system_modules', errorQueueOf('system_modules')]) await channel.deleteQueue(q);
    await channel.deleteExchange(metadata.exchanges[0]!.name);
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a message published into another exchange to the actor owning the queue, in another process', async () => {
    await client.publish({ exchangeId: 3, queue }, 'owner.noted', { n: 1 });
    const got = await waitFor('the owner to receive it', () => lines.find((l) => (l.received as { n?: number } | undefined)?.n === 1));
    const ownerPid = lines.find((l) => l.ready === true)?.pid;
    expect(got.type).to.equal('owner.noted');
    expect(got.actorPid).to.not.equal(process.pid);
    expect(got.actorPid, 'the actor is forked from the owner process').to.not.equal(ownerPid);
  });

  it('answers a request from another process with the actor reply', async () => {
    const reply = (await client.request({ exchangeId: 3, queue }, 'owner.asked', { n: 2 }, { timeoutMs: 10_000 })) as { echo: unknown; actorPid: number };
    expect(reply.echo).to.deep.equal({ n: 2 });
    expect(reply.actorPid).to.be.a('number').and.not.equal(process.pid);
  });

  it('lets the forked actor publish through its own process connection', async () => {
    const forwarded: Array<{ n: number; actorPid: number }> = [];
    const sub = await client.consume({ queue: `${queue}_fwd`, decode: (p) => ({ ok: true, value: p as { n: number; actorPid: number } }), handle: async (p) => (forwarded.push(p), { type: 'ack' }) });
    await client.publish({ exchangeId: 3, queue }, 'owner.noted', { n: 4, forward_to: `${queue}_fwd` });
    await waitFor('the forwarded message', () => forwarded.length === 1);
    await sub.cancel();
    const ownerPid = lines.find((l) => l.ready === true)?.pid;
    expect(forwarded[0]!.n).to.equal(4);
    expect(forwarded[0]!.actorPid).to.not.equal(ownerPid);
  });

  it('publishes a heartbeat for its component to system_modules in its own exchange', async () => {
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    const msg = await waitFor('a heartbeat', async () => (await channel.get('system_modules', { noAck: true })) || undefined);
    await raw.close();
    const envelope = JSON.parse(msg.content.toString('utf8')) as { payload: Record<string, unknown> };
    expect(envelope.payload).to.include({ type: 'owner', status: 'active', event_type: 'status' });
  });

  it('drains and exits 0 on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });
});
