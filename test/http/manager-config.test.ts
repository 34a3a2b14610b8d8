import { expect } from 'chai';
import { loadManagerConfig } from '../../http/manager-config.js';
import { ConfigError } from '../../runtime/config.js';

const SECRET = 's'.repeat(40);
const minimal = { MANAGER_TOKEN_SECRET: SECRET, MANAGER_DATA_DIR: '/var/lib/openaperture/manager' };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadManagerConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('Manager configuration', () => {
  it('has defaults for everything but the secret and the database', () => {
    expect(loadManagerConfig({ ...minimal, PATH: '/usr/bin' })).to.deep.equal({
      tokens: { secret: SECRET, ttlSeconds: 3600 },
      database: { kind: 'pglite', dataDir: '/var/lib/openaperture/manager' },
      http: { host: '127.0.0.1', port: 4000 },
      externalAuth: {},
    });
  });

  it('reads PostgreSQL, the HTTP address, the token TTL and both external validators', () => {
    const config = loadManagerConfig({
      MANAGER_TOKEN_SECRET: SECRET,
      MANAGER_TOKEN_TTL_SECONDS: '600',
      MANAGER_DATABASE_URL: 'postgres://oa:pw@db:5432/oa',
      MANAGER_HTTP_PORT: '8080',
      MANAGER_HTTP_HOST: '0.0.0.0',
      MANAGER_OAUTH_VALIDATE_URL: 'https://idp.example/oauth/token/info',
      MANAGER_OIDC_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      MANAGER_OIDC_ISSUER: 'https://idp.example',
      MANAGER_OIDC_AUDIENCE: 'openaperture',
      MANAGER_DATA_DIR: '',
    });
    expect(config).to.deep.equal({
      tokens: { secret: SECRET, ttlSeconds: 600 },
      database: { kind: 'postgresql', url: 'postgres://oa:pw@db:5432/oa' },
      http: { host: '0.0.0.0', port: 8080 },
      externalAuth: {
        tokenInfoUrl: 'https://idp.example/oauth/token/info',
        oidc: { jwksUrl: 'https://idp.example/.well-known/jwks.json', issuer: 'https://idp.example', audience: 'openaperture' },
      },
    });
  });

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['a missing secret', { MANAGER_DATA_DIR: '/d' }, /^MANAGER_TOKEN_SECRET: expected at least 32 characters \(not set\)$/],
    ['no database', { MANAGER_TOKEN_SECRET: SECRET }, /^MANAGER_DATABASE_URL: set it \(PostgreSQL\) or MANAGER_DATA_DIR/],
    ['two databases', { ...minimal, MANAGER_DATABASE_URL: 'postgres://h/db' }, /^MANAGER_DATA_DIR: set either/],
    ['a database URL of another kind', { MANAGER_TOKEN_SECRET: SECRET, MANAGER_DATABASE_URL: 'mysql://h/db' }, /^MANAGER_DATABASE_URL: expected a postgres/],
    ['a bad TTL', { ...minimal, MANAGER_TOKEN_TTL_SECONDS: '-1' }, /^MANAGER_TOKEN_TTL_SECONDS: expected a number above 0 \(got "-1"\)$/],
    ['a bad port', { ...minimal, MANAGER_HTTP_PORT: '70000' }, /^MANAGER_HTTP_PORT: expected a port/],
    ['a tokeninfo URL that is no URL', { ...minimal, MANAGER_OAUTH_VALIDATE_URL: 'idp/info' }, /^MANAGER_OAUTH_VALIDATE_URL: expected an http/],
    ['half an OIDC configuration', { ...minimal, MANAGER_OIDC_JWKS_URL: 'https://idp.example/jwks' }, /^MANAGER_OIDC_ISSUER: required with/],
  ];
  for (const [what, env, problem] of cases) {
    it(`names the variable for ${what}`, () => expect(problemsOf(env)).to.satisfy((ps: string[]) => ps.some((p) => problem.test(p)), JSON.stringify(problemsOf(env))));
  }

  it('lists every problem at once, and never quotes the secret or the database URL', () => {
    const problems = problemsOf({ MANAGER_TOKEN_SECRET: 'short-but-secret', MANAGER_DATABASE_URL: 'mysql://u:hunter2@h/db', MANAGER_HTTP_PORT: 'x', MANAGER_OIDC_ISSUER: 'i' });
    expect(problems.map((p) => p.split(':')[0])).to.include.members(['MANAGER_TOKEN_SECRET', 'MANAGER_DATABASE_URL', 'MANAGER_HTTP_PORT', 'MANAGER_OIDC_JWKS_URL']);
    expect(problemsOf({ MANAGER_HTTP_PORT: 'x' }).map((p) => p.split(':')[0])).to.include.members(['MANAGER_TOKEN_SECRET', 'MANAGER_HTTP_PORT', 'MANAGER_DATABASE_URL']);
    expect(problems.join('\n')).to.not.include('short-but-secret').and.to.not.include('hunter2');
  });
});
