import nodemailer from 'nodemailer';
import type { SmtpSettings } from './config.js';
import { smtpFailure, type SmtpErrorFacts } from './core/failures.js';
import { DeliveryFailed } from './errors.js';
import type { Mailer } from './ports.js';

/**
 * E-mail through nodemailer (design §2). Deliberate change from the original, which forced TLS and a login
 * (reference §9.3): TLS as the server offers it (STARTTLS whenever advertised, or TLS from the start on 465/smtps),
 * and a login only when SMTP_USERNAME is set, so a local relay without either works too.
 */
export function smtpMailer(settings: SmtpSettings, opts: { readonly timeoutMs: number }): Mailer {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.auth ? { auth: { user: settings.auth.user, pass: settings.auth.pass } } : {}),
    ...(settings.ca ? { tls: { ca: settings.ca } } : {}),
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  });
  const label = `SMTP ${settings.host}:${settings.port}`;
  return {
    label,
    async send(mail) {
      try {
        const info = await transport.sendMail({ from: settings.from, to: [...mail.to], subject: mail.subject, text: mail.text, messageId: mail.messageId });
        return { rejected: info.rejected.map((r) => (typeof r === 'string' ? r : r.address)) };
      } catch (err) {
        throw new DeliveryFailed(smtpFailure(smtpFactsOf(err)), { cause: err });
      }
    },
    close: () => transport.close(),
  };
}

/** nodemailer's errors carry `code` (EENVELOPE, ECONNECTION, ...) and, when the server answered, `responseCode`. */
function smtpFactsOf(err: unknown): SmtpErrorFacts {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const responseCode = 'responseCode' in err && typeof err.responseCode === 'number' ? err.responseCode : undefined;
  return { code, responseCode, message: err.message };
}
