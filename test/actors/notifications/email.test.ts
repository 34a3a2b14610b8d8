import { expect } from 'chai';
import { closedPort, selfSignedCertificate, startSmtpReceiver, type SmtpReceiver } from './receivers.js';
import { notificationsArgsFromEnv } from '../../../actors/notifications/config.js';
import type { EmailRequested } from '../../../actors/notifications/messages.js';
import { sendEmail } from '../../../actors/notifications/send.js';
import { smtpMailer } from '../../../actors/notifications/smtp-mailer.js';
import type { Outcome } from '../../../runtime/messaging/transport.js';
import { captureLogs, type LogLine } from '../../helpers/log-capture.js';

const retry = { OA_NOTIFY_MAX_ATTEMPTS: '3', OA_NOTIFY_BACKOFF_MS: '20', OA_NOTIFY_BACKOFF_MAX_MS: '50', OA_NOTIFY_ATTEMPT_TIMEOUT_MS: '3000' };
const email = (subject: string, to: string[], message = 'Workflow completed.\nSee the log.'): EmailRequested => ({ prefix: subject, message, notifications: { email_addresses: to } });

/** sendEmail as the actor calls it, with the mailer and retry policy the configuration gives, its log captured. */
async function send(env: Record<string, string>, request: EmailRequested, id = 'email-1'): Promise<{ outcome: Outcome; lines: LogLine[] }> {
  const args = await notificationsArgsFromEnv(env);
  const mailer = args.email ? smtpMailer(args.email, { timeoutMs: args.retry.attemptTimeoutMs }) : null;
  const { log, lines } = captureLogs();
  try {
    return { outcome: await sendEmail({ id, payload: request }, { mailer, policy: args.retry, log }), lines };
  } finally {
    mailer?.close();
  }
}

const deadLetter = (reason: string | RegExp) => (outcome: Outcome) => {
  expect(outcome.type).to.equal('dead-letter');
  if (outcome.type !== 'dead-letter') return;
  if (typeof reason === 'string') expect(outcome.reason).to.equal(reason);
  else expect(outcome.reason).to.match(reason);
};

