import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notificationsArgsFromEnv } from '../../../actors/notifications/config.js';
import { ConfigError } from '../../../runtime/config.js';
import { rejectionOf } from '../../helpers/wait.js';

async function problemOf(env: Record<string, string>): Promise<string> {
  const err = await rejectionOf(notificationsArgsFromEnv(env));
  expect(err).to.be.instanceOf(ConfigError);
  return err.message;
}

describe('notifications configuration from the environment', () => {
  it('without SMTP or chat settings: no e-mail, chat to the log, the default retry policy', async () => {
    expect(await notificationsArgsFromEnv({})).to.deep.equal({
      email: null,
      chat: { driver: 'log', defaultRoom: null },
      retry: { maxAttempts: 4, initialBackoffMs: 500, maxBackoffMs: 4_000, attemptTimeoutMs: 5_000 },
    });
  });

  it('reads the original SMTP variables; a host name, STARTTLS when offered, a login only with a user name', async () => {
    const args = await notificationsArgsFromEnv({ SMTP_URI: 'smtp.example.com', SMTP_PORT: '2525', SMTP_FROM: 'oa@example.com', SMTP_USERNAME: 'oa', SMTP_PASSWORD: 'pw' });
    expect(args.email).to.deep.equal({ host: 'smtp.example.com', port: 2525, secure: false, auth: { user: 'oa', pass: 'pw' }, from: 'oa@example.com', ca: null });
    const anonymous = await notificationsArgsFromEnv({ SMTP_URI: 'relay.local', SMTP_FROM: 'oa@example.com', SMTP_USERNAME: '' });
    expect(anonymous.email).to.include({ port: 587, secure: false, auth: null });
  });

  it('uses TLS from the start on port 465 or with an smtps:// URL, whose port wins', async () => {
    expect((await notificationsArgsFromEnv({ SMTP_URI: 'smtp.example.com', SMTP_PORT: '465', SMTP_FROM: 'a@b.io' })).email).to.include({ secure: true, port: 465 });
    expect((await notificationsArgsFromEnv({ SMTP_URI: 'smtps://smtp.example.com:2465', SMTP_PORT: '25', SMTP_FROM: 'a@b.io' })).email).to.include({ secure: true, port: 2465 });
    expect((await notificationsArgsFromEnv({ SMTP_URI: 'smtp://127.0.0.1', SMTP_PORT: '465', SMTP_FROM: 'a@b.io' })).email).to.include({ secure: false, host: '127.0.0.1' });
  });

  it('reads the CA of SMTP_TLS_CA_FILE, and names the variable when the file cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oa-notify-config-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'PEM');
      const env = { SMTP_URI: 'h.example.com', SMTP_FROM: 'a@b.io', SMTP_TLS_CA_FILE: join(dir, 'ca.pem') };
      expect((await notificationsArgsFromEnv(env)).email?.ca).to.equal('PEM');
      expect(await problemOf({ ...env, SMTP_TLS_CA_FILE: join(dir, 'missing.pem') })).to.match(/SMTP_TLS_CA_FILE: cannot read it: .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chooses the chat driver: explicit, else HipChat with tokens, else webhooks when mapped', async () => {
    const hooks = '{"Ops":"https://hooks.example.com/T1/B1/x","Dev":"http://127.0.0.1:9/dev"}';
    expect((await notificationsArgsFromEnv({ OA_CHAT_WEBHOOKS: hooks, HIPCHAT_DEFAULT_ROOM_NAME: 'Ops', OA_CHAT_FAILURE_MENTION: '<!here>' })).chat).to.deep.equal({
      driver: 'webhook',
      defaultRoom: 'Ops',
      webhooks: { Ops: 'https://hooks.example.com/T1/B1/x', Dev: 'http://127.0.0.1:9/dev' },
      failureMention: '<!here>',
    });
    expect((await notificationsArgsFromEnv({ HIPCHAT_AUTH_TOKENS: 'a, b,,', HIPCHAT_BASE_URL: 'http://127.0.0.1:8/' })).chat).to.deep.equal({
      driver: 'hipchat',
      defaultRoom: null,
      baseUrl: 'http://127.0.0.1:8',
      tokens: ['a', 'b'],
    });
    expect((await notificationsArgsFromEnv({ HIPCHAT_AUTH_TOKENS: 'a' })).chat).to.include({ baseUrl: 'https://api.hipchat.com' });
    expect((await notificationsArgsFromEnv({ HIPCHAT_AUTH_TOKENS: 'a', OA_CHAT_WEBHOOKS: hooks, OA_CHAT_DRIVER: 'webhook' })).chat.driver).to.equal('webhook');
    expect((await notificationsArgsFromEnv({ OA_CHAT_WEBHOOKS: hooks, OA_CHAT_DRIVER: 'log' })).chat.driver).to.equal('log');
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['a port that is not a number', { SMTP_URI: 'h.io', SMTP_FROM: 'a@b.io', SMTP_PORT: 'twenty-five' }, /SMTP_PORT: expected a number \(got "twenty-five"\)/],
    ['a port out of range', { SMTP_URI: 'h.io', SMTP_FROM: 'a@b.io', SMTP_PORT: '70000' }, /SMTP_PORT: expected a port number/],
    ['an SMTP URI of another scheme', { SMTP_URI: 'http://h.io', SMTP_FROM: 'a@b.io' }, /SMTP_URI: expected a host name, or an smtp:\/\/ or smtps:\/\/ URL \(got "http:\/\/h.io"\)/],
    ['SMTP_URI without SMTP_FROM', { SMTP_URI: 'h.io' }, /SMTP_FROM: required when SMTP_URI is set \(not set\)/],
    ['a user name without a password', { SMTP_URI: 'h.io', SMTP_FROM: 'a@b.io', SMTP_USERNAME: 'u' }, /SMTP_PASSWORD: required when SMTP_USERNAME is set/],
    ['webhooks that are not JSON', { OA_CHAT_WEBHOOKS: 'Ops=http://x' }, /OA_CHAT_WEBHOOKS: expected a JSON object of room name to webhook URL/],
    ['webhooks as a list', { OA_CHAT_WEBHOOKS: '["http://x"]' }, /OA_CHAT_WEBHOOKS: expected a JSON object/],
    ['a webhook that is not an http URL names its room', { OA_CHAT_WEBHOOKS: '{"Ops":"ftp://x","Dev":"http://127.0.0.1/"}' }, /OA_CHAT_WEBHOOKS: rooms "Ops": expected a non-empty room name and an http\(s\) URL/],
    ['an unknown chat driver', { OA_CHAT_DRIVER: 'irc' }, /OA_CHAT_DRIVER: expected webhook, hipchat or log \(got "irc"\)/],
    ['the webhook driver without webhooks', { OA_CHAT_DRIVER: 'webhook' }, /OA_CHAT_WEBHOOKS: required when OA_CHAT_DRIVER is webhook/],
    ['the HipChat driver without tokens', { OA_CHAT_DRIVER: 'hipchat' }, /HIPCHAT_AUTH_TOKENS: required when OA_CHAT_DRIVER is hipchat/],
    ['a HipChat base URL that is not a URL', { HIPCHAT_BASE_URL: 'api.hipchat.com' }, /HIPCHAT_BASE_URL: expected an http\(s\) URL/],
    ['zero attempts', { OA_NOTIFY_MAX_ATTEMPTS: '0' }, /OA_NOTIFY_MAX_ATTEMPTS: expected a number of at least 1 \(got "0"\)/],
    [
      'a retry budget the consumer would not wait for',
      { OA_NOTIFY_MAX_ATTEMPTS: '10' },
      /OA_NOTIFY_ATTEMPT_TIMEOUT_MS: with OA_NOTIFY_MAX_ATTEMPTS=10 and the backoff, one message may take 77500 ms; two of them must stay below 120000 ms/,
    ],
  ];
  for (const [name, env, expected] of bad) {
    it(`refuses ${name}, naming the variable`, async () => expect(await problemOf(env)).to.match(expected));
  }
});
