/**
 * An authority's certificate checked before it is stored (issue 15 item 3): the chain parses, the key opens and
 * belongs to the leaf, the leaf covers the authority's hostname and is valid now. Each refusal names its field, so
 * an operator learns which of the two files to fix. Pure: the clock comes in as `nowMs`.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

/** What `GET /router/authorities/:id/certificate` shows of a certificate: never the key. */
export interface CertificateMetadata {
  readonly subject: string;
  readonly issuer: string;
  /** DNS names of the subjectAltName extension, in its order. */
  readonly names: readonly string[];
  readonly not_before: string;
  readonly not_after: string;
  /** SHA-256 of the leaf's DER, colon-separated hex as openssl prints it. */
  readonly fingerprint_sha256: string;
  /** How many certificates the chain holds, the leaf included. */
  readonly chain_length: number;
}

/** A refused input, named as the route's body names it. */
export interface CertificateProblem {
  readonly field: 'certificate' | 'private_key';
  readonly message: string;
}

export type CertificateCheck =
  | { readonly ok: true; readonly metadata: CertificateMetadata }
  | { readonly ok: false; readonly problems: readonly CertificateProblem[] };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

const refused = (field: 'certificate' | 'private_key', message: string): CertificateCheck => ({ ok: false, problems: [{ field, message: `${field}: ${message}` }] });

type Chain = readonly [X509Certificate, ...X509Certificate[]];

/** The certificates of a PEM chain, leaf first; or what is wrong with it. */
function parseChain(pem: string): Chain | string {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (pem.replace(PEM_CERTIFICATE, '').trim() !== '') return 'expected only CERTIFICATE blocks (the private key goes in private_key)';
  const chain: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(block));
    } catch {
      return `certificate ${i + 1} of the chain is not a readable X.509 certificate`;
    }
  }
  const [leaf, ...issuers] = chain;
  return leaf === undefined ? 'expected PEM text with at least one CERTIFICATE block' : [leaf, ...issuers];
}

function parseKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

const dnsNamesOf = (leaf: X509Certificate): string[] =>
  (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));

/** The metadata of a stored (already checked) chain. */
export function certificateMetadataOf(pem: string): CertificateMetadata {
  const chain = parseChain(pem);
  if (typeof chain === 'string') throw new TypeError(`stored certificate does not parse: ${chain}`);
  const [leaf] = chain;
  return {
    subject: leaf.subject.replaceAll('\n', ', '),
    issuer: leaf.issuer.replaceAll('\n', ', '),
    names: dnsNamesOf(leaf),
    not_before: new Date(leaf.validFrom).toISOString(),
    not_after: new Date(leaf.validTo).toISOString(),
    fingerprint_sha256: leaf.fingerprint256,
    chain_length: chain.length,
  };
}

/**
 * How far in the future a certificate's not_before may lie: a certificate issued a moment ago by a CA whose clock runs
 * a little ahead is taken (clients' clocks differ by as much anyway).
 */
const NOT_BEFORE_SKEW_MS = 5 * 60_000;

/** Checks a certificate chain and key for an authority's hostname at `nowMs`. */
export function checkCertificate(input: { certificate: string; privateKey: string; hostname: string; nowMs: number }): CertificateCheck {
  const chain = parseChain(input.certificate);
  if (typeof chain === 'string') return refused('certificate', chain);
  const [leaf] = chain;
  for (let i = 1; i < chain.length; i += 1) {
    if (!chain[i - 1]!.checkIssued(chain[i]!)) return refused('certificate', `certificate ${i + 1} of the chain did not issue certificate ${i} (expected the leaf first, then each issuer)`);
  }
  const key = parseKey(input.privateKey);
  if (key === undefined) return refused('private_key', 'not a readable unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)');
  if (!leaf.checkPrivateKey(key)) return refused('private_key', 'does not match the certificate (the first certificate of the chain)');
  const metadata = certificateMetadataOf(input.certificate);
  if (leaf.checkHost(input.hostname) === undefined) {
    return refused('certificate', `does not cover the authority's hostname ${input.hostname} (subject ${metadata.subject}; names: ${metadata.names.join(', ') || 'none'})`);
  }
  if (Date.parse(metadata.not_after) <= input.nowMs) return refused('certificate', `expired at ${metadata.not_after}`);
  if (Date.parse(metadata.not_before) > input.nowMs + NOT_BEFORE_SKEW_MS) return refused('certificate', `not valid before ${metadata.not_before}`);
  return { ok: true, metadata };
}
