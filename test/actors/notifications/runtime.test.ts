import { expect } from 'chai';
import { connect, type Channel, type GetMessage } from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNotifications, type NotificationsRun } from './harness.js';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from './receivers.js';
import { scratchVhost } from '../overseer/harness.js';
import { CHAT_REQUESTED, EMAIL_REQUESTED, NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE } from '../../../actors/notifications/messages.js';
import { createLogger } from '../../../runtime/logger.js';
import { SYSTEM_MODULES_QUEUE } from '../../../runtime/messaging/core/heartbeat.js';
import { AmqpTransport } from '../../../runtime/messaging/amqp-transport.js';
import { singleBrokerMetadata } from '../../../runtime/messaging/metadata.js';
import { DEAD_LETTER_REASON_HEADER, errorQueueOf } from '../../../runtime/messaging/transport.js';
import { needs, services } from '../../helpers/services.js';
import { waitFor } from '../../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../../actors/main.ts', import.meta.url));

interface NotificationsProcess {
  readonly child: ChildProcess;
  /** What it wrote to stdout so far: JSON log lines. */
  output(): string;
  readonly exited: Promise<number | null>;
}

/** The Notifications component forked by a process of its own (actors/main.ts) over RabbitMQ, once it has started. */
async function spawnNotifications(dir: string, env: Record<string, string>): Promise<NotificationsProcess> {
  const topologyFile = join(dir, 'notifications.json');
  writeFileSync(topologyFile, JSON.stringify({ name: 'notifications', transport: 'amqp', components: [{ name: 'notifications', mode: 'forked' }] }));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--topology', topologyFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await waitFor('the process to start', () => out.includes('"msg":"started"'), 60_000);
  return { child, output: () => out, exited };
}

/** The lines of a process's JSON log that say a chat message was logged instead of sent. */
const notSentLines = (output: string): Array<{ level: number; msg: string; prefix: string }> =>
  output
    .split('\n')
    .filter((l) => l.includes('chat message not sent'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; prefix: string });

/**
 * Takes this suite's heartbeats (type `notifications`) out of the shared system_modules queue, so an Overseer test
 * on the same broker never reads them; every other message goes back untouched.
 */
async function takeOwnHeartbeats(channel: Channel): Promise<void> {
  const others: GetMessage[] = [];
  for (let msg = await channel.get(SYSTEM_MODULES_QUEUE); msg !== false; msg = await channel.get(SYSTEM_MODULES_QUEUE)) {
    const envelope = JSON.parse(msg.content.toString('utf8')) as { payload?: { type?: unknown } };
    if (envelope.payload?.type === 'notifications') channel.ack(msg);
    else others.push(msg);
  }
  for (const msg of others) channel.nack(msg, false, true);
}

const ok = { prefix: 'SUCCEEDED [OA][42][org/app_docker]', message: 'Workflow completed.', notifications: { email_addresses: ['ops@example.com'] } };
const refused = { prefix: 'FAILED - [OA][43][org/app_docker]', message: 'Workflow failed.', notifications: { email_addresses: ['nobody@example.com'] } };
const chat = { is_success: false, prefix: '[OA][43][org/app_docker]', message: 'Workflow has failed', room_names: ['Ops', 'Dev'] };

