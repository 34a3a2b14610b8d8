import { expect } from 'chai';
import { stat, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { configDir, liveManager, runCli, stopCliProcesses, type CliResult } from './harness.js';
import { closedPort } from '../http/client/fake-manager.js';
import { selfSigned } from '../helpers/certificates.js';

/** The `openaperture` command as a user runs it (a subprocess, from its sources) against the real Manager. */

/** A failure as the CLI must print it: exactly one line, `openaperture: ...`, no stack, and a non-zero exit. */
function expectOneLineFailure(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).to.not.equal(0);
  expect(r.stdout).to.equal('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^openaperture: /);
  expect(lines[0]).to.match(pattern);
}

function expectOk(r: CliResult): string {
  expect(r.code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).to.equal(0);
  return r.stdout;
}

describe('openaperture CLI against the real Manager', function () {
  this.timeout(120_000);
  const manager = liveManager();
  const config = configDir();
  const cli = (...args: string[]) => runCli(args, { env: { OA_CONFIG_DIR: config() } });
  after(stopCliProcesses);
  const json = async (...args: string[]): Promise<unknown> => JSON.parse(expectOk(await cli('--json', ...args))) as unknown;

  before(async () => {
    const { clientId, clientSecret } = await manager().addClient('admin');
    expectOk(await cli('login', '--url', `${manager().baseUrl}/`, '--client-id', clientId, '--client-secret', clientSecret));
  });

  describe('login', () => {
    it('stores the URL and a token in credentials.json, readable by its owner only', async () => {
      const path = join(config(), 'credentials.json');
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      const stored = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
      expect(stored.url).to.equal(manager().baseUrl);
      expect(stored.token).to.match(/^ey/);
      expect(Date.parse(stored.expires_at ?? '')).to.be.greaterThan(Date.now());
    });

    it('later commands use the stored token', async () => {
      expect(await json('clusters', 'list')).to.be.an('array');
    });

    it('refuses wrong credentials, a bad URL and a Manager that is not there, each in one line', async () => {
      const url = manager().baseUrl;
      const port = await closedPort();
      const [wrong, bad, absent] = await Promise.all([
        cli('login', '--url', url, '--client-id', 'nobody', '--client-secret', 'wrong'),
        cli('login', '--url', 'localhost:4000', '--client-id', 'a', '--client-secret', 'b'),
        cli('login', '--url', `http://127.0.0.1:${port}`, '--client-id', 'a', '--client-secret', 'b'),
      ]);
      expectOneLineFailure(wrong, /the Manager at http:\/\/127\.0\.0\.1:\d+ refused client "nobody"/);
      expectOneLineFailure(bad, /--url: expected an http\(s\) URL/);
      expectOneLineFailure(absent, new RegExp(`cannot reach the Manager at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
    });

    it('a command without a login says how to log in', async () => {
      const r = await runCli(['clusters', 'list'], { env: { OA_CONFIG_DIR: join(config(), 'nobody-here') } });
      expectOneLineFailure(r, /not logged in: run openaperture login --url URL/);
    });

    it('an expired or revoked token says to log in again', async () => {
      const stale = join(config(), 'stale');
      await mkdir(stale, { recursive: true });
      const stored = JSON.parse(await readFile(join(config(), 'credentials.json'), 'utf8')) as Record<string, string>;
      await writeFile(join(stale, 'credentials.json'), JSON.stringify({ ...stored, expires_at: '2020-01-01T00:00:00.000Z' }));
      expectOneLineFailure(await runCli(['clusters', 'list'], { env: { OA_CONFIG_DIR: stale } }), /expired at 2020-01-01T00:00:00\.000Z; log in again/);
      await writeFile(join(stale, 'credentials.json'), JSON.stringify({ ...stored, token: 'forged.token.value' }));
      expectOneLineFailure(await runCli(['clusters', 'list'], { env: { OA_CONFIG_DIR: stale } }), /the Manager refused the token \(expired or revoked\): run openaperture login/);
    });

    it('MANAGER_URL and OAUTH_CLIENT_ID/SECRET work without a login (CI)', async () => {
      const { clientId, clientSecret } = await manager().addClient('viewer');
      const env = { OA_CONFIG_DIR: join(config(), 'nobody-here'), MANAGER_URL: manager().baseUrl, OAUTH_CLIENT_ID: clientId, OAUTH_CLIENT_SECRET: clientSecret };
      expect(JSON.parse(expectOk(await runCli(['--json', 'clusters', 'list'], { env })))).to.be.an('array');
    });

    it('a role too low for a route is named, in one line', async () => {
      const { clientId, clientSecret } = await manager().addClient('viewer');
      const dir = join(config(), 'viewer');
      expectOk(await runCli(['login', '--url', manager().baseUrl, '--client-id', clientId, '--client-secret', clientSecret], { env: { OA_CONFIG_DIR: dir } }));
      expectOneLineFailure(await runCli(['clusters', 'add', 'viewer-made'], { env: { OA_CONFIG_DIR: dir } }), /^openaperture: not allowed: .*POST \/clusters needs a higher role/);
    });
  });

  describe('clusters and hosts', () => {
    it('add, list and remove a cluster', async () => {
      expect(expectOk(await cli('clusters', 'add', 'cli-c1', '--name', 'CLI one', '--allow-builds'))).to.equal('cluster cli-c1 added\n');
      const listed = (await json('clusters', 'list')) as Array<Record<string, unknown>>;
      expect(listed.find((c) => c.etcd_token === 'cli-c1')).to.include({ name: 'CLI one', allow_docker_builds: true });
      expect(expectOk(await cli('clusters', 'list'))).to.match(/^TOKEN\s+NAME\s+EXCHANGE\s+BUILDS\n(.*\n)*cli-c1\s+CLI one\s+-\s+yes$/m);
      expectOk(await cli('clusters', 'remove', 'cli-c1'));
      expect(expectOk(await cli('clusters', 'list'))).to.not.match(/^cli-c1 /m);
    });

    it('add, list and remove a host', async () => {
      expectOk(await cli('clusters', 'add', 'cli-c2'));
      expectOk(await cli('hosts', 'add', 'cli-c2', 'h1', 'unix:///var/run/docker.sock', '--label', 'zone=a', '--label', 'disk=ssd'));
      expect(expectOk(await cli('hosts', 'list', 'cli-c2'))).to.match(/^h1\s+unix:\/\/\/var\/run\/docker\.sock\s+active\s+zone=a,disk=ssd$/m);
      expectOk(await cli('hosts', 'remove', 'cli-c2', 'h1'));
      expect(expectOk(await cli('hosts', 'list', 'cli-c2'))).to.equal('no hosts in cluster cli-c2\n');
    });

    it('an unknown cluster or host, a bad Docker URL and a taken token are one line each', async () => {
      expectOk(await cli('clusters', 'add', 'cli-c3'));
      const [hosts, remove, addHost, removeHost, badUrl, taken, badLabel] = await Promise.all([
        cli('hosts', 'list', 'nope'),
        cli('clusters', 'remove', 'nope'),
        cli('hosts', 'add', 'nope', 'h', 'unix:///var/run/docker.sock'),
        cli('hosts', 'remove', 'cli-c3', 'ghost'),
        cli('hosts', 'add', 'cli-c3', 'h', 'ftp://somewhere'),
        cli('clusters', 'add', 'cli-c3'),
        cli('hosts', 'add', 'cli-c3', 'h', 'unix:///var/run/docker.sock', '--label', 'novalue'),
      ]);
      for (const r of [hosts, remove, addHost]) expectOneLineFailure(r, /no cluster "nope" \(see: openaperture clusters list\)/);
      expectOneLineFailure(removeHost, /no host "ghost" in cluster "cli-c3"/);
      expectOneLineFailure(badUrl, /docker_url: scheme ftp is not supported/);
      expectOneLineFailure(taken, /already exists.*\(POST \/clusters answered 409\)/);
      expectOneLineFailure(badLabel, /--label: expected key=value \(got "novalue"\)/);
    });
  });

  describe('routes', () => {
    it("lists every authority with its backends' weight, state and share, or one authority; an unknown one is one line", async () => {
      const authority = await manager().call('POST', '/router/authorities', { hostname: 'cli-shop.example.test', port: 8080 });
      expect(authority.status).to.equal(201);
      const { body: found } = await manager().call('GET', '/router/authorities?hostspec=cli-shop.example.test:8080');
      const id = (found as Array<{ id: number }>)[0]!.id;
      for (const route of [{ hostname: '127.0.0.1', port: 21000, weight: 90 }, { hostname: '127.0.0.1', port: 21001, weight: 10 }, { hostname: '127.0.0.1', port: 21002, state: 'drain' }]) {
        expect((await manager().call('POST', `/router/authorities/${id}/routes`, route)).status).to.equal(201);
      }
      expect((await manager().call('POST', '/router/authorities', { hostname: 'cli-empty.example.test', port: 80 })).status).to.equal(201);
      const all = expectOk(await cli('routes'));
      expect(all).to.match(/^AUTHORITY\s+BACKEND\s+WEIGHT\s+STATE\s+SHARE$/m);
      expect(all).to.match(/^cli-shop\.example\.test:8080\s+127\.0\.0\.1:21000\s+90\s+ready\s+90%$/m);
      expect(all).to.match(/^cli-shop\.example\.test:8080\s+127\.0\.0\.1:21001\s+10\s+ready\s+10%$/m);
      expect(all).to.match(/^cli-shop\.example\.test:8080\s+127\.0\.0\.1:21002\s+100\s+drain\s+0%$/m);
      expect(all).to.match(/^cli-empty\.example\.test:80\s+-\s+-\s+-\s+-$/m);
      const one = (await json('routes', 'CLI-SHOP.example.test:8080')) as Array<{ hostname: string; routes: unknown[] }>;
      expect(one.map((a) => [a.hostname, a.routes.length])).to.deep.equal([['cli-shop.example.test', 3]]);
      expectOneLineFailure(await cli('routes', 'nowhere.example.test:80'), /no authority nowhere\.example\.test:80 \(see: openaperture routes\)/);
      expectOneLineFailure(await cli('routes', 'nowhere:http'), /<product \| hostname:port>: expected hostname:port/);
    });

    it("lists a product's authorities with their backends and shares; a product without one, or none, is one line", async () => {
      for (const name of ['cli-routed', 'cli-unrouted']) expect((await manager().call('POST', '/products', { name })).status).to.equal(201);
      const created = await manager().call('POST', '/router/authorities', { hostname: 'cli-routed.example.test', port: 8081, product: 'cli-routed' });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const { body: found } = await manager().call('GET', '/router/authorities?product=cli-routed');
      const id = (found as Array<{ id: number }>)[0]!.id;
      expect((await manager().call('POST', `/router/authorities/${id}/routes`, { hostname: '127.0.0.1', port: 21010 })).status).to.equal(201);
      const listed = expectOk(await cli('routes', 'cli-routed'));
      expect(listed.trimEnd().split('\n')).to.have.length(2);
      expect(listed).to.match(/^cli-routed\.example\.test:8081\s+127\.0\.0\.1:21010\s+100\s+ready\s+100%$/m);
      const one = (await json('routes', 'CLI-ROUTED')) as Array<{ hostname: string; product: string; routes: unknown[] }>;
      expect(one.map((a) => [a.hostname, a.product, a.routes.length])).to.deep.equal([['cli-routed.example.test', 'cli-routed', 1]]);
      expectOneLineFailure(await cli('routes', 'cli-unrouted'), /^openaperture: product cli-unrouted has no route: no authority belongs to it/);
      expectOneLineFailure(await cli('routes', 'cli-nowhere'), /query\.product: no product "cli-nowhere" \(GET \/router\/authorities\/detailed answered 400\)/);
    });

    it('sets, shows and removes an authority\'s certificate from PEM files, never printing the key; sets a redirect', async () => {
      expect((await manager().call('POST', '/router/authorities', { hostname: 'cli-tls.example.test', port: 8443 })).status).to.equal(201);
      const [pair, other] = await Promise.all([selfSigned(['cli-tls.example.test']), selfSigned(['elsewhere.example.test'])]);
      const dir = join(config(), 'pem');
      await mkdir(dir, { recursive: true });
      await Promise.all([writeFile(join(dir, 'cert.pem'), pair.certificate), writeFile(join(dir, 'key.pem'), pair.privateKey), writeFile(join(dir, 'other.pem'), other.certificate)]);
      const set = expectOk(await cli('routes', 'cert', 'cli-tls.example.test:8443', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')));
      expect(set).to.match(/^cli-tls\.example\.test:8443: CN=cli-tls\.example\.test \(cli-tls\.example\.test\)$/m);
      expect(set).to.match(/^sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
      expect(set).not.to.include('PRIVATE KEY');
      expect(((await json('routes', 'cert', 'cli-tls.example.test:8443')) as { names: string[] }).names).to.deep.equal(['cli-tls.example.test']);
      expectOneLineFailure(await cli('routes', 'cert', 'cli-tls.example.test:8443', '--cert', join(dir, 'other.pem'), '--key', join(dir, 'key.pem')), /private_key: does not match the certificate/);
      expectOneLineFailure(await cli('routes', 'cert', 'cli-tls.example.test:8443', '--cert', join(dir, 'cert.pem')), /--cert and --key go together/);
      expectOneLineFailure(await cli('routes', 'cert', 'cli-tls.example.test:8443', '--cert', join(dir, 'none.pem'), '--key', join(dir, 'key.pem')), /--cert: cannot read .*none\.pem: ENOENT/);
      expect(expectOk(await cli('routes', 'redirect', 'cli-tls.example.test:8443', '8080'))).to.match(/plain HTTP on port 8080 redirects to https/);
      expect(expectOk(await cli('routes', 'cert', 'cli-tls.example.test:8443', '--remove'))).to.match(/certificate removed/);
      expectOneLineFailure(await cli('routes', 'cert', 'cli-tls.example.test:8443'), /has no certificate/);
    });
  });

  describe('workflows and events', () => {
    async function createWorkflow(repo: string): Promise<string> {
      const res = await fetch(`${manager().baseUrl}/workflows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${manager().adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deployment_repo: repo, milestones: ['build', 'deploy'] }),
      });
      expect(res.status).to.equal(201);
      return (res.headers.get('location') ?? '').split('/').pop() ?? '';
    }

    it('list and show a workflow', async () => {
      const id = await createWorkflow('org/listed_docker');
      expect(expectOk(await cli('workflow', 'list', '--repo', 'org/listed_docker'))).to.match(new RegExp(`^${id}\\s+org/listed_docker\\s+created\\s+-\\s+\\S+$`, 'm'));
      const shown = expectOk(await cli('workflow', 'show', id));
      expect(shown).to.match(new RegExp(`^id:\\s+${id}$`, 'm'));
      expect(shown).to.match(/^status:\s+created$/m);
      expect(shown).to.match(/^milestones:\s+build, deploy$/m);
    });

    it('cancel a workflow, once', async () => {
      const id = await createWorkflow('org/cancelled_docker');
      expect(expectOk(await cli('workflow', 'cancel', id))).to.equal(`workflow ${id} cancelled\n`);
      expect(expectOk(await cli('workflow', 'show', id))).to.match(/^status:\s+failed$/m);
      expectOneLineFailure(await cli('workflow', 'cancel', id), new RegExp(`workflow ${id} was not cancelled: Workflow has already completed`));
    });

    it('run --no-follow starts a workflow and returns', async () => {
      const out = expectOk(await cli('workflow', 'run', 'org/queued_docker', '--milestones', 'deploy', '--no-follow'));
      const id = /^workflow (\S+) created: org\/queued_docker \[deploy\]$/m.exec(out)?.[1] ?? '';
      expect(out).to.include(`workflow ${id} queued; follow it with: openaperture workflow show ${id}`);
      const shown = expectOk(await cli('workflow', 'show', id));
      expect(shown).to.match(/^status:\s+queued$/m);
      // The Manager puts `config` first when neither build nor config is asked for (reference §3.4).
      expect(shown).to.match(/^milestones:\s+config, deploy$/m);
    });

    it('an unknown workflow, and bad options, are one line each', async () => {
      const [show, lookback, milestones] = await Promise.all([
        cli('workflow', 'show', '00000000-0000-4000-8000-000000000000'),
        cli('workflow', 'list', '--lookback', 'soon'),
        cli('workflow', 'run', 'org/x_docker', '--milestones', 'build,ship'),
      ]);
      expectOneLineFailure(show, /no workflow 00000000-0000-4000-8000-000000000000/);
      expectOneLineFailure(lookback, /--lookback: expected a whole number \(got "soon"\)/);
      expectOneLineFailure(milestones, /--milestones: unknown milestone "ship"/);
    });

    it('lists system events', async () => {
      const posted = await manager().call('POST', '/system_events', { type: 'cli_test', severity: 'warning', message: 'seen by the CLI' });
      expect(posted.status).to.equal(201);
      expect(expectOk(await cli('events'))).to.match(/^\d+\s+warning\s+cli_test\s+seen by the CLI\s+\S+$/m);
    });
  });

  describe('usage', () => {
    it('an unknown command is one line; --debug shows the stack of a failure', async () => {
      const [unknown, debug] = await Promise.all([cli('clusterz'), runCli(['--debug', 'clusters', 'list'], { env: { OA_CONFIG_DIR: join(config(), 'nobody-here') } })]);
      expectOneLineFailure(unknown, /unknown command 'clusterz' \(Did you mean clusters\?\)/);
      expect(debug.code).to.equal(1);
      expect(debug.stderr).to.match(/^openaperture: CliError: not logged in[^\n]*\n\s+at /);
    });
  });
});
