import { expect } from 'chai';
import { constants, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '../../runtime/config.js';
import {
  generateKeyPair,
  isSealed,
  isSecretCorrupt,
  isSecretKeyInvalid,
  isSecretKeyMismatch,
  keyNameOf,
  loadKeyPair,
  loadKeyRing,
  redact,
  secretsFromEnv,
  type KeyPairPem,
  type SecretBox,
} from '../../http/secrets.js';

type Pem = { publicKeyPem: string; privateKeyPem: string };

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(Error);
    return err as Error;
  }
  throw new Error('expected a throw');
}

/** A line of base64 from the middle of a PEM body: key material that must never appear in output. */
const materialOf = (pem: string): string => pem.split('\n')[5] ?? '';

/** Replaces the character at `index` with a different base64url character. */
const flipAt = (s: string, index: number): string => s.slice(0, index) + (s[index] === 'A' ? 'B' : 'A') + s.slice(index + 1);

function parts(sealed: string): { head: string; body: string[] } {
  const cut = sealed.lastIndexOf(':') + 1;
  return { head: sealed.slice(0, cut), body: sealed.slice(cut).split('.') };
}

describe('http/secrets', function () {
  let a: Pem;
  let b: Pem;
  let boxA: SecretBox;
  const withName = (pem: Pem, keyName: string): KeyPairPem => ({ ...pem, keyName });

  before(async function () {
    [a, b] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    boxA = loadKeyPair(withName(a, 'alpha'));
  });

  describe('seal and open', () => {
    const values: Array<[string, string]> = [
      ['ASCII', 'guest:guest@rabbit'],
      ['unicode', 'pässwörd 密码 🔑 e\u0301'],
      ['the empty string', ''],
      ['1 MB', 'x'.repeat(1024 * 1024 - 3) + 'end'],
    ];
    for (const [label, plaintext] of values) {
      it(`round-trips ${label}`, () => {
        const sealed = boxA.seal(plaintext);
        expect(sealed).to.not.equal(plaintext);
        expect(boxA.open(sealed)).to.equal(plaintext);
      });
    }

    it('stores something other than the input, different on every seal', () => {
      const one = boxA.seal('hunter2');
      const two = boxA.seal('hunter2');
      expect(one).to.not.include('hunter2');
      expect(one).to.not.equal(two);
      expect(boxA.open(one)).to.equal(boxA.open(two));
    });

    it('writes oa1:<keyName>:<wrapped>.<iv>.<tag>.<ciphertext>, which opens with the private key alone', () => {
      const sealed = boxA.seal('hunter2');
      expect(sealed.startsWith('oa1:alpha:')).to.equal(true);
      const [wrapped = Buffer.alloc(0), iv = Buffer.alloc(0), tag = Buffer.alloc(0), ciphertext = Buffer.alloc(0)] = parts(sealed).body.map((p) => Buffer.from(p, 'base64url'));
      expect([wrapped.length, iv.length, tag.length]).to.deep.equal([384, 12, 16]);
      const aesKey = privateDecrypt({ key: a.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
      const decipher = createDecipheriv('aes-256-gcm', aesKey, iv).setAAD(Buffer.from('oa1:alpha')).setAuthTag(tag);
      expect(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')).to.equal('hunter2');
    });

    it('tells sealed values from others and reads their key name', () => {
      const sealed = boxA.seal('x');
      expect([isSealed(sealed), boxA.isSealed(sealed), isSealed('x'), isSealed('oa1:alpha:'), isSealed(42)]).to.deep.equal([true, true, false, false, false]);
      expect([keyNameOf(sealed), keyNameOf('plain')]).to.deep.equal(['alpha', undefined]);
    });

    it('redacts anything to [secret]', () => {
      expect([redact('hunter2'), redact(''), redact(undefined)]).to.deep.equal(['[secret]', '[secret]', '[secret]']);
    });
  });

  describe('refusals', () => {
    it('refuses a value of another key name with SecretKeyMismatch naming the key it needs', () => {
      const boxB = loadKeyPair(withName(b, 'beta'));
      const err = thrown(() => boxB.open(boxA.seal('hunter2')));
      expect(isSecretKeyMismatch(err)).to.equal(true);
      expect(err).to.include({ name: 'SecretKeyMismatch', neededKeyName: 'alpha', retryable: false });
      expect(err.message).to.include('"alpha"').and.include('"beta"').and.not.include('hunter2');
    });

    it('refuses a value of another key under the same name with SecretCorrupt', () => {
      const impostor = loadKeyPair(withName(b, 'alpha'));
      const err = thrown(() => impostor.open(boxA.seal('hunter2')));
      expect(isSecretCorrupt(err)).to.equal(true);
      expect(err.message).to.not.include('hunter2');
    });

    const names = ['wrapped key', 'IV', 'auth tag', 'ciphertext'];
    for (const [index, name] of names.entries()) {
      it(`refuses a tampered ${name} with SecretCorrupt`, () => {
        const { head, body } = parts(boxA.seal('hunter2 is my password'));
        const part = body[index] ?? '';
        for (const at of [0, Math.floor(part.length / 2), part.length - 1]) {
          const tampered = head + body.map((p, i) => (i === index ? flipAt(p, at) : p)).join('.');
          const err = thrown(() => boxA.open(tampered));
          expect(err.name, `${name} at ${at}`).to.equal('SecretCorrupt');
          expect(err.message).to.not.include('hunter2');
        }
      });
    }

    it('refuses truncated, reshaped or foreign values with SecretCorrupt', () => {
      const sealed = boxA.seal('hunter2');
      const { head, body } = parts(sealed);
      const bad = [
        sealed.slice(0, -1),
        sealed.slice(0, sealed.length - 10),
        sealed.slice(0, head.length + 100),
        head + body.slice(0, 3).join('.'),
        head + [...body, 'AAAA'].join('.'),
        head + body.join('.').replace('.', '.=.'),
        sealed.replace('oa1:', 'oa2:'),
        sealed + '=',
        'hunter2',
        '',
      ];
      for (const value of bad) {
        const err = thrown(() => boxA.open(value));
        expect(err.name, value.slice(0, 40)).to.equal('SecretCorrupt');
        expect(err.message).to.not.include('hunter2');
      }
    });

    it('refuses a value relabelled to another held key: the key name is bound to the ciphertext', () => {
      const ring = loadKeyRing({ current: withName(b, 'beta'), retired: [withName(a, 'alpha')] });
      const err = thrown(() => ring.open(ring.seal('hunter2').replace('oa1:beta:', 'oa1:alpha:')));
      expect(err.name).to.equal('SecretCorrupt');
      expect(thrown(() => ring.open(ring.seal('x').replace('oa1:beta:', 'oa1:gamma:'))).name).to.equal('SecretKeyMismatch');
    });
  });

  describe('rotation', () => {
    it('opens values of retired keys, seals with the current one and says what needs resealing', () => {
      const old = boxA.seal('hunter2');
      const ring = loadKeyRing({ current: withName(b, 'beta'), retired: [{ keyName: 'alpha', privateKeyPem: a.privateKeyPem }] });
      expect([ring.keyName, ring.keyNames]).to.deep.equal(['beta', ['beta', 'alpha']]);
      expect(ring.open(old)).to.equal('hunter2');
      expect(ring.needsResealing(old)).to.equal(true);
      const resealed = ring.seal(ring.open(old));
      expect([keyNameOf(resealed), ring.needsResealing(resealed), ring.needsResealing('plain')]).to.deep.equal(['beta', false, false]);
      expect(thrown(() => boxA.open(resealed))).to.include({ name: 'SecretKeyMismatch', neededKeyName: 'beta' });
    });

    it('refuses a key name given twice', () => {
      const err = thrown(() => loadKeyRing({ current: withName(b, 'alpha'), retired: [withName(a, 'alpha')] }));
      expect(err).to.include({ name: 'SecretKeyInvalid', part: 'name' });
    });
  });

  describe('loadKeyPair', () => {
    it('accepts PKCS#1 PEM for both halves', () => {
      const publicKeyPem = createPublicKey(a.publicKeyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
      const privateKeyPem = createPrivateKey(a.privateKeyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
      expect(publicKeyPem).to.include('BEGIN RSA PUBLIC KEY');
      const box = loadKeyPair({ keyName: 'alpha', publicKeyPem, privateKeyPem });
      expect(box.open(boxA.seal('hunter2'))).to.equal('hunter2');
    });

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const refusals: Array<[string, () => KeyPairPem, string]> = [
      ['a mismatched pair', () => ({ keyName: 'k', publicKeyPem: a.publicKeyPem, privateKeyPem: b.privateKeyPem }), 'pair'],
      ['PEM that does not parse', () => ({ keyName: 'k', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----', privateKeyPem: a.privateKeyPem }), 'public'],
      ['a private key as the public key', () => ({ keyName: 'k', publicKeyPem: a.privateKeyPem, privateKeyPem: a.privateKeyPem }), 'public'],
      ['an EC key', () => ({ keyName: 'k', publicKeyPem: a.publicKeyPem, privateKeyPem: ec.privateKey }), 'private'],
      ['a bad key name', () => ({ keyName: 'has:colon', publicKeyPem: a.publicKeyPem, privateKeyPem: a.privateKeyPem }), 'name'],
    ];
    for (const [label, pair, part] of refusals) {
      it(`refuses ${label} with SecretKeyInvalid`, () => {
        const err = thrown(() => loadKeyPair(pair()));
        expect(isSecretKeyInvalid(err)).to.equal(true);
        expect(err).to.include({ part });
        expect(err.message).to.not.include(materialOf(a.privateKeyPem)).and.not.include(materialOf(b.privateKeyPem));
      });
    }

    it('refuses RSA keys under 2048 bits', () => {
      const small = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      const err = thrown(() => loadKeyPair({ keyName: 'k', publicKeyPem: small.publicKey, privateKeyPem: small.privateKey }));
      expect(err).to.include({ name: 'SecretKeyInvalid', part: 'public' });
    });

    it('generates 3072-bit key pairs as PEM', () => {
      expect(a.publicKeyPem).to.match(/^-----BEGIN PUBLIC KEY-----/);
      expect(a.privateKeyPem).to.match(/^-----BEGIN PRIVATE KEY-----/);
      expect(createPublicKey(a.publicKeyPem).asymmetricKeyDetails?.modulusLength).to.equal(3072);
    });

    it('shows no key material through JSON.stringify, util.inspect or String', () => {
      const ring = loadKeyRing({ current: withName(b, 'beta'), retired: [withName(a, 'alpha')] });
      expect(JSON.parse(JSON.stringify({ ring }))).to.deep.equal({ ring: { keyName: 'beta', keyNames: ['beta', 'alpha'] } });
      const shown = [inspect(ring, { showHidden: true, depth: Infinity }), JSON.stringify(ring), String(ring), inspect({ nested: ring })];
      for (const text of shown) {
        for (const pem of [a.privateKeyPem, a.publicKeyPem, b.privateKeyPem, b.publicKeyPem]) expect(text).to.not.include(materialOf(pem));
        expect(text).to.not.include('BEGIN');
      }
      expect(shown[0]).to.include('beta');
    });
  });

  describe('secretsFromEnv', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'oa-secrets-'));
      writeFileSync(join(dir, 'public.pem'), a.publicKeyPem);
      writeFileSync(join(dir, 'private.pem'), a.privateKeyPem, { mode: 0o600 });
      writeFileSync(join(dir, 'empty.pem'), 'not a key\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const problemsOf = (env: Record<string, string>): readonly string[] => {
      const err = thrown(() => secretsFromEnv(env));
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      for (const p of problems) expect(p).to.not.include(materialOf(a.privateKeyPem)).and.not.include(materialOf(b.privateKeyPem));
      return problems;
    };

    it('reads PEM files by path and PEM text, with the key name defaulting to "default"', () => {
      const fromFiles = secretsFromEnv({ MANAGER_MESSAGING_PUBLIC_KEY: join(dir, 'public.pem'), MANAGER_MESSAGING_PRIVATE_KEY: join(dir, 'private.pem') });
      expect(fromFiles.keyName).to.equal('default');
      const fromText = secretsFromEnv({ MANAGER_MESSAGING_PUBLIC_KEY: a.publicKeyPem, MANAGER_MESSAGING_PRIVATE_KEY: a.privateKeyPem, MANAGER_MESSAGING_KEYNAME: 'prod-2025' });
      expect(fromText.keyName).to.equal('prod-2025');
      expect(fromFiles.open(fromFiles.seal('hunter2'))).to.equal('hunter2');
    });

    it('accepts one-line PEM with literal \\n escapes, as env files carry it', () => {
      const oneLine = (pem: string): string => pem.replaceAll('\n', '\\n');
      const box = secretsFromEnv({ MANAGER_MESSAGING_PUBLIC_KEY: oneLine(a.publicKeyPem), MANAGER_MESSAGING_PRIVATE_KEY: oneLine(a.privateKeyPem) });
      expect(box.open(box.seal('x'))).to.equal('x');
    });

    it('names every missing variable', () => {
      expect(problemsOf({})).to.deep.equal([
        'MANAGER_MESSAGING_PUBLIC_KEY: not set (expected PEM text or the path of a PEM file)',
        'MANAGER_MESSAGING_PRIVATE_KEY: not set (expected PEM text or the path of a PEM file)',
      ]);
    });

    it('names the variable whose file cannot be read or holds no PEM', () => {
      const missing = join(dir, 'missing.pem');
      const problems = problemsOf({ MANAGER_MESSAGING_PUBLIC_KEY: missing, MANAGER_MESSAGING_PRIVATE_KEY: join(dir, 'empty.pem') });
      expect(problems).to.have.length(2);
      expect(problems[0]).to.equal(`MANAGER_MESSAGING_PUBLIC_KEY: not PEM text, and the file ${JSON.stringify(missing)} cannot be read (ENOENT)`);
      expect(problems[1]).to.match(/^MANAGER_MESSAGING_PRIVATE_KEY: the file ".*empty\.pem" holds no PEM text$/);
    });

    it('does not quote a value that may be mangled key material', () => {
      const body = a.privateKeyPem.replace(/-----[A-Z ]+-----/g, '').replaceAll('\n', '');
      const problems = problemsOf({ MANAGER_MESSAGING_PUBLIC_KEY: a.publicKeyPem, MANAGER_MESSAGING_PRIVATE_KEY: body });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^MANAGER_MESSAGING_PRIVATE_KEY: not PEM text, and the file cannot be read/);
    });

    it('names the variable of an invalid key, a mismatched pair or a bad key name', () => {
      const garbled = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
      expect(problemsOf({ MANAGER_MESSAGING_PUBLIC_KEY: a.publicKeyPem, MANAGER_MESSAGING_PRIVATE_KEY: garbled })[0]).to.match(/^MANAGER_MESSAGING_PRIVATE_KEY: not a readable PEM private key/);
      expect(problemsOf({ MANAGER_MESSAGING_PUBLIC_KEY: a.publicKeyPem, MANAGER_MESSAGING_PRIVATE_KEY: b.privateKeyPem })).to.deep.equal([
        'MANAGER_MESSAGING_PRIVATE_KEY: the private key does not match the public key in MANAGER_MESSAGING_PUBLIC_KEY',
      ]);
      expect(problemsOf({ MANAGER_MESSAGING_PUBLIC_KEY: a.publicKeyPem, MANAGER_MESSAGING_PRIVATE_KEY: a.privateKeyPem, MANAGER_MESSAGING_KEYNAME: 'a b' })[0]).to.match(/^MANAGER_MESSAGING_KEYNAME: /);
    });
  });
});
