import { expect } from 'chai';
import { bootstrapOptions, databaseChoice, describeDatabase, embeddedSecrets } from '../../../cli/core/platform.js';
import { credentialsOf, parseCredentials, usableToken } from '../../../cli/core/credentials.js';
import { errorText, CliError } from '../../../cli/core/errors.js';
import { authoritySpec, labels, managerUrl, milestoneList, unitsNamed, wholeNumber } from '../../../cli/core/inputs.js';
import { formatFields, formatTable } from '../../../cli/core/table.js';
import { ManagerApiError, ManagerResponseError } from '../../../http/client/errors.js';

/** The message of what `f` throws. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('cli/core inputs', () => {
  it('managerUrl', () => {
    expect(managerUrl('http://127.0.0.1:4000/')).to.equal('http://127.0.0.1:4000');
    expect(managerUrl('https://oa.example/api//')).to.equal('https://oa.example/api');
    expect(refusal(() => managerUrl('nope'))).to.equal('--url: expected an http(s) URL such as http://127.0.0.1:4000 (got "nope")');
    expect(refusal(() => managerUrl('ftp://x', 'MANAGER_URL'))).to.equal('MANAGER_URL: expected an http(s) URL (got "ftp://x")');
  });

  const known = ['config', 'build', 'deploy'];
  const milestoneCases: Array<[string, string[] | string]> = [
    ['build,deploy', ['build', 'deploy']],
    [' build , deploy ,', ['build', 'deploy']],
    ['', '--milestones: name at least one milestone'],
    ['build,bild', '--milestones: unknown milestone "bild" (known: config, build, deploy)'],
  ];
  for (const [text, want] of milestoneCases) {
    it(`milestoneList ${JSON.stringify(text)}`, () => {
      if (typeof want === 'string') expect(refusal(() => milestoneList(text, known))).to.equal(want);
      else expect(milestoneList(text, known)).to.deep.equal(want);
    });
  }

  it('authoritySpec', () => {
    expect(authoritySpec('shop.example.com:8080')).to.deep.equal({ hostname: 'shop.example.com', port: 8080 });
    for (const bad of ['shop.example.com', 'shop:0', 'shop:70000', ':80', 'a b:80', 'http://shop:80']) {
      expect(refusal(() => authoritySpec(bad)), bad).to.equal(`<authority>: expected hostname:port such as shop.example.com:80 (got ${JSON.stringify(bad)})`);
    }
  });

  it('wholeNumber', () => {
    expect(wholeNumber('48', '--lookback', 0)).to.equal(48);
    expect(refusal(() => wholeNumber('soon', '--lookback', 0))).to.equal('--lookback: expected a whole number (got "soon")');
    expect(refusal(() => wholeNumber('0', '--poll', 1, 600))).to.equal('--poll: expected 1..600 (got 0)');
  });

  it('labels', () => {
    expect(labels(['zone=a', 'role=web=1'])).to.deep.equal({ zone: 'a', role: 'web=1' });
    expect(refusal(() => labels(['=a']))).to.equal('--label: expected key=value (got "=a")');
  });

  it('unitsNamed: the exact unit, else every instance of it', () => {
    const units = [{ name: 'hello@1.service' }, { name: 'hello@2.service' }, { name: 'hello-api@1.service' }, { name: 'db.service' }];
    expect(unitsNamed(units, 'hello@2.service').map((u) => u.name)).to.deep.equal(['hello@2.service']);
    expect(unitsNamed(units, 'hello').map((u) => u.name)).to.deep.equal(['hello@1.service', 'hello@2.service']);
    expect(unitsNamed(units, 'db').map((u) => u.name)).to.deep.equal(['db.service']);
    expect(unitsNamed(units, 'nope')).to.deep.equal([]);
  });
});

describe('cli/core credentials', () => {
  const now = new Date('2025-01-01T00:00:00.000Z');
  const stored = credentialsOf('http://127.0.0.1:4000', 'admin', { access_token: 'tok', expires_in: 3_600 }, now);

  it('expires expires_in seconds after the login', () => expect(stored.expires_at).to.equal('2025-01-01T01:00:00.000Z'));
  it('a token before its expiry is used', () => expect(usableToken(stored, new Date('2025-01-01T00:59:59Z'))).to.equal('tok'));
  it('an expired token says to log in again', () =>
    expect(refusal(() => usableToken(stored, new Date('2025-01-01T01:00:00Z')))).to.match(/^the token stored for http:\/\/127\.0\.0\.1:4000 expired at 2025-01-01T01:00:00\.000Z; log in again: openaperture login/));
  it('round-trips through the file text', () => expect(parseCredentials(JSON.stringify(stored), '/f')).to.deep.equal(stored));
  it('a file that is not JSON', () => expect(refusal(() => parseCredentials('{', '/f'))).to.match(/^\/f is not JSON; log in again/));
  it('a file missing a field names it', () => expect(refusal(() => parseCredentials(JSON.stringify({ ...stored, token: '' }), '/f'))).to.match(/^\/f: token is missing or invalid/));
});

describe('cli/core platform', () => {
  const cases: Array<[Record<string, string>, unknown]> = [
    [{}, { kind: 'pglite', dataDir: '.data/manager/db' }],
    [{ OA_DATA_DIR: '/srv/oa' }, { kind: 'pglite', dataDir: '/srv/oa/manager/db' }],
    [{ MANAGER_DATA_DIR: '/db' }, { kind: 'pglite', dataDir: '/db' }],
    [{ MANAGER_DATABASE_URL: 'postgres://u:p@h/db' }, { kind: 'postgresql', url: 'postgres://u:p@h/db' }],
    [{ MANAGER_DATABASE_URL: 'mysql://h' }, { problem: 'MANAGER_DATABASE_URL: expected a postgres:// or postgresql:// URL' }],
    [{ MANAGER_DATABASE_URL: 'postgres://h/db', MANAGER_DATA_DIR: '/db' }, { problem: 'MANAGER_DATA_DIR: set either MANAGER_DATABASE_URL or MANAGER_DATA_DIR, not both' }],
    [{ MANAGER_DATABASE_URL: ' ', MANAGER_DATA_DIR: '/db' }, { kind: 'pglite', dataDir: '/db' }],
  ];
  for (const [env, want] of cases) it(`databaseChoice ${JSON.stringify(env)}`, () => expect(databaseChoice(env)).to.deep.equal(want));

  it('describeDatabase hides the password', () => {
    expect(describeDatabase({ kind: 'postgresql', url: 'postgres://u:secret@h:5432/db' })).to.equal('PostgreSQL postgres://u:***@h:5432/db');
    expect(describeDatabase({ kind: 'pglite', dataDir: '/d' })).to.equal('embedded PGlite at /d');
  });

  it('embeddedSecrets: unless the operator gave a key pair', () => {
    expect(embeddedSecrets({})).to.equal(true);
    expect(embeddedSecrets({ MANAGER_MESSAGING_PRIVATE_KEY: '/keys/private.pem' })).to.equal(false);
  });

  it('bootstrapOptions: flags win over the environment; unset ones are left to bootstrap', () => {
    expect(bootstrapOptions({ AMQP_URL: 'amqp://a', DOCKER_HOST: 'unix:///d.sock' }, {})).to.deep.equal({ amqpUrl: 'amqp://a', dockerUrl: 'unix:///d.sock' });
    expect(bootstrapOptions({ AMQP_URL: 'amqp://a' }, { amqpUrl: 'amqp://b', etcdToken: 't' })).to.deep.equal({ amqpUrl: 'amqp://b', etcdToken: 't' });
    expect(bootstrapOptions({}, {})).to.deep.equal({});
  });
});

describe('cli/core errors and tables', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a CLI refusal', new CliError('no cluster "x"'), 'no cluster "x"'],
    ['a Manager refusal: its messages, then the route', new ManagerApiError('POST /clusters', 409, ['A EtcdCluster already exists']), 'A EtcdCluster already exists (POST /clusters answered 409)'],
    ['a refusal without messages', new ManagerApiError('GET /x', 500, []), 'status 500 (GET /x answered 500)'],
    ['a refused token', new ManagerApiError('GET /clusters', 401, ['Unauthorized']), 'the Manager refused the token (expired or revoked): run openaperture login (GET /clusters)'],
    ['a role too low', new ManagerApiError('POST /clusters', 403, ['Forbidden']), 'not allowed: Forbidden (POST /clusters needs a higher role)'],
    ['many lines become one', new ManagerResponseError('GET /x', 200, ['a: bad', 'b: bad']), 'GET /x answered 200 with a response the client does not accept: a: bad; b: bad'],
    ['not an Error', 'boom', 'boom'],
  ];
  for (const [name, err, text] of cases) it(`errorText: ${name}`, () => expect(errorText(err, false)).to.equal(text));

  it('errorText with debug is the stack', () => expect(errorText(new CliError('x'), true)).to.match(/^CliError: x\n\s+at /));

  it('formatTable pads columns and shows empty cells as -', () => {
    const text = formatTable([{ header: 'NAME', value: (r: { n: string; v: number | null }) => r.n }, { header: 'V', value: (r) => r.v }], [{ n: 'local', v: 1 }, { n: 'a', v: null }], 'none');
    expect(text).to.equal('NAME   V\nlocal  1\na      -');
    expect(formatTable([{ header: 'X', value: (r: number) => r }], [], 'none')).to.equal('none');
    expect(formatFields([['id', 1], ['current step', null]])).to.equal('id:           1\ncurrent step: -');
  });
});
