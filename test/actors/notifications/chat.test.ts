import { expect } from 'chai';
import { closedPort, startHttpReceiver, type HttpReceiver, type RecordedRequest } from './receivers.js';
import { chatDriverFor } from '../../../actors/notifications/chat-driver.js';
import { notificationsArgsFromEnv } from '../../../actors/notifications/config.js';
import { SLACK_GREEN, SLACK_RED } from '../../../actors/notifications/core/chat-payload.js';
import type { ChatRequested } from '../../../actors/notifications/messages.js';
import { sendChat } from '../../../actors/notifications/send.js';
import type { Outcome } from '../../../runtime/messaging/transport.js';
import { captureLogs, type LogLine } from '../../helpers/log-capture.js';

const retry = { OA_NOTIFY_MAX_ATTEMPTS: '3', OA_NOTIFY_BACKOFF_MS: '20', OA_NOTIFY_BACKOFF_MAX_MS: '50', OA_NOTIFY_ATTEMPT_TIMEOUT_MS: '3000' };
const chat = (over: Partial<ChatRequested> = {}): ChatRequested => ({ is_success: true, prefix: '[OA][42][org/app_docker]', message: 'Workflow completed in 3m', ...over });

/** sendChat as the actor calls it, with the driver the configuration chooses, its log captured. */
async function send(env: Record<string, string>, request: ChatRequested): Promise<{ outcome: Outcome; lines: LogLine[] }> {
  const args = await notificationsArgsFromEnv(env);
  const { log, lines } = captureLogs();
  const driver = chatDriverFor(args.chat, { log, timeoutMs: args.retry.attemptTimeoutMs });
  return { outcome: await sendChat(request, { chat: driver, settings: args.chat, policy: args.retry, log }), lines };
}

const posts = (r: HttpReceiver): RecordedRequest[] => r.requests.filter((q) => q.method === 'POST');

