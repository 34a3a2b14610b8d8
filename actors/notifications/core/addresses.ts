/**
 * Which e-mail addresses are worth handing to the SMTP server (reference §9.3: a simple pattern filters them; none
 * valid is an error). Deliberately simple: the server has the last word, this only stops obvious garbage such as
 * a group name that was never expanded, a name without a domain, or two addresses in one string.
 */

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;

export interface Recipients {
  /** Valid addresses, trimmed, each once (compared without case). */
  readonly valid: readonly string[];
  /** What was refused, as given. */
  readonly invalid: readonly string[];
}

export function partitionAddresses(given: readonly string[]): Recipients {
  const valid: string[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const raw of given) {
    const address = raw.trim();
    if (!ADDRESS.test(address)) {
      invalid.push(raw);
      continue;
    }
    const key = address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    valid.push(address);
  }
  return { valid, invalid };
}

/** The dead-letter reason of an e-mail with no valid recipient. */
export function noRecipientReason(recipients: Recipients): string {
  if (recipients.invalid.length === 0) return 'the e-mail has no recipients (notifications.email_addresses is empty)';
  return `the e-mail has no valid recipient; invalid: ${recipients.invalid.map((a) => JSON.stringify(a)).join(', ')}`;
}
