import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerHost, isDockerHostError, type DockerHost } from '../../../runtime/docker/host.js';
import { buildImage, isRegistryError, pushImage, registryBaseUrl, registryHasTag, tagImage, type RegistryAuth } from '../../../runtime/docker/images.js';
import { needs, services } from '../../helpers/services.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('runtime/docker/images: build, tag, push and registry checks on a real engine and registries', function () {
  this.timeout(120_000);
  needs('docker', 'registry', 'registry-auth');
  let host: DockerHost;
  let dir: string;
  const made: string[] = [];
  const name = `oa-images-${randomUUID().slice(0, 8)}`;

  /** A build context holding `dockerfile`. */
  const context = (dockerfile: string): string => {
    const d = mkdtempSync(join(dir, 'ctx-'));
    writeFileSync(join(d, 'Dockerfile'), dockerfile);
    return d;
  };
  const remember = (image: string): string => (made.push(image), image);

  before(() => {
    host = dockerHost({ name: 'local', url: `unix://${services().dockerSocket}` });
    dir = mkdtempSync(join(tmpdir(), 'oa-images-'));
  });
  after(async () => {
    for (const image of made) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    await host?.close();
  });

  it('builds with every RUN line streamed, pushes to the registry, and the registry API then lists the tag', async () => {
    const { registry, baseImage } = services();
    const repository = `${registry}/${name}`;
    const lines: string[] = [];
    const ctx = context(`FROM ${baseImage}\nRUN echo "hello from the build step"\nCOPY Dockerfile /Dockerfile\n`);
    writeFileSync(join(ctx, '.git'), 'never sent');
    const { imageId } = await buildImage(host, { contextDir: ctx, tag: remember(`${repository}:latest`), onLines: (batch) => lines.push(...batch) });
    expect(imageId).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(lines).to.include('hello from the build step');
    expect(lines.some((l) => /^Step 1\/3 : FROM /.test(l))).to.equal(true);
    expect(await registryHasTag({ registry, repository: name, tag: 'v1' })).to.equal(false);
    await tagImage(host, imageId, repository, 'v1');
    remember(`${repository}:v1`);
    const pushed: string[] = [];
    await pushImage(host, { repository, tag: 'v1', onLines: (batch) => pushed.push(...batch) });
    expect(pushed.some((l) => /v1: digest: sha256:/.test(l))).to.equal(true);
    expect(await registryHasTag({ registry, repository: name, tag: 'v1' })).to.equal(true);
    const tags = (await (await fetch(`http://${registry}/v2/${name}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).to.include('v1');
  });

  it('leaves the excluded paths out of the build context', async () => {
    const ctx = context(`FROM ${services().baseImage}\nCOPY . /ctx/\nRUN test -e /ctx/kept.txt && test ! -e /ctx/docker.json && echo "context checked"\n`);
    writeFileSync(join(ctx, 'kept.txt'), 'kept');
    writeFileSync(join(ctx, 'docker.json'), '{"docker_registry_password": "never sent"}');
    const lines: string[] = [];
    await buildImage(host, { contextDir: ctx, exclude: ['docker.json'], tag: remember(`${name}-excluded:x`), onLines: (b) => lines.push(...b) });
    expect(lines).to.include('context checked');
  });

  it('fails a build whose step fails, with the daemon message and the host', async () => {
    const ctx = context(`FROM ${services().baseImage}\nRUN echo about to fail && exit 3\n`);
    const lines: string[] = [];
    const err = await rejectionOf(buildImage(host, { contextDir: ctx, tag: remember(`${name}-failing:x`), onLines: (b) => lines.push(...b) }));
    expect(isDockerHostError(err)).to.equal(true);
    expect((err as Error).message).to.match(/^Docker host local \(unix:\/\/.*\): build: .*returned a non-zero code: 3/);
    expect(lines).to.include('about to fail');
  });

  it('stops a build when its signal is aborted during a long RUN step', async () => {
    const ctx = context(`FROM ${services().baseImage}\nRUN echo sleeping && sleep 60\n`);
    const abort = new AbortController();
    const lines: string[] = [];
    const build = buildImage(host, { contextDir: ctx, tag: remember(`${name}-slow:x`), signal: abort.signal, onLines: (b) => lines.push(...b) });
    const settled = build.then(() => 'built', () => 'rejected');
    await waitFor('the long step to start', () => lines.includes('sleeping'), 60_000);
    const abortedAt = Date.now();
    abort.abort(new Error('workflow cancelled'));
    expect(await settled).to.equal('rejected');
    process.stdout.write(`      (build settled ${Date.now() - abortedAt} ms after the abort)\n`);
    const stillSleeping = await waitFor('the step container to go', () => !docker('ps', '--format', '{{.Command}}').includes('sleep 60') || undefined, 15_000).then(
      () => false,
      () => true,
    );
    expect(stillSleeping, 'a container still runs the aborted step').to.equal(false);
  });

  describe('a registry with htpasswd auth', () => {
    const auth = (password: string): RegistryAuth => ({ registry: services().registryAuth.host, username: services().registryAuth.user, password });
    let repository: string;
    let imageId: string;

    before(async () => {
      repository = `${services().registryAuth.host}/${name}`;
      ({ imageId } = await buildImage(host, { contextDir: context(`FROM ${services().baseImage}\n`), tag: remember(`${repository}:base`), onLines: () => undefined }));
      await tagImage(host, imageId, repository, 'secured');
      remember(`${repository}:secured`);
    });

    it('pushes with the right credentials, and finds the tag with them', async () => {
      const { host: registry, password } = services().registryAuth;
      await pushImage(host, { repository, tag: 'secured', auth: auth(password) });
      expect(await registryHasTag({ registry, repository: name, tag: 'secured', auth: auth(password) })).to.equal(true);
      expect(await registryHasTag({ registry, repository: name, tag: 'absent', auth: auth(password) })).to.equal(false);
    });

    it('refuses wrong credentials, and none, naming the registry and the user', async () => {
      const { host: registry, user } = services().registryAuth;
      const push = await rejectionOf(pushImage(host, { repository, tag: 'secured', auth: auth('wrong') }));
      expect(isRegistryError(push)).to.equal(true);
      expect((push as Error).message).to.match(new RegExp(`^registry ${registry} refused the credentials for user ${user} \\(push of ${repository}:secured: `));
      const check = await rejectionOf(registryHasTag({ registry, repository: name, tag: 'secured', auth: auth('wrong') }));
      expect((check as Error).message).to.equal(`registry ${registry} refused the credentials for user ${user}`);
      const anonymous = await rejectionOf(registryHasTag({ registry, repository: name, tag: 'secured' }));
      expect((anonymous as Error).message).to.equal(`registry ${registry} requires credentials, and none were given`);
    });
  });

  it('says when a registry cannot be reached', async () => {
    const err = await rejectionOf(registryHasTag({ registry: '127.0.0.1:1', repository: 'x', tag: 'y' }));
    expect(isRegistryError(err)).to.equal(true);
    expect((err as Error).message).to.match(/^registry 127\.0\.0\.1:1 cannot be reached at http:\/\/127\.0\.0\.1:1\/v2\/x\/manifests\/y: /);
  });

  it('speaks http to loopback registries and https to the others', () => {
    const cases: Array<[string, string]> = [
      ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
      ['localhost:5000', 'http://localhost:5000'],
      ['[::1]:5000', 'http://[::1]:5000'],
      ['registry.example.com', 'https://registry.example.com'],
      ['registry-1.docker.io', 'https://registry-1.docker.io'],
      ['http://10.0.0.5:5000/', 'http://10.0.0.5:5000'],
    ];
    for (const [registry, base] of cases) expect(registryBaseUrl(registry), registry).to.equal(base);
  });
});