describe('notifications chat to Slack-compatible webhooks, one real HTTP receiver per room', function () {
  this.timeout(30_000);
  let ops: HttpReceiver;
  let dev: HttpReceiver;
  let devAnswers: number[];
  let env: Record<string, string>;

  before(async () => {
    ops = await startHttpReceiver();
    dev = await startHttpReceiver((_req, n) => ({ status: devAnswers[n - 1] ?? 200, body: 'ok' }));
    env = {
      OA_CHAT_WEBHOOKS: JSON.stringify({ Ops: `${ops.url}/hooks/ops`, Dev: `${dev.url}/hooks/dev` }),
      HIPCHAT_DEFAULT_ROOM_NAME: 'Ops',
      OA_CHAT_FAILURE_MENTION: '<!here>',
      ...retry,
    };
  });
  beforeEach(() => {
    ops.requests.length = 0;
    dev.requests.length = 0;
    devAnswers = [];
  });
  after(async () => {
    await ops?.stop();
    await dev?.stop();
  });

  it('posts to the webhook of each room named in room_names: the original text, a green attachment', async () => {
    const { outcome } = await send(env, chat({ room_names: ['Ops', 'Dev'] }));
    expect(outcome).to.deep.equal({ type: 'ack' });
    const text = '[OA][42][org/app_docker]:  Workflow completed in 3m';
    for (const [receiver, path] of [
      [ops, '/hooks/ops'],
      [dev, '/hooks/dev'],
    ] as const) {
      expect(receiver.requests).to.deep.equal([
        { method: 'POST', url: path, contentType: 'application/json', body: { text, attachments: [{ color: SLACK_GREEN, fallback: `Succeeded: ${text}`, text: 'Succeeded' }] } },
      ]);
    }
  });

  it('uses the default room when the message names none', async () => {
    expect((await send(env, chat({ room_names: null }))).outcome).to.deep.equal({ type: 'ack' });
    expect([posts(ops).length, posts(dev).length]).to.deep.equal([1, 0]);
  });

  it('marks a failure red, with the configured mention', async () => {
    await send(env, chat({ is_success: false, message: 'Workflow has failed', room_names: ['Dev'] }));
    expect(posts(dev)[0]!.body).to.deep.include({ attachments: [{ color: SLACK_RED, fallback: 'Failed <!here>: [OA][42][org/app_docker]:  Workflow has failed', text: 'Failed <!here>' }] });
  });

  it('dead-letters a message for an unmapped room, naming it, after delivering to the mapped ones', async () => {
    const { outcome } = await send(env, chat({ room_names: ['QA', 'Ops'] }));
    expect(outcome).to.deep.equal({
      type: 'dead-letter',
      reason: 'chat message failed for QA: refused: no webhook is configured for room "QA" (OA_CHAT_WEBHOOKS maps "Ops", "Dev") (delivered to Ops)',
    });
    expect(posts(ops)).to.have.length(1);
  });

  it('retries a room whose webhook answers 503, without posting twice to the room that took it', async () => {
    devAnswers = [503, 503, 200];
    const { outcome, lines } = await send(env, chat({ room_names: ['Ops', 'Dev'] }));
    expect(outcome).to.deep.equal({ type: 'ack' });
    expect([posts(ops).length, posts(dev).length]).to.deep.equal([1, 3]);
    expect(lines.filter((l) => l.msg === 'delivery failed; trying again after a backoff').map((l) => l['retry'])).to.deep.equal([['Dev'], ['Dev']]);
  });

  it('dead-letters at once when a webhook answers 404, naming the room and never the URL', async () => {
    devAnswers = [404];
    const { outcome } = await send(env, chat({ room_names: ['Dev'] }));
    expect(outcome).to.deep.equal({ type: 'dead-letter', reason: 'chat message failed for Dev: refused: the webhook of room "Dev" answered HTTP 404 (expected 2xx)' });
    expect(posts(dev)).to.have.length(1);
  });

  it('gives up on a webhook nobody answers after the configured attempts', async () => {
    const down = { ...env, OA_CHAT_WEBHOOKS: JSON.stringify({ Ops: `http://127.0.0.1:${await closedPort()}/hooks/ops` }) };
    const { outcome } = await send(down, chat());
    expect(outcome).to.deep.equal({ type: 'dead-letter', reason: 'chat message failed for Ops: gave up after 3 attempts: cannot reach the webhook of room "Ops": ECONNREFUSED' });
  });

  it('logs and acks a message with no room when no default room is configured, posting nowhere', async () => {
    const { HIPCHAT_DEFAULT_ROOM_NAME: _default, ...noDefault } = env;
    const { outcome, lines } = await send(noDefault, chat({ room_names: null }));
    expect(outcome).to.deep.equal({ type: 'ack' });
    const logged = lines.filter((l) => l.msg.startsWith('chat message not sent: '));
    expect(logged.map((l) => [l.level, l.msg])).to.deep.equal([
      [30, 'chat message not sent: the chat message names no room (room_names) and no default room is configured (HIPCHAT_DEFAULT_ROOM_NAME)'],
    ]);
    expect(logged[0]).to.deep.include({ prefix: '[OA][42][org/app_docker]', is_success: true, room_names: [] });
    expect([...posts(ops), ...posts(dev)]).to.deep.equal([]);
  });

  it('logs each message once and acks it when no chat service is configured, whatever rooms it names', async () => {
    for (const over of [{}, { room_names: ['Ops', 'Dev'] }, { is_success: false, room_names: null }]) {
      const { outcome, lines } = await send({}, chat(over));
      expect(outcome).to.deep.equal({ type: 'ack' });
      const logged = lines.filter((l) => l.msg.startsWith('chat message not sent: '));
      expect(logged.map((l) => [l.level, l.msg])).to.deep.equal([[30, 'chat message not sent: no chat service is configured (OA_CHAT_WEBHOOKS or HIPCHAT_AUTH_TOKENS)']]);
      expect(logged[0]).to.deep.include({ prefix: '[OA][42][org/app_docker]', text: '[OA][42][org/app_docker]:  Workflow completed in 3m', room_names: over.room_names ?? [] });
    }
  });
});

/** A HipChat v2 API as the original used it (reference §9.2): room lookup by name, room notifications answered 204. */
function hipChatApi(rooms: Record<string, number>, tokens: readonly string[], notifyStatus: () => number) {
  return (req: RecordedRequest): { status: number; body?: unknown } => {
    const url = new URL(req.url, 'http://hipchat');
    if (!tokens.includes(url.searchParams.get('auth_token') ?? '')) return { status: 401, body: { error: { message: 'Invalid token' } } };
    const lookup = /^\/v2\/room\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && lookup) {
      const name = decodeURIComponent(lookup[1]!);
      const id = rooms[name];
      return id === undefined ? { status: 404, body: { error: { message: 'Room not found' } } } : { status: 200, body: { id, name } };
    }
    if (req.method === 'POST' && /^\/v2\/room\/\d+\/notification$/.test(url.pathname)) return { status: notifyStatus() };
    return { status: 400, body: { error: { message: 'unexpected request' } } };
  };
}

