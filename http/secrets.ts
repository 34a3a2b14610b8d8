import { constants, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect, promisify } from 'node:util';
import { ConfigError } from '../runtime/config.js';

/*
 * Encryption at rest (design §2 "secrets at rest"). The original sealed broker passwords alone with RSA PKCS#1 v1.5
 * and never stored the key name (reference §2.1), and switched env-var encryption off (reference §2.3). We use envelope
 * encryption instead: a fresh AES-256-GCM key and 12-byte IV per value, the AES key wrapped with RSA-OAEP-SHA256, and
 * the key name inside the stored string, so a value says which key opens it and keys can be rotated.
 *
 * Stored form, one string for a text column (565 characters plus 4/3 of the UTF-8 plaintext with a 3072-bit key and the name "default"):
 *   oa1:<keyName>:<wrappedKey>.<iv>.<tag>.<ciphertext>        (each part base64url, no padding)
 * `oa1:<keyName>` is the GCM additional data, so a value moved to another key name does not open.
 */

const VERSION = 'oa1';
const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HEADER = /^oa1:([A-Za-z0-9._-]{1,64}):/;
const SEALED = /^oa1:[A-Za-z0-9._-]{1,64}:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const AES_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MIN_MODULUS_BITS = 2048;
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/** A stored value that cannot be opened: not in the sealed format, truncated, or tampered with. */
export class SecretCorrupt extends Error {
  override readonly name = 'SecretCorrupt';
  readonly retryable = false;
  constructor(reason: string, options?: ErrorOptions) {
    super(`sealed secret cannot be opened: ${reason}`, options);
  }
}
/** True for a `SecretCorrupt`, also after it crossed a process boundary (style R8). */
export const isSecretCorrupt = (e: unknown): e is SecretCorrupt => e instanceof Error && e.name === 'SecretCorrupt';

/** A stored value sealed under a key name this box does not hold; `neededKeyName` says which key would open it. */
export class SecretKeyMismatch extends Error {
  override readonly name = 'SecretKeyMismatch';
  readonly retryable = false;
  constructor(readonly neededKeyName: string, readonly heldKeyNames: readonly string[], options?: ErrorOptions) {
    super(`secret is sealed under key "${neededKeyName}", which is not loaded (loaded: ${heldKeyNames.map((n) => `"${n}"`).join(', ')})`, options);
  }
}
/** True for a `SecretKeyMismatch`, also after it crossed a process boundary. */
export const isSecretKeyMismatch = (e: unknown): e is SecretKeyMismatch => e instanceof Error && e.name === 'SecretKeyMismatch';

/** Which input of a key pair was refused. */
export type KeyPart = 'public' | 'private' | 'pair' | 'name';

/** A key that cannot be used: unparsable PEM, not RSA, too short, a bad key name, or halves that do not match. */
export class SecretKeyInvalid extends Error {
  override readonly name = 'SecretKeyInvalid';
  readonly retryable = false;
  constructor(readonly keyName: string, readonly part: KeyPart, readonly reason: string, options?: ErrorOptions) {
    super(`key "${keyName}" (${part}): ${reason}`, options);
  }
}
/** True for a `SecretKeyInvalid`, also after it crossed a process boundary. */
export const isSecretKeyInvalid = (e: unknown): e is SecretKeyInvalid => e instanceof Error && e.name === 'SecretKeyInvalid';

/** A key that can only open values (a retired key kept for reading old rows during rotation). */
export interface PrivateKeyPem {
  readonly keyName: string;
  readonly privateKeyPem: string;
}
/** PEM text of an RSA key pair (SPKI or PKCS#1 public, PKCS#8 or PKCS#1 private) and the name values record. */
export interface KeyPairPem extends PrivateKeyPem {
  readonly publicKeyPem: string;
}

/** Seals with the current key pair, opens with any held key. Never shows key material when logged or serialised. */
export interface SecretBox {
  /** Name of the key `seal` uses (MANAGER_MESSAGING_KEYNAME). */
  readonly keyName: string;
  /** Names of every key `open` accepts, current first. */
  readonly keyNames: readonly string[];
  seal(plaintext: string): string;
  /** Throws `SecretKeyMismatch` for a value of a key not held, `SecretCorrupt` for anything unreadable. */
  open(sealed: string): string;
  isSealed(value: unknown): value is string;
  /** True when `value` is sealed under a key other than the current one (rotation); false for anything else. */
  needsResealing(value: unknown): boolean;
}

