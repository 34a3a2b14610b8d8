import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

/** Real receivers for the Notifications tests: an SMTP server (smtp-server) and an HTTP server, on 127.0.0.1. */

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly messageId: string;
  readonly contentType: string;
  readonly text: string;
  /** True when the session had switched to TLS (STARTTLS) before the message. */
  readonly secure: boolean;
  readonly user: unknown;
}

/** An SMTP reply the test wants the server to give, e.g. `{ code: 550, message: 'no such user' }`. */
export interface SmtpRefusal {
  readonly code: number;
  readonly message: string;
}

export interface SmtpReceiverOptions {
  /** STARTTLS with this certificate; without it the server offers no TLS. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** A login is required (over TLS) with these credentials; without it the server offers no AUTH. */
  readonly login?: { readonly user: string; readonly pass: string };
  /** Called at each RCPT TO with how many times this address was tried; a refusal answers it. */
  readonly rcpt?: (address: string, attempt: number) => SmtpRefusal | undefined;
  /** Called once the message arrived; a refusal answers the DATA. */
  readonly data?: (mail: ReceivedMail) => SmtpRefusal | undefined;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** RCPT TO attempts per address. */
  readonly rcptAttempts: Map<string, number>;
  stop(): Promise<void>;
}

const refusal = (r: SmtpRefusal): Error => Object.assign(new Error(r.message), { responseCode: r.code });

function parseMail(raw: string, session: SMTPServerSession): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const header = (name: string): string => new RegExp(`^${name}: (.*)$`, 'mi').exec(headers)?.[1] ?? '';
  const envelope = session.envelope;
  return {
    from: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
    to: envelope.rcptTo.map((r: SMTPServerAddress) => r.address),
    subject: header('Subject'),
    messageId: header('Message-ID'),
    contentType: header('Content-Type'),
    text: raw.slice(split + 4).replace(/\r\n$/, ''),
    secure: session.secure,
    user: session.user,
  };
}

export async function startSmtpReceiver(opts: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const rcptAttempts = new Map<string, number>();
  const server = new SMTPServer({
    secure: false,
    logger: false,
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    disabledCommands: [...(opts.tls ? [] : ['STARTTLS']), ...(opts.login ? [] : ['AUTH'])],
    authOptional: opts.login === undefined,
    onAuth(auth, _session, callback) {
      const ok = auth.username === opts.login?.user && auth.password === opts.login?.pass;
      callback(ok ? null : refusal({ code: 535, message: 'bad credentials' }), ok ? { user: auth.username } : undefined);
    },
    onRcptTo(address, _session, callback) {
      const attempt = (rcptAttempts.get(address.address) ?? 0) + 1;
      rcptAttempts.set(address.address, attempt);
      const refused = opts.rcpt?.(address.address, attempt);
      callback(refused ? refusal(refused) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mail = parseMail(Buffer.concat(chunks).toString('utf8'), session);
        const refused = opts.data?.(mail);
        if (!refused) mails.push(mail);
        callback(refused ? refusal(refused) : null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, rcptAttempts, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A certificate for 127.0.0.1 from openssl, and its key; the certificate doubles as the CA a client trusts. */
export function selfSignedCertificate(): { key: string; cert: string; certFile: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'oa-notify-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly contentType: string;
  readonly body: unknown;
}

export interface HttpReceiver {
  readonly url: string;
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** An HTTP server answering each request with `respond`'s status and JSON body (none for 204). */
export async function startHttpReceiver(respond: (req: RecordedRequest, count: number) => { status: number; body?: unknown } = () => ({ status: 200, body: 'ok' })): Promise<HttpReceiver> {
  const requests: RecordedRequest[] = [];
  const read = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  const server = createServer((req, res) => {
    read(req).then(
      (body) => {
        const recorded = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body };
        requests.push(recorded);
        const answer = respond(recorded, requests.length);
        res.writeHead(answer.status, answer.body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { closedPort } from '../../helpers/ports.js';