describe('notifications chat through the HipChat v2 driver, against a real HTTP server speaking its shape', function () {
  this.timeout(30_000);
  const tokens = ['tok-a', 'tok-b'];
  let hipchat: HttpReceiver;
  let status = 204;
  let env: Record<string, string>;

  before(async () => {
    hipchat = await startHttpReceiver(hipChatApi({ Ops: 11, 'Dev Team': 12 }, tokens, () => status));
    env = { HIPCHAT_AUTH_TOKENS: tokens.join(','), HIPCHAT_BASE_URL: `${hipchat.url}/`, HIPCHAT_DEFAULT_ROOM_NAME: 'Ops', ...retry };
  });
  beforeEach(() => {
    hipchat.requests.length = 0;
    status = 204;
  });
  after(() => hipchat?.stop());

  it('looks each room up once, then posts green/red notifications that ping the room on failure', async () => {
    const args = await notificationsArgsFromEnv(env);
    const { log } = captureLogs();
    const driver = chatDriverFor(args.chat, { log, timeoutMs: 3_000 });
    const deps = { chat: driver, settings: args.chat, policy: args.retry, log };
    expect(await sendChat(chat({ room_names: ['Ops', 'Dev Team'] }), deps)).to.deep.equal({ type: 'ack' });
    expect(await sendChat(chat({ is_success: false, message: 'Workflow has failed', room_names: ['Dev Team'] }), deps)).to.deep.equal({ type: 'ack' });
    const paths = hipchat.requests.map((r) => `${r.method} ${new URL(r.url, 'http://h').pathname}`);
    expect(paths.filter((p) => p.startsWith('GET')).sort()).to.deep.equal(['GET /v2/room/Dev%20Team', 'GET /v2/room/Ops']);
    expect(paths.filter((p) => p.startsWith('POST'))).to.have.length(3);
    for (const r of hipchat.requests) expect(tokens).to.include(new URL(r.url, 'http://h').searchParams.get('auth_token'));
    const notifications = hipchat.requests.filter((r) => r.method === 'POST');
    expect(notifications.map((r) => r.contentType)).to.deep.equal(['application/json', 'application/json', 'application/json']);
    expect(new URL(notifications[2]!.url, 'http://h').pathname).to.equal('/v2/room/12/notification');
    expect(notifications[2]!.body).to.deep.equal({
      room_id: 12,
      color: 'red',
      message: '[OA][42][org/app_docker]:  Workflow has failed',
      notify: true,
      message_format: 'html',
      notification_type: 'room_notification',
    });
    const green = notifications.slice(0, 2).map((r) => r.body as { room_id: number; color: string; notify: boolean });
    expect(green.map((b) => [b.room_id, b.color, b.notify]).sort()).to.deep.equal([
      [11, 'green', false],
      [12, 'green', false],
    ]);
  });

  it('dead-letters at once a room HipChat does not know', async () => {
    const { outcome } = await send(env, chat({ room_names: ['Nowhere'] }));
    expect(outcome).to.deep.equal({ type: 'dead-letter', reason: `chat message failed for Nowhere: refused: HipChat's lookup of room "Nowhere" answered HTTP 404 (expected 2xx)` });
  });

  it('treats an answer other than 204 to a notification as a failure', async () => {
    status = 200;
    const { outcome } = await send(env, chat());
    expect(outcome).to.deep.equal({ type: 'dead-letter', reason: 'chat message failed for Ops: refused: HipChat room "Ops" answered HTTP 200 (expected 204)' });
  });

  it('dead-letters at once when HipChat refuses the token', async () => {
    const { outcome } = await send({ ...env, HIPCHAT_AUTH_TOKENS: 'revoked' }, chat());
    expect(outcome).to.deep.equal({ type: 'dead-letter', reason: `chat message failed for Ops: refused: HipChat's lookup of room "Ops" answered HTTP 401 (expected 2xx)` });
  });
});