/** True when `value` has the shape of a sealed value (checks the format only, not the key or the tag). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && SEALED.test(value);
}

/** The key name recorded in a sealed value, or undefined when `value` is not one; fills columns like `password_keyname`. */
export function keyNameOf(value: unknown): string | undefined {
  return isSealed(value) ? HEADER.exec(value)?.[1] : undefined;
}

/** What to log in place of a secret. */
export function redact(_value: unknown): '[secret]' {
  return '[secret]';
}

/** A fresh RSA key pair as PEM (SPKI public, PKCS#8 private): the embedded default's first start, and tests. */
export async function generateKeyPair(options: { modulusBits?: number } = {}): Promise<{ publicKeyPem: string; privateKeyPem: string }> {
  const { publicKey, privateKey } = await promisify(generateKeyPairCallback)('rsa', {
    modulusLength: options.modulusBits ?? 3072,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** A box for one key pair; the pair is checked by sealing and opening a probe value. */
export function loadKeyPair(pair: KeyPairPem): SecretBox {
  return loadKeyRing({ current: pair, retired: [] });
}

/** A box that seals with `current` and also opens values of the `retired` keys (key rotation). */
export function loadKeyRing(keys: { current: KeyPairPem; retired: readonly PrivateKeyPem[] }): SecretBox {
  const names = [keys.current.keyName, ...keys.retired.map((k) => k.keyName)];
  for (const [i, name] of names.entries()) {
    if (!KEY_NAME.test(name)) throw new SecretKeyInvalid(name, 'name', 'expected 1-64 characters of A-Z a-z 0-9 . _ -');
    if (names.indexOf(name) !== i) throw new SecretKeyInvalid(name, 'name', 'the same key name is given twice');
  }
  const publicKey = parseKey(keys.current.keyName, 'public', keys.current.publicKeyPem);
  const held = new Map([keys.current, ...keys.retired].map((k) => [k.keyName, parseKey(k.keyName, 'private', k.privateKeyPem)] as const));
  const box = new KeyRing(keys.current.keyName, publicKey, held);
  const probe = randomBytes(16).toString('hex');
  try {
    if (box.open(box.seal(probe)) === probe) return box;
  } catch (err) {
    throw new SecretKeyInvalid(keys.current.keyName, 'pair', 'the private key does not match the public key', { cause: err });
  }
  throw new SecretKeyInvalid(keys.current.keyName, 'pair', 'the private key does not match the public key');
}

function parseKey(keyName: string, part: 'public' | 'private', pem: string): KeyObject {
  // createPublicKey also derives a public key from private PEM text; a private key in the public slot is a mistake.
  if (part === 'public' && pem.includes('PRIVATE KEY-----')) throw new SecretKeyInvalid(keyName, part, 'expected a public key, got a private key');
  let key: KeyObject;
  try {
    key = part === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
  } catch (err) {
    const formats = part === 'public' ? 'SPKI or PKCS#1' : 'unencrypted PKCS#8 or PKCS#1';
    throw new SecretKeyInvalid(keyName, part, `not a readable PEM ${part} key (${formats})`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new SecretKeyInvalid(keyName, part, `expected an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) throw new SecretKeyInvalid(keyName, part, `expected at least ${MIN_MODULUS_BITS} bits, got ${bits}`);
  return key;
}

class KeyRing implements SecretBox {
  // Private fields: not enumerable, not reachable by JSON.stringify or util.inspect.
  readonly #publicKey: KeyObject;
  readonly #held: ReadonlyMap<string, KeyObject>;
  readonly #keyName: string;

  constructor(keyName: string, publicKey: KeyObject, held: ReadonlyMap<string, KeyObject>) {
    this.#keyName = keyName;
    this.#publicKey = publicKey;
    this.#held = held;
  }

  get keyName(): string {
    return this.#keyName;
  }

  get keyNames(): readonly string[] {
    return [...this.#held.keys()];
  }

  seal(plaintext: string): string {
    const aesKey = randomBytes(AES_KEY_BYTES);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${VERSION}:${this.#keyName}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const wrapped = publicEncrypt({ key: this.#publicKey, ...OAEP }, aesKey);
    const parts = [wrapped, iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return `${VERSION}:${this.#keyName}:${parts.join('.')}`;
  }

  open(sealed: string): string {
    if (typeof sealed !== 'string') throw new SecretCorrupt(`expected a string, got ${typeof sealed}`);
    const keyName = HEADER.exec(sealed)?.[1];
    if (keyName === undefined) throw new SecretCorrupt(`not a ${VERSION} sealed value`);
    const privateKey = this.#held.get(keyName);
    if (privateKey === undefined) throw new SecretKeyMismatch(keyName, this.keyNames);
    if (!SEALED.test(sealed)) throw new SecretCorrupt('malformed or truncated');
    const [wrappedText = '', ivText = '', tagText = '', ciphertextText = ''] = sealed.slice(sealed.lastIndexOf(':') + 1).split('.');
    const modulusBytes = (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const wrapped = decodePart('wrapped key', wrappedText, modulusBytes);
    const iv = decodePart('IV', ivText, IV_BYTES);
    const tag = decodePart('auth tag', tagText, TAG_BYTES);
    const ciphertext = decodePart('ciphertext', ciphertextText);
    let aesKey: Buffer;
    try {
      aesKey = privateDecrypt({ key: privateKey, ...OAEP }, wrapped);
    } catch (err) {
      throw new SecretCorrupt(`the wrapped key does not unwrap with key "${keyName}"`, { cause: err });
    }
    if (aesKey.length !== AES_KEY_BYTES) throw new SecretCorrupt('the wrapped key has the wrong length');
    try {
      const decipher = createDecipheriv('aes-256-gcm', aesKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}:${keyName}`));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretCorrupt('authentication failed (tampered or truncated)', { cause: err });
    }
  }

  isSealed(value: unknown): value is string {
    return isSealed(value);
  }

  needsResealing(value: unknown): boolean {
    const name = keyNameOf(value);
    return name !== undefined && name !== this.#keyName;
  }

  toJSON(): { keyName: string; keyNames: readonly string[] } {
    return { keyName: this.keyName, keyNames: this.keyNames };
  }

  [inspect.custom](): string {
    return `SecretBox ${inspect(this.toJSON())}`;
  }
}

/** Decodes one base64url part strictly: Buffer.from skips stray characters, so only a canonical encoding is accepted. */
function decodePart(what: string, text: string, expectedBytes?: number): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new SecretCorrupt(`the ${what} is not canonical base64url`);
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) throw new SecretCorrupt(`the ${what} has ${bytes.length} bytes, expected ${expectedBytes}`);
  return bytes;
}

const VARIABLE: Record<KeyPart, string> = {
  public: 'MANAGER_MESSAGING_PUBLIC_KEY',
  private: 'MANAGER_MESSAGING_PRIVATE_KEY',
  pair: 'MANAGER_MESSAGING_PRIVATE_KEY',
  name: 'MANAGER_MESSAGING_KEYNAME',
};

/** The box configured by MANAGER_MESSAGING_PUBLIC_KEY / _PRIVATE_KEY (PEM text or a PEM file path) and _KEYNAME. */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): SecretBox {
  const problems: string[] = [];
  const keyName = env['MANAGER_MESSAGING_KEYNAME'] || 'default';
  const publicKeyPem = readPem(VARIABLE.public, env[VARIABLE.public], problems);
  const privateKeyPem = readPem(VARIABLE.private, env[VARIABLE.private], problems);
  if (publicKeyPem === undefined || privateKeyPem === undefined) throw new ConfigError(problems);
  try {
    return loadKeyPair({ keyName, publicKeyPem, privateKeyPem });
  } catch (err) {
    if (!isSecretKeyInvalid(err)) throw err;
    const reason = err.part === 'pair' ? `${err.reason} in ${VARIABLE.public}` : err.reason;
    throw Object.assign(new ConfigError([`${VARIABLE[err.part]}: ${reason}`]), { cause: err });
  }
}

/** PEM text as given, or read from the path given; problems never quote the value, which may be key material. */
function readPem(variable: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined || value.trim() === '') {
    problems.push(`${variable}: not set (expected PEM text or the path of a PEM file)`);
    return undefined;
  }
  // Env files often carry PEM on one line with literal "\n" escapes.
  if (value.trimStart().startsWith('-----BEGIN')) return value.includes('\n') ? value : value.replaceAll('\\n', '\n');
  // A short single line is a path and safe to quote; anything else may be mangled key material.
  const shown = value.length <= 255 && !/\s/.test(value) ? ` ${JSON.stringify(value)}` : '';
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    problems.push(`${variable}: not PEM text, and the file${shown} cannot be read (${code})`);
    return undefined;
  }
  if (!text.includes('-----BEGIN')) {
    problems.push(`${variable}: the file${shown} holds no PEM text`);
    return undefined;
  }
  return text;
}
