import { expect } from 'chai';
import {
  BootstrapOptionsInvalid,
  DEFAULTS,
  isBootstrapOptionsInvalid,
  keyOf,
  parseAmqpUrl,
  planBootstrap,
  PLATFORM_COMPONENT_TYPES,
  resolveBootstrapOptions,
  type AmqpConnection,
  type BootstrapOptions,
  type BootstrapSettings,
  type ExistingKeys,
} from '../../../http/core/bootstrap-plan.js';

const anyDockerUrl: { dockerUrlProblem: (url: string) => string | undefined } = { dockerUrlProblem: () => undefined };
const resolve = (options: BootstrapOptions): BootstrapSettings => resolveBootstrapOptions(options, anyDockerUrl);

/** The problems `options` are refused with, as `option: message`. */
function problemsOf(options: BootstrapOptions, checks = anyDockerUrl): string[] {
  try {
    resolveBootstrapOptions(options, checks);
  } catch (err) {
    if (!(err instanceof BootstrapOptionsInvalid)) throw err;
    return err.problems.map((p) => `${p.option}: ${p.message}`);
  }
  return [];
}

describe('resolveBootstrapOptions', () => {
  it('fills in defaults for one machine, with auto-upgrade off', () => {
    expect(resolve({})).to.deep.equal({
      exchangeName: 'openaperture',
      brokerName: 'localhost:5672',
      connection: { username: 'guest', password: 'guest', host: 'localhost', port: 5672, virtual_host: '/' },
      etcdToken: 'local',
      clusterName: null,
      hostName: 'local',
      dockerUrl: 'unix:///var/run/docker.sock',
      ref: { source_repo: 'openaperture', source_repo_git_ref: 'main', auto_upgrade_enabled: false },
      adminClientId: 'admin',
    });
    expect(DEFAULTS.autoUpgradeEnabled).to.equal(false);
  });

  it('takes every option, trimmed', () => {
    const s = resolve({
      exchangeName: ' eu ',
      amqpUrl: 'amqp://oa:pw@rabbit:5673/oa',
      brokerName: 'main',
      etcdToken: 'Tok-1',
      clusterName: 'build farm',
      hostName: 'h1',
      dockerUrl: 'tcp://h1:2375',
      componentSourceRepo: 'org/oa',
      componentSourceRepoGitRef: 'v1.2.0',
      autoUpgradeEnabled: true,
      adminClientId: 'root-client',
    });
    expect(s).to.deep.include({ exchangeName: 'eu', brokerName: 'main', etcdToken: 'Tok-1', clusterName: 'build farm', hostName: 'h1', adminClientId: 'root-client' });
    expect(s.ref).to.deep.equal({ source_repo: 'org/oa', source_repo_git_ref: 'v1.2.0', auto_upgrade_enabled: true });
  });

  const refused: Array<[string, BootstrapOptions, string]> = [
    ['an empty exchange name', { exchangeName: '  ' }, 'exchangeName: must not be empty'],
    ['a control character', { exchangeName: 'a\u0000b' }, 'exchangeName: must not contain control characters'],
    ['a token with a slash', { etcdToken: 'a/b' }, 'etcdToken: only letters'],
    ['a host name with a space', { hostName: 'my host' }, 'hostName: letters, digits'],
    ['a client id with a colon', { adminClientId: 'ad:min' }, 'adminClientId: only letters'],
    ['a long source repo', { componentSourceRepo: 'x'.repeat(129) }, 'componentSourceRepo: must be at most 128 characters'],
    ['a long git ref', { componentSourceRepoGitRef: 'x'.repeat(257) }, 'componentSourceRepoGitRef: must be at most 256 characters'],
    ['a long broker name', { brokerName: 'x'.repeat(256) }, 'brokerName: must be at most 255 characters'],
    ['a bad AMQP URL', { amqpUrl: 'http://rabbit' }, 'amqpUrl: scheme "http" is not supported'],
  ];
  for (const [title, options, problem] of refused) {
    it(`refuses ${title}, naming the option`, () => {
      const problems = problemsOf(options);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.contain(problem);
    });
  }

  it('asks the Docker URL check, and reports every problem at once', () => {
    const checks = { dockerUrlProblem: (url: string) => (url.startsWith('unix:') ? undefined : 'nope') };
    expect(problemsOf({ dockerUrl: 'ftp://x', exchangeName: '', amqpUrl: 'nonsense' }, checks)).to.deep.equal([
      'amqpUrl: not a URL; expected amqp://user:password@host:port/vhost',
      'dockerUrl: nope',
      'exchangeName: must not be empty',
    ]);
  });

  it('throws an error recognisable by name that never quotes the password', () => {
    let caught: unknown;
    try {
      resolve({ amqpUrl: 'amqp://oa:hunter2@rabbit:5672/?heartbeat=5' });
    } catch (err) {
      caught = err;
    }
    expect(isBootstrapOptionsInvalid(caught)).to.equal(true);
    expect(String(caught)).to.contain('amqpUrl').and.not.contain('hunter2');
  });
});

