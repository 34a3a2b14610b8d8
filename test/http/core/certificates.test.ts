import { expect } from 'chai';
import { checkCertificate, type CertificateCheck } from '../../../http/core/certificates.js';
import { issuedByCa, selfSigned, type TestCertificate } from '../../helpers/certificates.js';

const DAY_MS = 86_400_000;
const fieldOf = (check: CertificateCheck): string | undefined => (check.ok ? undefined : check.problems[0]?.field);
const messageOf = (check: CertificateCheck): string => (check.ok ? '' : (check.problems[0]?.message ?? ''));

describe('checkCertificate', function () {
  this.timeout(20_000);
  let app: TestCertificate;
  let other: TestCertificate;
  let chained: Awaited<ReturnType<typeof issuedByCa>>;
  // Read once the certificates exist: a clock read when the file loads may be older than their not_before.
  let now: number;
  before(async () => {
    [app, other, chained] = await Promise.all([selfSigned(['app.test', 'www.app.test']), selfSigned(['other.test']), issuedByCa(['api.test'])]);
    now = Date.now();
  });
  const check = (over: Partial<{ certificate: string; privateKey: string; hostname: string; nowMs: number }> = {}) =>
    checkCertificate({ certificate: app.certificate, privateKey: app.privateKey, hostname: 'app.test', nowMs: now, ...over });

  it('takes a matching pair that covers the hostname, and reads its metadata', () => {
    const result = check({ hostname: 'www.app.test' });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.metadata).to.include({ subject: 'CN=app.test', chain_length: 1 });
    expect(result.metadata.names).to.deep.equal(['app.test', 'www.app.test']);
    expect(result.metadata.fingerprint_sha256).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(Date.parse(result.metadata.not_after) - Date.parse(result.metadata.not_before)).to.equal(2 * DAY_MS);
    expect(check({ nowMs: now - 60_000 }), 'a not_before a minute ahead of this clock (an issuer running ahead)').to.include({ ok: true });
  });

  it('takes a chain leaf first, and refuses it issuer first', () => {
    expect(checkCertificate({ certificate: chained.certificate, privateKey: chained.privateKey, hostname: 'api.test', nowMs: now })).to.include({ ok: true });
    const reversed = checkCertificate({ certificate: `${chained.ca}${chained.leaf}`, privateKey: chained.privateKey, hostname: 'api.test', nowMs: now });
    expect([fieldOf(reversed), messageOf(reversed)]).to.deep.equal(['certificate', 'certificate: certificate 2 of the chain did not issue certificate 1 (expected the leaf first, then each issuer)']);
  });

  const refusals: Array<[string, () => CertificateCheck, string, RegExp]> = [
    ['text that is no PEM', () => check({ certificate: 'hello' }), 'certificate', /CERTIFICATE blocks/],
    ['a key in the certificate field', () => check({ certificate: `${app.certificate}${app.privateKey}` }), 'certificate', /only CERTIFICATE blocks/],
    ['a damaged certificate', () => check({ certificate: app.certificate.split('\n').filter((_, i) => i !== 2).join('\n') }), 'certificate', /not a readable X\.509/],
    ['a key that is no PEM', () => check({ privateKey: 'secret' }), 'private_key', /not a readable unencrypted PEM private key/],
    ['the key of another certificate', () => check({ privateKey: other.privateKey }), 'private_key', /does not match the certificate/],
    ['a hostname the certificate does not name', () => check({ hostname: 'shop.test' }), 'certificate', /does not cover the authority's hostname shop\.test \(subject CN=app\.test; names: app\.test, www\.app\.test\)/],
    ['an expired certificate', () => check({ nowMs: now + 3 * DAY_MS }), 'certificate', /^certificate: expired at \d{4}-/],
    ['a certificate not valid yet', () => check({ nowMs: now - DAY_MS }), 'certificate', /^certificate: not valid before \d{4}-/],
  ];
  for (const [what, run, field, message] of refusals) {
    it(`refuses ${what}, naming ${field}`, () => {
      const result = run();
      expect(fieldOf(result)).to.equal(field);
      expect(messageOf(result)).to.match(message);
    });
  }
});
