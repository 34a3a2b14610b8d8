import { expect } from 'chai';
import { bearerToken, hashSecret, tokenIssuer, verifySecret } from '../../http/auth.js';
import { sleep } from '../../runtime/core/promises.js';

describe('platform tokens', () => {
  it('verifies its own tokens, and refuses forged, foreign and expired ones', async () => {
    // A token of 2 s lives 1-2 s: its expiry is a whole second after the (whole) second it was issued in.
    const issuer = tokenIssuer({ secret: 'k'.repeat(40), ttlSeconds: 2 });
    const { access_token } = await issuer.issue({ subject: 'ci', role: 'operator', kind: 'client' });
    expect(await issuer.verify(access_token)).to.deep.equal({ subject: 'ci', role: 'operator', kind: 'client' });
    expect(await issuer.verify(`${access_token}x`)).to.equal(undefined);
    const other = tokenIssuer({ secret: 'o'.repeat(40), ttlSeconds: 60 });
    expect(await other.verify(access_token)).to.equal(undefined);
    await sleep(2_100);
    expect(await issuer.verify(access_token), 'expired').to.equal(undefined);
  });

  it('answers the same for tokens it remembers and tokens it had to forget', async () => {
    const issuer = tokenIssuer({ secret: 'k'.repeat(40), ttlSeconds: 60, cacheSize: 2 });
    const principals = (['viewer', 'operator', 'admin'] as const).map((role) => ({ subject: `c-${role}`, role, kind: 'client' as const }));
    const tokens = await Promise.all(principals.map(async (p) => (await issuer.issue(p)).access_token));
    for (let round = 0; round < 3; round++) {
      expect(await Promise.all(tokens.map((t) => issuer.verify(t))), `round ${round}`).to.deep.equal(principals);
    }
    const [header, payload, signature] = tokens[0]!.split('.');
    const forged = `${header}.${payload}.${signature![0] === 'A' ? 'B' : 'A'}${signature!.slice(1)}`;
    expect(await issuer.verify(forged), 'a forged signature of a remembered token').to.equal(undefined);
  });

  it('reads bearer headers in the forms the original took (reference §3.1)', () => {
    expect(bearerToken('Bearer abc')).to.equal('abc');
    expect(bearerToken('bearer access_token=abc')).to.equal('abc');
    expect(bearerToken('Basic abc')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
  });

  it('hashes client secrets with a salt and checks them in constant time', async () => {
    const a = hashSecret('s3cret');
    expect(a).to.not.equal(hashSecret('s3cret'));
    expect(await verifySecret('s3cret', a)).to.equal(true);
    expect(await verifySecret('wrong', a)).to.equal(false);
    expect(await verifySecret('s3cret', 'garbage')).to.equal(false);
  });
});
