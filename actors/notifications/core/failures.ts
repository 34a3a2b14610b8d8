/**
 * Which delivery failures are worth another attempt. Transient: the service is unreachable, overloaded or asks to
 * try later (connection refused, timeouts, HTTP 5xx and 429, SMTP 4xx). Permanent: the service understood and said
 * no (SMTP 5xx, other HTTP 4xx, a room nobody configured); retrying would only delay the dead letter.
 */

export interface Failure {
  readonly permanent: boolean;
  readonly reason: string;
}

/** What a nodemailer error carries: `code` (EENVELOPE, ECONNECTION, ...) and the server's reply code, if any. */
export interface SmtpErrorFacts {
  readonly code?: string | undefined;
  readonly responseCode?: number | undefined;
  readonly message: string;
}

/** Errors of the client's own making that no retry cures: a refused login, a certificate the client does not trust. */
const PERMANENT_SMTP_CODES = new Set(['EAUTH', 'ETLS', 'ENOAUTH', 'EENVELOPE']);
const UNTRUSTED_CERTIFICATE = /certificate|altnames/i;

export function smtpFailure(facts: SmtpErrorFacts): Failure {
  const { responseCode, code, message } = facts;
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) return { permanent: responseCode >= 500, reason: message };
  // EENVELOPE without a reply code means the envelope was refused before sending (no valid sender or recipient).
  if (code !== undefined && PERMANENT_SMTP_CODES.has(code)) return { permanent: true, reason: message };
  // nodemailer reports a failed certificate check as ESOCKET, with Node's own code overwritten: only the text says so.
  return { permanent: UNTRUSTED_CERTIFICATE.test(message), reason: message };
}

/** An HTTP answer that is not the expected one, from `what` (e.g. `the webhook of room Ops`). */
export function httpFailure(status: number, what: string, expected = '2xx'): Failure {
  const transient = status >= 500 || status === 429 || status === 408;
  return { permanent: !transient, reason: `${what} answered HTTP ${status} (expected ${expected})` };
}

/** No answer at all from `what`: refused, reset, timed out. */
export function unreachable(what: string, cause: string): Failure {
  return { permanent: false, reason: `cannot reach ${what}: ${cause}` };
}