describe('notifications e-mail to a real SMTP server with STARTTLS and a login', function () {
  this.timeout(30_000);
  const tls = selfSignedCertificate();
  let smtp: SmtpReceiver;
  let env: Record<string, string>;

  before(async () => {
    smtp = await startSmtpReceiver({
      tls,
      login: { user: 'oa', pass: 's3cret' },
      rcpt: (address, attempt) =>
        address === 'nobody@example.com'
          ? { code: 550, message: '5.1.1 mailbox unavailable' }
          : address === 'busy@example.com' || (address === 'flaky@example.com' && attempt < 3)
            ? { code: 451, message: '4.3.0 try again later' }
            : undefined,
      data: (mail) => (mail.subject.includes('SPAM') ? { code: 554, message: '5.7.1 message refused as spam' } : undefined),
    });
    env = {
      SMTP_URI: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_USERNAME: 'oa',
      SMTP_PASSWORD: 's3cret',
      SMTP_FROM: 'openaperture@example.com',
      SMTP_TLS_CA_FILE: tls.certFile,
      ...retry,
    };
  });
  beforeEach(() => (smtp.mails.length = 0));
  after(async () => {
    await smtp?.stop();
    tls.cleanup();
  });

  it('sends subject = prefix and the plain-text body to the valid recipients, over TLS, logged in; invalid ones are logged', async () => {
    const { outcome, lines } = await send(env, email('SUCCEEDED [OA][42][org/app_docker]', ['ops@example.com', 'devs', 'dev@example.com', 'OPS@example.com']), 'workflow-completed-email/42');
    expect(outcome).to.deep.equal({ type: 'ack' });
    expect(smtp.mails).to.have.length(1);
    const [mail] = smtp.mails;
    expect(mail).to.deep.include({ from: 'openaperture@example.com', to: ['ops@example.com', 'dev@example.com'], subject: 'SUCCEEDED [OA][42][org/app_docker]', secure: true, user: 'oa' });
    expect(mail!.messageId, 'the Message-ID is made from the message id').to.equal('<workflow-completed-email/42@openaperture>');
    expect(mail!.contentType).to.match(/^text\/plain/);
    expect(mail!.text.replace(/\r\n/g, '\n')).to.equal('Workflow completed.\nSee the log.');
    expect(lines.find((l) => l.msg === 'e-mail addresses refused: not sent to them')).to.deep.include({ invalid: ['devs'] });
  });

  it('a recipient refused with 550 is permanent: one attempt, then a dead letter with the reason', async () => {
    const { outcome } = await send(env, email('FAILED - [OA][43][org/app_docker]', ['nobody@example.com']));
    deadLetter(new RegExp(`^e-mail to nobody@example\\.com failed for SMTP 127\\.0\\.0\\.1:${smtp.port}: refused: .*550 5\\.1\\.1 mailbox unavailable`))(outcome);
    expect(smtp.rcptAttempts.get('nobody@example.com')).to.equal(1);
    expect(smtp.mails).to.deep.equal([]);
  });

  it('a message refused at DATA with 554 is dead-lettered at once with the reason', async () => {
    deadLetter(/refused: .*554 5\.7\.1 message refused as spam/)((await send(env, email('SPAM offer', ['ops@example.com']))).outcome);
  });

  it('sends to the recipients the server accepts and logs the ones it refuses', async () => {
    const { outcome, lines } = await send(env, email('partly refused', ['ops@example.com', 'nobody@example.com']));
    expect(outcome).to.deep.equal({ type: 'ack' });
    expect(smtp.mails.map((m) => m.to)).to.deep.equal([['ops@example.com']]);
    expect(lines.find((l) => l.msg === 'the SMTP server refused some recipients: not sent to them')).to.deep.include({ rejected: ['nobody@example.com'] });
  });

  it('retries a 451 with backoff until the server takes the message', async () => {
    const { outcome, lines } = await send(env, email('flaky server', ['flaky@example.com']));
    expect(outcome).to.deep.equal({ type: 'ack' });
    expect(smtp.rcptAttempts.get('flaky@example.com')).to.equal(3);
    expect(smtp.mails.map((m) => m.to)).to.deep.equal([['flaky@example.com']]);
    const retries = lines.filter((l) => l.msg === 'delivery failed; trying again after a backoff');
    expect(retries.map((l) => [l['attempt'], l['delayMs']])).to.deep.equal([
      [1, 20],
      [2, 40],
    ]);
    expect(String(retries[0]!['reasons'])).to.match(/451 4\.3\.0 try again later/);
  });

  it('gives up on a server that keeps answering 451 after the configured attempts, with the reason', async () => {
    deadLetter(/failed for SMTP 127\.0\.0\.1:\d+: gave up after 3 attempts: .*451 4\.3\.0 try again later/)((await send(env, email('always busy', ['busy@example.com']))).outcome);
    expect(smtp.rcptAttempts.get('busy@example.com')).to.equal(3);
  });

  it('dead-letters an e-mail with no valid address, naming the invalid ones, without calling the server', async () => {
    deadLetter('the e-mail has no valid recipient; invalid: "devs", "ops@"')((await send(env, email('nobody valid', ['devs', 'ops@']))).outcome);
  });

  it('a refused login is permanent: dead-lettered at once with the 535', async () => {
    const { outcome, lines } = await send({ ...env, SMTP_PASSWORD: 'wrong' }, email('wrong password', ['ops@example.com']));
    deadLetter(/refused: .*535/)(outcome);
    expect(lines.filter((l) => l.msg === 'delivery failed; trying again after a backoff')).to.deep.equal([]);
  });

  it('does not send to a server whose certificate it cannot verify', async () => {
    const { SMTP_TLS_CA_FILE: _ca, ...untrusted } = env;
    const { outcome, lines } = await send(untrusted, email('untrusted', ['ops@example.com']));
    deadLetter(/refused: self-signed certificate$/)(outcome);
    expect(lines.filter((l) => l.msg === 'delivery failed; trying again after a backoff')).to.deep.equal([]);
    expect(smtp.mails).to.deep.equal([]);
  });
});

describe('notifications e-mail to a plain relay, and to no server', function () {
  this.timeout(30_000);

  it('sends without TLS or login when the server offers neither and no user name is set', async () => {
    const smtp = await startSmtpReceiver();
    try {
      const { outcome } = await send({ SMTP_URI: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'oa@example.com', ...retry }, email('plain relay', ['ops@example.com'], 'Body.'));
      expect(outcome).to.deep.equal({ type: 'ack' });
      expect(smtp.mails).to.have.length(1);
      expect(smtp.mails[0]).to.deep.include({ from: 'oa@example.com', to: ['ops@example.com'], subject: 'plain relay', text: 'Body.', secure: false, user: undefined });
    } finally {
      await smtp.stop();
    }
  });

  it('retries a server that refuses connections, then dead-letters with the reason', async () => {
    const { outcome, lines } = await send({ SMTP_URI: '127.0.0.1', SMTP_PORT: String(await closedPort()), SMTP_FROM: 'oa@example.com', ...retry }, email('nobody listens', ['ops@example.com']));
    deadLetter(/gave up after 3 attempts: .*ECONNREFUSED/)(outcome);
    expect(lines.filter((l) => l.msg === 'delivery failed; trying again after a backoff')).to.have.length(2);
  });

  it('dead-letters e-mail when SMTP is not configured, saying so', async () => {
    deadLetter('e-mail is not configured (SMTP_URI is not set): not sent to ops@example.com')((await send({}, email('no smtp', ['ops@example.com']))).outcome);
  });
});
