import { expect } from 'chai';
import { bearerToken, hashSecret, tokenIssuer, verifySecret } from '../../http/auth.js';
import { sleep } from '../../runtime/core/promises.js';

describe('platform tokens', () => {
  it('verifies its own tokens, and refuses forged, foreign and expired ones', async () => {
    const issuer = tokenIssuer({ secret: 'k'.repeat(40), ttlSeconds: 1 });
    const { access_token } = await issuer.issue({ subject: 'ci', role: 'operator', kind: 'client' });
    expect(await issuer.verify(access_token)).to.deep.equal({ subject: 'ci', role: 'operator', kind: 'client' });
    expect(await issuer.verify(`${access_token}x`)).to.equal(undefined);
    const other = tokenIssuer({ secret: 'o'.repeat(40), ttlSeconds: 60 });
    expect(await other.verify(access_token)).to.equal(undefined);
    await sleep(2_100);
    expect(await issuer.verify(access_token), 'expired').to.equal(undefined);
  });

  it('reads bearer headers in the forms the original took (reference §3.1)', () => {
    expect(bearerToken('Bearer abc')).to.equal('abc');
    expect(bearerToken('bearer access_token=abc')).to.equal('abc');
    expect(bearerToken('Basic abc')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
  });

  it('hashes client secrets with a salt and checks them in constant time', () => {
    const a = hashSecret('s3cret');
    expect(a).to.not.equal(hashSecret('s3cret'));
    expect(verifySecret('s3cret', a)).to.equal(true);
    expect(verifySecret('wrong', a)).to.equal(false);
    expect(verifySecret('s3cret', 'garbage')).to.equal(false);
  });
});
