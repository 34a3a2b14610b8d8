/**
 * The Message-ID header (RFC 5322 §3.6.4) of the e-mail a message asks for, made from the message's id: every copy of
 * one message (redelivered after a lost acknowledgement, published again after a lost confirm, sent again by a
 * restarted process) carries the same Message-ID, so a mail store or client that collapses duplicates shows one.
 * SMTP itself cannot promise one copy: a sender that stops after its final "." and before the server's reply cannot
 * know the mail was taken (RFC 1047). Characters a msg-id's dot-atom may not hold become `=` and two hex digits,
 * so different ids stay different.
 */
export function messageIdHeader(messageId: string, domain = 'openaperture'): string {
  const left = Array.from(new TextEncoder().encode(messageId), (byte) => {
    const c = String.fromCharCode(byte);
    return ATEXT.test(c) && c !== '=' ? c : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  return `<${left}@${domain}>`;
}

/** RFC 5322 atext (a dot is left out: encoding it keeps the dot-atom's dot rules out of the way). */
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/?^_`{|}~]$/;
