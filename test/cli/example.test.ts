import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ejs from 'ejs';
import { z } from 'zod';
import { DeployableUnit } from '../../actors/orchestrator/messages.js';
import { needs } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The hello example (deploy/examples/hello): make-repos.sh gives the two git repos the README's commands use, and
 * their files are what the Builder and Deployer accept: units.json against the DeployableUnit contract, and a
 * Dockerfile that, rendered as the Builder renders it, builds offline into an image that serves the site.
 */

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../deploy/examples/hello/', import.meta.url));
const git = async (...args: string[]): Promise<string> => (await run('git', args)).stdout.trim();

describe('the hello example', function () {
  this.timeout(120_000);
  let dir: string;
  let deployment: string;
  let source: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oa-hello-'));
    // Twice: running it again starts over instead of failing.
    await run('bash', [join(EXAMPLE, 'make-repos.sh'), join(dir, 'repos')]);
    const { stdout } = await run('bash', [join(EXAMPLE, 'make-repos.sh'), join(dir, 'repos')]);
    expect(stdout).to.include(`openaperture workflow run file://${dir}/repos/hello_docker --source-repo file://${dir}/repos/hello`);
    deployment = join(dir, 'deployment');
    source = join(dir, 'source');
    await git('clone', '-q', `file://${dir}/repos/hello_docker`, deployment);
    await git('clone', '-q', `file://${dir}/repos/hello`, source);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const json = async (file: string): Promise<unknown> => JSON.parse(await readFile(join(deployment, file), 'utf8')) as unknown;

  it('makes two bare repos on main, one commit each', async () => {
    for (const repo of ['hello', 'hello_docker']) {
      expect(await git('-C', join(dir, 'repos', repo), 'rev-parse', '--is-bare-repository')).to.equal('true');
      expect(await git('-C', join(dir, 'repos', repo), 'rev-list', '--count', 'main')).to.equal('1');
    }
  });

  it('the deployment repo holds the deployment files and no source', async () => {
    expect((await readdir(deployment)).filter((f) => f !== '.git').sort()).to.deep.equal(['Dockerfile.eex', 'cluster.json', 'docker.json', 'source.json', 'units.json']);
    expect((await readdir(source)).filter((f) => f !== '.git')).to.deep.equal(['index.html']);
  });

  it('units.json passes the DeployableUnit contract', async () => {
    const units = z.strictObject({ units: z.array(DeployableUnit).min(1) }).parse(await json('units.json'));
    expect(units.units).to.deep.equal([
      {
        name: 'hello',
        ports: [8080],
        environment: {},
        health: { http: { path: '/', timeout_seconds: 60, interval_seconds: 1 } },
        route: { hostname: 'hello.localhost', port: 8080, drain_seconds: 30 },
      },
    ]);
  });

  it('docker.json, cluster.json and source.json point at the local registry, cluster and source repo', async () => {
    expect(await json('docker.json')).to.deep.equal({ docker_url: '127.0.0.1:5000/hello' });
    expect(await json('cluster.json')).to.deep.equal({ token: 'local' });
    expect(await json('source.json')).to.deep.equal({ source_repo: `file://${dir}/repos/hello`, source_repo_git_ref: 'main' });
  });

  describe('built as the Builder builds it', function () {
    needs('docker');
    const tag = `oa-hello-example-test:${process.pid}`;
    let container: string | undefined;
    after(async () => {
      if (container !== undefined) await run('docker', ['rm', '-f', container]);
      await run('docker', ['rmi', '-f', tag]).catch(() => undefined);
    });

    it('renders, builds offline from the base image, and serves the site with the commit', async () => {
      const commit = await git('-C', source, 'rev-parse', 'HEAD');
      const context = join(dir, 'context');
      await cp(deployment, context, { recursive: true, filter: (path) => !path.endsWith('.git') });
      await cp(source, join(context, 'source'), { recursive: true, filter: (path) => !path.endsWith('.git') });
      // The Builder's rendering (actors/builder/core/templates.ts): EJS, nothing HTML-escaped, an RFC 1123 timestamp.
      const template = await readFile(join(context, 'Dockerfile.eex'), 'utf8');
      const rendered = ejs.render(template, { commit_hash: commit, timestamp: new Date().toUTCString() }, { escape: (markup: unknown) => String(markup) });
      await writeFile(join(context, 'Dockerfile'), rendered);
      await run('docker', ['build', '-q', '-t', tag, context]);
      container = (await run('docker', ['run', '-d', '-p', '127.0.0.1::8080', tag])).stdout.trim();
      const port = (await run('docker', ['port', container, '8080/tcp'])).stdout.trim().split(':').pop();
      const page = await waitFor('the hello container to answer', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.status === 200 ? res.text() : undefined;
      }, 30_000);
      expect(page).to.include('Hello from OpenAperture!');
      expect(page).to.include(`commit <code id="commit">${commit}</code>`);
    });
  });
});