describe('parseAmqpUrl', () => {
  const conn = (username: string, password: string, host: string, port: number | null, virtual_host: string): AmqpConnection => ({ username, password, host, port, virtual_host });
  const parsed: Array<[string, AmqpConnection, string]> = [
    ['amqp://oa:pw@rabbit:5673/prod', conn('oa', 'pw', 'rabbit', 5673, 'prod'), 'rabbit:5673'],
    ['amqp://rabbit', conn('guest', 'guest', 'rabbit', null, '/'), 'rabbit'],
    ['amqp://rabbit/', conn('guest', 'guest', 'rabbit', null, '/'), 'rabbit'],
    ['amqp://rabbit/%2F', conn('guest', 'guest', 'rabbit', null, '/'), 'rabbit'],
    ['amqp://o%40a:p%3Aw%2F@rabbit/a%2Fb', conn('o@a', 'p:w/', 'rabbit', null, 'a/b'), 'rabbit'],
    [' amqp://oa:pw@[::1]:5672 ', conn('oa', 'pw', '[::1]', 5672, '/'), '[::1]:5672'],
  ];
  for (const [url, connection, host] of parsed) {
    it(`reads ${url.trim()}`, () => expect(parseAmqpUrl(url)).to.deep.equal({ ok: true, connection, host }));
  }

  const refused: Array<[string, string]> = [
    ['rabbit:5672', 'scheme "rabbit" is not supported'],
    ['not a url', 'not a URL'],
    ['amqps://oa:pw@rabbit', 'scheme "amqps" is not supported'],
    ['amqp:///vhost', 'names no host'],
    ['amqp://rabbit:0', 'port 0'],
    ['amqp://rabbit?heartbeat=10', 'query parameters'],
    ['amqp://oa@rabbit', 'both a user and a password'],
    ['amqp://:pw@rabbit', 'both a user and a password'],
    ['amqp://oa:%E0%A4%A@rabbit', 'malformed %-escape'],
    [`amqp://oa:${'p'.repeat(1_025)}@rabbit`, 'too long'],
  ];
  for (const [url, problem] of refused) {
    it(`refuses ${url.slice(0, 40)}`, () => {
      const result = parseAmqpUrl(url);
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.problem).to.contain(problem).and.not.contain('pw');
    });
  }
});

describe('planBootstrap', () => {
  const settings = resolve({ amqpUrl: 'amqp://oa:pw@rabbit:5672/oa', etcdToken: 'local', hostName: 'local' });
  const none: ExistingKeys = { exchangeNames: [], brokers: [], clusterTokens: [], hosts: [], refTypes: [], clientIds: [] };
  const all: ExistingKeys = {
    exchangeNames: ['openaperture'],
    brokers: [{ name: 'rabbit:5672', connections: 1 }],
    clusterTokens: ['local'],
    hosts: [{ etcdToken: 'local', name: 'local' }],
    refTypes: [...PLATFORM_COMPONENT_TYPES],
    clientIds: ['admin'],
  };
  const refs = PLATFORM_COMPONENT_TYPES.map((t) => `system_component_ref:${t}`);
  const everything = ['exchange:openaperture', 'broker:rabbit:5672', 'broker_connection:rabbit:5672', 'cluster:local', 'cluster_host:local/local', ...refs, 'api_client:admin'];
  const without = (...items: string[]) => everything.filter((i) => !items.includes(i));

  const cases: Array<[string, ExistingKeys, string[]]> = [
    ['an empty database: everything, in dependency order', none, everything],
    ['everything present: nothing', all, []],
    ['the exchange exists', { ...none, exchangeNames: ['openaperture'] }, without('exchange:openaperture')],
    ['another exchange exists', { ...none, exchangeNames: ['eu'] }, everything],
    ['an exchange differing in case is another exchange', { ...none, exchangeNames: ['OpenAperture'] }, everything],
    ['the broker without connections gets one', { ...none, brokers: [{ name: 'rabbit:5672', connections: 0 }] }, without('broker:rabbit:5672')],
    ['the broker with a connection keeps it', { ...none, brokers: [{ name: 'rabbit:5672', connections: 2 }] }, without('broker:rabbit:5672', 'broker_connection:rabbit:5672')],
    ['the token in another case is the cluster', { ...none, clusterTokens: ['LOCAL'] }, without('cluster:local').map((i) => i.replace('local/', 'LOCAL/'))],
    ['the host exists under the token in another case', { ...none, clusterTokens: ['LOCAL'], hosts: [{ etcdToken: 'LOCAL', name: 'Local' }] }, without('cluster:local', 'cluster_host:local/local')],
    ['a host of that name in another cluster does not count', { ...none, clusterTokens: ['local'], hosts: [{ etcdToken: 'other', name: 'local' }] }, without('cluster:local')],
    ['some refs exist', { ...none, refTypes: ['builder', 'deployer', 'router'] }, without('system_component_ref:builder', 'system_component_ref:deployer')],
    ['another client exists: admin is still made', { ...none, clientIds: ['ci'] }, everything],
    ['the admin client exists', { ...none, clientIds: ['admin'] }, without('api_client:admin')],
  ];
  for (const [title, existing, expected] of cases) {
    it(title, () => {
      const plan = planBootstrap(settings, existing);
      expect(plan.create.map((c) => `${c.kind}:${keyOf(c)}`)).to.deep.equal(expected);
      expect(plan.create.length + plan.present.length).to.equal(everything.length);
    });
  }

  it('carries the settings into what it creates', () => {
    const plan = planBootstrap(settings, none);
    expect(plan.create).to.deep.include({ kind: 'broker_connection', brokerName: 'rabbit:5672', connection: settings.connection });
    expect(plan.create).to.deep.include({ kind: 'cluster', etcdToken: 'local', name: null, exchangeName: 'openaperture' });
    expect(plan.create).to.deep.include({ kind: 'system_component_ref', type: 'overseer', source_repo: 'openaperture', source_repo_git_ref: 'main', auto_upgrade_enabled: false });
  });

  it('reports what is present by natural key, with no secret', () => {
    const plan = planBootstrap(settings, all);
    expect(plan.present.map((i) => `${i.kind}:${i.key}`)).to.deep.equal(everything);
    expect(JSON.stringify(plan)).not.to.contain('pw');
  });
});
