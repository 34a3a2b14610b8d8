import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerHost, isDockerHostError, type DockerHost, type DockerHostError } from '../../../runtime/docker/host.js';
import { connect, needsDockerHosts, threeHosts, type TestHost } from '../../helpers/docker-hosts.js';
import { rejectionOf } from '../../helpers/wait.js';

const version = (host: DockerHost) => host.call('version', (api) => api.version());

/** A TCP relay to `target` whose connections the test can cut, as a network drop would. */
async function relay(target: { host: string; port: number }): Promise<{ port: number; accepted: () => number; drop(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((inbound) => {
    accepted += 1;
    const outbound = tcpConnect(target);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    drop: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('runtime/docker/host: one Docker host over unix:// and ssh://', function () {
  this.timeout(30_000);
  needsDockerHosts();
  let hosts: TestHost[];
  const opened: DockerHost[] = [];
  const open = (h: DockerHost) => (opened.push(h), h);
  before(() => {
    hosts = threeHosts();
  });
  after(async () => {
    await Promise.all(opened.map((h) => h.close()));
  });

  it('answers over a unix socket', async () => {
    const v = await version(open(connect(hosts[0]!)));
    expect(v.ApiVersion).to.match(/^\d+\.\d+$/);
  });

  it('answers over ssh:// from the daemon behind the remote socket, many calls on one connection', async () => {
    const viaSsh = open(connect(hosts[1]!));
    const direct = open(dockerHost({ name: 'direct', url: `unix://${hosts[1]!.options.remoteSocket}` }));
    const [remote, local] = await Promise.all([viaSsh.call('info', (api) => api.info()), direct.call('info', (api) => api.info())]);
    expect(remote.ID).to.equal(local.ID);
    const results = await Promise.all(Array.from({ length: 20 }, () => version(viaSsh)));
    expect(results.every((v) => v.ApiVersion === results[0]!.ApiVersion)).to.equal(true);
  });

  it('keeps one SSH connection for many calls', async () => {
    const target = new URL(hosts[1]!.spec.url);
    const r = await relay({ host: target.hostname, port: Number(target.port) });
    const h = open(dockerHost({ ...hosts[1]!.spec, url: `ssh://${target.username}@127.0.0.1:${r.port}` }, hosts[1]!.options));
    try {
      for (let i = 0; i < 10; i += 1) await version(h);
      await Promise.all(Array.from({ length: 10 }, () => version(h)));
      expect(r.accepted()).to.equal(1);
    } finally {
      await h.close();
      r.drop();
      await r.close();
    }
  });

  it('keeps a channel open for the next request: sequential calls reach the remote socket over one connection', async () => {
    // A unix-socket relay in front of the daemon counts the connections sshd makes to it: one per channel.
    const dir = mkdtempSync(join(tmpdir(), 'oa-sock-'));
    const path = join(dir, 'docker.sock');
    let accepted = 0;
    const server = createServer((inbound) => {
      accepted += 1;
      const outbound = tcpConnect({ path: hosts[1]!.options.remoteSocket! });
      for (const s of [inbound, outbound]) s.on('error', () => s.destroy());
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const h = dockerHost(hosts[1]!.spec, { ...hosts[1]!.options, remoteSocket: path });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 30; i += 1) await version(h);
      expect(accepted, 'channels opened for 30 sequential calls').to.equal(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name), 'no listener piles up on the kept channel').to.deep.equal([]);
      const parallel = await Promise.all(Array.from({ length: 4 }, () => version(h)));
      expect(parallel).to.have.length(4);
      expect(accepted, 'at most one more channel per call in flight').to.be.at.most(4);
    } finally {
      process.off('warning', onWarning);
      await h.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dropped SSH connection is made again on the next call', async () => {
    const target = new URL(hosts[1]!.spec.url);
    const r = await relay({ host: target.hostname, port: Number(target.port) });
    const h = open(dockerHost({ ...hosts[1]!.spec, url: `ssh://${target.username}@127.0.0.1:${r.port}` }, hosts[1]!.options));
    try {
      await version(h);
      r.drop();
      expect(r.accepted()).to.equal(1);
      // The call right after the drop may meet the dead connection (and fail naming the host); the one after works.
      const first = await version(h).then(
        () => undefined,
        (err: unknown) => err,
      );
      if (first !== undefined) expect(isDockerHostError(first) && (first as DockerHostError).host === 'h2').to.equal(true);
      const again = await version(h);
      expect(again.ApiVersion).to.match(/^\d+\.\d+$/);
      expect(r.accepted()).to.equal(2);
    } finally {
      await h.close();
      r.drop();
      await r.close();
    }
  });

  it('a host that is not there fails at once with an error naming it', async () => {
    const missing = open(dockerHost({ name: 'gone', url: 'unix:///run/oa-no-such-docker.sock' }));
    const err = (await rejectionOf(version(missing))) as DockerHostError;
    expect(isDockerHostError(err)).to.equal(true);
    expect([err.host, err.retryable]).to.deep.equal(['gone', true]);
    expect(err.message).to.contain('Docker host gone (unix:///run/oa-no-such-docker.sock): version: cannot reach the host');
    const closedSsh = open(dockerHost({ ...hosts[1]!.spec, name: 'gone-ssh', url: 'ssh://root@127.0.0.1:1' }, hosts[1]!.options));
    const sshErr = (await rejectionOf(version(closedSsh))) as DockerHostError;
    expect([sshErr.name, sshErr.host]).to.deep.equal(['DockerHostError', 'gone-ssh']);
  });

  it('a host that accepts but never answers fails after the timeout, naming it, instead of hanging', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const h = open(dockerHost({ name: 'mute', url: `tcp://127.0.0.1:${port}` }, { timeoutMs: 300 }));
      const err = (await rejectionOf(version(h))) as DockerHostError;
      expect(err.message).to.equal(`Docker host mute (tcp://127.0.0.1:${port}): version: no answer within 300 ms`);
      expect(err.retryable).to.equal(true);
    } finally {
      silent.close();
    }
  });
});