/** A real SMTP server that refuses nobody@example.com with 550, and one HTTP receiver per chat room. */
interface Receivers {
  readonly smtp: SmtpReceiver;
  readonly ops: HttpReceiver;
  readonly dev: HttpReceiver;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

async function startReceivers(): Promise<Receivers> {
  const smtp = await startSmtpReceiver({ rcpt: (a) => (a === 'nobody@example.com' ? { code: 550, message: '5.1.1 mailbox unavailable' } : undefined) });
  const ops = await startHttpReceiver();
  const dev = await startHttpReceiver();
  const env = {
    SMTP_URI: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_FROM: 'openaperture@example.com',
    OA_CHAT_WEBHOOKS: JSON.stringify({ Ops: `${ops.url}/ops`, Dev: `${dev.url}/dev` }),
    HIPCHAT_DEFAULT_ROOM_NAME: 'Ops',
    OA_NOTIFY_MAX_ATTEMPTS: '2',
    OA_NOTIFY_BACKOFF_MS: '20',
    OA_NOTIFY_ATTEMPT_TIMEOUT_MS: '3000',
  };
  return { smtp, ops, dev, env, stop: async () => (await smtp.stop(), await ops.stop(), await dev.stop()) };
}

describe('the Notifications component started through the runtime, in-memory transport', function () {
  this.timeout(30_000);
  let receivers: Receivers;
  let run: NotificationsRun;
  before(async () => {
    receivers = await startReceivers();
    run = await startNotifications(receivers.env);
  });
  after(async () => {
    await run?.stop();
    await receivers?.stop();
  });

  it('delivers e-mail and chat from its queues, and leaves a refused e-mail in notifications_email_error with the reason', async () => {
    await run.publish(NOTIFICATIONS_EMAIL_QUEUE, EMAIL_REQUESTED, ok);
    await run.publish(NOTIFICATIONS_CHAT_QUEUE, CHAT_REQUESTED, chat);
    await run.publish(NOTIFICATIONS_EMAIL_QUEUE, EMAIL_REQUESTED, refused);
    await run.publish(NOTIFICATIONS_CHAT_QUEUE, CHAT_REQUESTED, { prefix: 'no verdict', message: 'x' });
    const { smtp, ops, dev } = receivers;
    await waitFor('the e-mail and both rooms', () => smtp.mails.length === 1 && ops.requests.length === 1 && dev.requests.length === 1);
    expect(smtp.mails[0]).to.deep.include({ to: ['ops@example.com'], subject: ok.prefix, text: ok.message });
    expect(ops.requests[0]!.body).to.deep.include({ text: '[OA][43][org/app_docker]:  Workflow has failed' });
    const emailDead = await waitFor('the refused e-mail', () => {
      const taken = run.takeDeadLetters(NOTIFICATIONS_EMAIL_QUEUE);
      return taken.length > 0 && taken;
    });
    expect(emailDead).to.have.length(1);
    expect(emailDead[0]!.payload).to.deep.equal(refused);
    expect(emailDead[0]!.reason).to.match(/^e-mail to nobody@example\.com failed for SMTP 127\.0\.0\.1:\d+: refused: .*550 5\.1\.1 mailbox unavailable/);
    const chatDead = await waitFor('the malformed chat message', () => {
      const taken = run.takeDeadLetters(NOTIFICATIONS_CHAT_QUEUE);
      return taken.length > 0 && taken;
    });
    expect(chatDead.map((d) => d.reason)).to.deep.equal(['notifications.chat_requested: is_success: Invalid input: expected boolean, received undefined']);
    expect(smtp.rcptAttempts.get('nobody@example.com')).to.equal(1);
  });

  it('sends a message once per message id: copies of one sent or being sent are acked unsent, a dead-lettered one is tried again', async () => {
    const { smtp } = receivers;
    smtp.mails.length = 0;
    const once = { ...ok, prefix: 'SUCCEEDED [OA][44][org/app_docker]' };
    const other = { ...ok, prefix: 'SUCCEEDED [OA][45][org/app_docker]' };
    const to = { exchangeId: 1, queue: NOTIFICATIONS_EMAIL_QUEUE };
    const refusedBefore = smtp.rcptAttempts.get('nobody@example.com') ?? 0;
    // Three copies at once (a redelivery racing the first), a different message beside them, and a refused one twice.
    await Promise.all([1, 2, 3].map(() => run.transport.publish(to, EMAIL_REQUESTED, once, { messageId: 'email-44' })));
    await run.transport.publish(to, EMAIL_REQUESTED, other, { messageId: 'email-45' });
    await run.transport.publish(to, EMAIL_REQUESTED, refused, { messageId: 'email-43' });
    await waitFor('both e-mails and the refusal', () => smtp.mails.length >= 2 && run.takeDeadLetters(NOTIFICATIONS_EMAIL_QUEUE).length === 1);
    // A copy published after the first was sent: the publisher retried after a lost confirm.
    await run.transport.publish(to, EMAIL_REQUESTED, once, { messageId: 'email-44' });
    await run.transport.publish(to, EMAIL_REQUESTED, refused, { messageId: 'email-43' });
    await waitFor('the refused one dead-lettered again', () => run.takeDeadLetters(NOTIFICATIONS_EMAIL_QUEUE).length === 1);
    expect(smtp.mails.map((m) => m.subject).sort()).to.deep.equal([once.prefix, other.prefix]);
    expect(smtp.rcptAttempts.get('nobody@example.com')).to.equal(refusedBefore + 2);
  });
});

describe('the Notifications component with a backlog behind a slow SMTP server', function () {
  this.timeout(30_000);

  it('sends each queued e-mail once and dead-letters none, however long the backlog takes in the serial actor', async () => {
    // Each address is refused with 451 twice, so each e-mail takes three attempts and two backoffs (~0.5 s).
    const smtp = await startSmtpReceiver({ rcpt: (_address, attempt) => (attempt <= 2 ? { code: 451, message: '4.3.0 try again later' } : undefined) });
    const env = { SMTP_URI: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'oa@example.com', OA_NOTIFY_MAX_ATTEMPTS: '3', OA_NOTIFY_BACKOFF_MS: '150', OA_NOTIFY_ATTEMPT_TIMEOUT_MS: '2000' };
    // A process ask timeout far below the backlog's length: the routes' own timeout and one delivery at a time apply.
    const run = await startNotifications(env, { askTimeoutMs: 1_000 });
    try {
      const subjects = Array.from({ length: 6 }, (_, i) => `backlog ${i}`);
      for (const [i, subject] of subjects.entries()) {
        await run.publish(NOTIFICATIONS_EMAIL_QUEUE, EMAIL_REQUESTED, { prefix: subject, message: 'x', notifications: { email_addresses: [`user${i}@example.com`] } });
      }
      await waitFor('every e-mail', () => smtp.mails.length >= subjects.length, 20_000);
      expect(smtp.mails.map((m) => m.subject).sort()).to.deep.equal(subjects);
      expect(run.takeDeadLetters(NOTIFICATIONS_EMAIL_QUEUE)).to.deep.equal([]);
    } finally {
      await run.stop();
      await smtp.stop();
    }
  });
});

describe('the Notifications component in its own process over RabbitMQ', function () {
  this.timeout(90_000);
  needs('rabbitmq');
  const exchangeName = `oa_notify_${randomUUID().slice(0, 8)}`;
  const queues = [NOTIFICATIONS_CHAT_QUEUE, NOTIFICATIONS_EMAIL_QUEUE].flatMap((q) => [q, errorQueueOf(q)]);
  let receivers: Receivers;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    receivers = await startReceivers();
    dir = mkdtempSync(join(tmpdir(), 'oa-notify-amqp-'));
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    await raw.close();
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    await channel.deleteExchange(exchangeName);
    await takeOwnHeartbeats(channel);
    await raw.close();
    await receivers?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('consumes both queues in a forked component and leaves the refused e-mail in notifications_email_error with the reason', async () => {
    const env = { ...receivers.env, AMQP_URL: services().amqpUrl, OA_EXCHANGE_NAME: exchangeName, OA_HEARTBEAT_INTERVAL_MS: '600000', OA_LOG_LEVEL: 'info' };
    const started = await spawnNotifications(dir, env);
    child = started.child;

    const publisher = new AmqpTransport({ metadata: singleBrokerMetadata({ amqpUrl: services().amqpUrl, exchangeName }), exchangeId: 1, brokerId: 1, log: createLogger({ level: 'silent' }) });
    const raw = await connect(services().amqpUrl);
    try {
      await publisher.publish({ exchangeId: 1, queue: NOTIFICATIONS_EMAIL_QUEUE }, EMAIL_REQUESTED, ok);
      await publisher.publish({ exchangeId: 1, queue: NOTIFICATIONS_CHAT_QUEUE }, CHAT_REQUESTED, chat);
      await publisher.publish({ exchangeId: 1, queue: NOTIFICATIONS_EMAIL_QUEUE }, EMAIL_REQUESTED, refused);
      const { smtp, ops, dev } = receivers;
      await waitFor('the e-mail and both rooms', () => smtp.mails.length === 1 && ops.requests.length === 1 && dev.requests.length === 1, 20_000);
      expect(smtp.mails[0]).to.deep.include({ from: 'openaperture@example.com', to: ['ops@example.com'], subject: ok.prefix, text: ok.message });
      expect(dev.requests[0]!.body).to.deep.include({ text: '[OA][43][org/app_docker]:  Workflow has failed' });

      const channel = await raw.createChannel();
      const dead = await waitFor('the refused e-mail on notifications_email_error', async () => (await channel.get(errorQueueOf(NOTIFICATIONS_EMAIL_QUEUE), { noAck: true })) || undefined, 20_000);
      const envelope = JSON.parse(dead.content.toString('utf8')) as { type: string; payload: unknown };
      expect(envelope).to.deep.include({ type: EMAIL_REQUESTED, payload: refused });
      expect(String(dead.properties.headers?.[DEAD_LETTER_REASON_HEADER])).to.match(/^e-mail to nobody@example\.com failed for SMTP 127\.0\.0\.1:\d+: refused: .*550 5\.1\.1 mailbox unavailable/);
      expect(await channel.get(errorQueueOf(NOTIFICATIONS_CHAT_QUEUE))).to.equal(false);
      expect(smtp.rcptAttempts.get('nobody@example.com')).to.equal(1);
    } finally {
      await raw.close();
      await publisher.close();
    }
    process.kill(child.pid!, 'SIGTERM');
    expect(await started.exited).to.equal(0);
  });
});

describe('the Notifications component without chat settings, in its own process over RabbitMQ (a vhost of its own)', function () {
  this.timeout(90_000);
  needs('rabbitmq');
  let vhost: Awaited<ReturnType<typeof scratchVhost>> | undefined;
  let dir: string;
  let started: NotificationsProcess | undefined;

  before(async () => {
    vhost = await scratchVhost();
    dir = mkdtempSync(join(tmpdir(), 'oa-notify-nochat-'));
  });
  after(async () => {
    if (started && started.child.exitCode === null) {
      process.kill(started.child.pid!, 'SIGTERM');
      await started.exited;
    }
    await vhost?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs each chat message once (info, with its prefix) and acks it: nothing reaches notifications_hipchat_error', async () => {
    const amqpUrl = vhost!.url;
    const exchangeName = `oa_notify_${randomUUID().slice(0, 8)}`;
    started = await spawnNotifications(dir, { AMQP_URL: amqpUrl, OA_EXCHANGE_NAME: exchangeName, OA_HEARTBEAT_INTERVAL_MS: '600000', OA_LOG_LEVEL: 'info' });
    const publisher = new AmqpTransport({ metadata: singleBrokerMetadata({ amqpUrl, exchangeName }), exchangeId: 1, brokerId: 1, log: createLogger({ level: 'silent' }) });
    // As the orchestrator sends them: a workflow whose source repo names no room, and one that names two.
    const prefixes = Array.from({ length: 6 }, (_, i) => `[OA][w-${i}][org/app_docker]`);
    try {
      for (const [i, prefix] of prefixes.entries()) {
        await publisher.publish({ exchangeId: 1, queue: NOTIFICATIONS_CHAT_QUEUE }, CHAT_REQUESTED, { is_success: i !== 3, prefix, message: 'Starting workflow...', room_names: i === 5 ? ['Ops', 'Dev'] : null });
      }
    } finally {
      await publisher.close();
    }
    await waitFor('a log line for every message', () => notSentLines(started!.output()).length >= prefixes.length, 20_000);
    process.kill(started.child.pid!, 'SIGTERM');
    expect(await started.exited).to.equal(0);
    const lines = notSentLines(started.output());
    expect(lines.map((l) => l.prefix)).to.deep.equal(prefixes);
    expect(new Set(lines.map((l) => `${l.level} ${l.msg}`))).to.deep.equal(new Set(['30 chat message not sent: no chat service is configured (OA_CHAT_WEBHOOKS or HIPCHAT_AUTH_TOKENS)']));
    const raw = await connect(amqpUrl);
    try {
      const channel = await raw.createChannel();
      // Acked, not left to be redelivered: once the process is gone, an unacked message would be back in the queue.
      expect((await channel.checkQueue(NOTIFICATIONS_CHAT_QUEUE)).messageCount).to.equal(0);
      expect((await channel.checkQueue(errorQueueOf(NOTIFICATIONS_CHAT_QUEUE))).messageCount).to.equal(0);
    } finally {
      await raw.close();
    }
  });
});
