/** Self-signed certificates made by the openssl CLI in a temp dir, for TLS suites. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface TestCertificate {
  /** PEM, one certificate. */
  readonly certificate: string;
  /** PEM, PKCS#8. */
  readonly privateKey: string;
}

const openssl = (args: readonly string[]) => promisify(execFile)('openssl', [...args]);
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A P-256 certificate for `names` (the first is the subject's CN, all are subjectAltName DNS names), valid `days`. */
export async function selfSigned(names: readonly [string, ...string[]], days = 2): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'oa-cert-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await openssl(['req', '-x509', ...P256, '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${names[0]}`, '-addext', sanOf(names)]);
    return { certificate: await readFile(cert, 'utf8'), privateKey: await readFile(key, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sanOf = (names: readonly string[]): string => `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`;

/** A leaf for `names` issued by a fresh self-signed CA: `certificate` is the chain, leaf then CA; `ca` the CA alone. */
export async function issuedByCa(names: readonly [string, ...string[]]): Promise<TestCertificate & { readonly ca: string; readonly leaf: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'oa-cert-'));
  const at = (name: string): string => join(dir, name);
  try {
    await openssl(['req', '-x509', ...P256, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=OpenAperture test CA']);
    await openssl(['req', '-new', ...P256, '-keyout', at('leaf.key'), '-out', at('leaf.csr'), '-subj', `/CN=${names[0]}`]);
    await writeFile(at('ext.cnf'), `${sanOf(names)}\n`);
    await openssl(['x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', at('ext.cnf'), '-out', at('leaf.pem')]);
    const [leaf, ca, privateKey] = await Promise.all(['leaf.pem', 'ca.pem', 'leaf.key'].map((f) => readFile(at(f), 'utf8')));
    return { certificate: `${leaf!}${ca!}`, privateKey: privateKey!, ca: ca!, leaf: leaf! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
