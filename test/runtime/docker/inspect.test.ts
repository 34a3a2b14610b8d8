import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dockerHost, isDockerHostError, type DockerHost } from '../../../runtime/docker/host.js';
import {
  containerLogTail,
  dataRootUsePercent,
  demuxLogs,
  hostInfo,
  inspectContainer,
  listLabelledContainers,
  parseDfCapacity,
  restartContainer,
} from '../../../runtime/docker/inspect.js';
import { needs, services } from '../../helpers/services.js';
import { closedPort } from '../../helpers/ports.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';

const frame = (stream: 1 | 2, text: string): Buffer => {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

describe('runtime/docker/inspect: parsing', () => {
  const demux: Array<[string, Buffer, { stdout: string; stderr: string }]> = [
    ['nothing', Buffer.alloc(0), { stdout: '', stderr: '' }],
    ['stdout and stderr interleaved', Buffer.concat([frame(1, 'a\n'), frame(2, 'oops\n'), frame(1, 'b\n')]), { stdout: 'a\nb\n', stderr: 'oops\n' }],
    ['utf-8 split over frames', Buffer.concat([frame(1, 'é'), frame(1, 'ü\n')]), { stdout: 'éü\n', stderr: '' }],
    ['a truncated last frame keeps what arrived', Buffer.concat([frame(1, 'whole\n'), frame(2, 'partial line\n').subarray(0, 12)]), { stdout: 'whole\n', stderr: 'part' }],
  ];
  for (const [what, bytes, expected] of demux) it(`demuxLogs: ${what}`, () => expect(demuxLogs(bytes)).to.deep.equal(expected));

  const df: Array<[string, number | undefined]> = [
    ['Filesystem 1024-blocks Used Available Capacity Mounted on\noverlay 100 42 58 42% /oa-data-root\n', 42],
    ['Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/vda1       102400000  95000000   7400000      93% /oa-data-root', 93],
    ['Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/mapper/very-long-device-name\n 100 0 100 0% /oa-data-root\n', 0],
    ['Filesystem 1024-blocks Used Available Capacity Mounted on\n', undefined],
    ['df: /oa-data-root: No such file or directory', undefined],
  ];
  for (const [output, percent] of df) it(`parseDfCapacity -> ${percent}`, () => expect(parseDfCapacity(output)).to.equal(percent));
});

const HOSTS = ['unix', 'ssh'] as const;

for (const kind of HOSTS) {
  describe(`runtime/docker/inspect on a real ${kind} host`, function () {
    this.timeout(60_000);
    needs('docker', 'sshd');
    const tag = `inspect-${randomUUID().slice(0, 8)}`;
    let host: DockerHost;
    let running: string;
    let failed: string;

    const run = async (name: string, cmd: string, extra: Record<string, string>) => {
      const c = await host.call('create', (api) =>
        api.createContainer({
          name: `${tag}-${name}`,
          Image: services().baseImage,
          Cmd: ['sh', '-c', cmd],
          Env: ['GREETING=hi', 'SECRET_TOKEN=s3cret'],
          Labels: { 'test.cluster': tag, ...extra },
          ExposedPorts: { '8080/tcp': {} },
          HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        }),
      );
      await host.call('start', () => c.start());
      return c.id;
    };

    before(async () => {
      const s = services();
      host =
        kind === 'unix'
          ? dockerHost({ name: 'local', url: `unix://${s.dockerSocket}` })
          : dockerHost({ name: 'remote', url: `ssh://${s.ssh.user}@${s.ssh.host}:${s.ssh.port}`, sshPrivateKey: readFileSync(s.ssh.keyPath, 'utf8') });
      running = await run('web', 'trap "exit 0" TERM; echo "hello from $GREETING"; echo "warning: on stderr" >&2; while true; do sleep 0.2; done', { 'test.unit': 'web' });
      failed = await run('bad', 'echo "about to fail"; exit 3', { 'test.unit': 'bad' });
      await waitFor('the failing container to exit', async () => (await inspectContainer(host, failed)).state === 'exited');
    });
    after(async () => {
      if (!host) return;
      for (const c of await listLabelledContainers(host, { 'test.cluster': tag })) await host.call('remove', (api) => api.getContainer(c.id).remove({ force: true }));
      await host.close();
    });

    it('lists the containers carrying every given label, running or not', async () => {
      const all = await listLabelledContainers(host, { 'test.cluster': tag });
      expect(all.map((c) => c.name).sort()).to.deep.equal([`${tag}-bad`, `${tag}-web`]);
      const web = await listLabelledContainers(host, { 'test.cluster': tag, 'test.unit': 'web' });
      expect(web.map((c) => ({ id: c.id, state: c.state, unit: c.labels['test.unit'] }))).to.deep.equal([{ id: running, state: 'running', unit: 'web' }]);
      expect(await listLabelledContainers(host, { 'test.cluster': tag, 'test.unit': 'nope' })).to.deep.equal([]);
    });

    it('inspects state, exit code, health, environment, command and published ports', async () => {
      const web = await inspectContainer(host, running);
      expect(web).to.deep.include({ id: running, name: `${tag}-web`, state: 'running', exitCode: 0, health: 'none', tty: false, image: services().baseImage });
      expect(web.env).to.include('GREETING=hi');
      expect(web.ports).to.have.length(1);
      expect(web.ports[0]!.containerPort).to.equal('8080/tcp');
      expect(Number(web.ports[0]!.hostPort)).to.be.above(0);
      const bad = await inspectContainer(host, failed);
      expect(bad).to.deep.include({ state: 'exited', exitCode: 3 });
    });

    it('tails the logs, stdout and stderr apart', async () => {
      const web = await inspectContainer(host, running);
      const tail = await containerLogTail(host, running, { lines: 50, tty: web.tty });
      expect(tail.stdout).to.equal('hello from hi\n');
      expect(tail.stderr).to.equal('warning: on stderr\n');
      expect((await containerLogTail(host, failed, { lines: 50, tty: false })).stdout).to.equal('about to fail\n');
    });

    it('restarts a container: it starts again and prints again', async () => {
      const before = await inspectContainer(host, running);
      await restartContainer(host, running);
      const after = await inspectContainer(host, running);
      expect(after.state).to.equal('running');
      expect(after.startedAt).to.not.equal(before.startedAt);
      await waitFor('the second start to print', async () => (await containerLogTail(host, running, { lines: 50, tty: false })).stdout === 'hello from hi\nhello from hi\n');
    });

    it('reports the OS, the Docker version and the data root', async () => {
      const info = await hostInfo(host);
      const local = JSON.parse(execFileSync('docker', ['info', '--format', '{{json .}}'], { encoding: 'utf8' })) as Record<string, string>;
      expect(info).to.deep.equal({ hostname: local.Name, operatingSystem: local.OperatingSystem, dockerVersion: local.ServerVersion, dockerRootDir: local.DockerRootDir });
    });

    it('measures the data root filesystem as df does, and leaves no probe container behind', async () => {
      const info = await hostInfo(host);
      const percent = await dataRootUsePercent(host, { image: services().baseImage, rootDir: info.dockerRootDir });
      const local = parseDfCapacity(execFileSync('df', ['-P', info.dockerRootDir], { encoding: 'utf8' }));
      expect(percent).to.be.a('number').within(0, 100);
      // The same machine measured twice: the figures may differ by what was written in between.
      expect(Math.abs(percent - local!)).to.be.at.most(1);
      expect(await listLabelledContainers(host, { 'io.openaperture.probe': 'disk' })).to.deep.equal([]);
    });

    it('a missing probe image is an error naming the host, not a number', async () => {
      const info = await hostInfo(host);
      const err = await rejectionOf(dataRootUsePercent(host, { image: 'openaperture/no-such-image:0', rootDir: info.dockerRootDir }));
      expect(isDockerHostError(err), String(err)).to.equal(true);
      expect(String(err)).to.include(`Docker host ${host.name}`);
    });
  });
}

describe('runtime/docker/inspect on dead hosts', function () {
  this.timeout(30_000);
  needs('sshd');
  it('a refused tcp:// host and an ssh:// host whose port is closed: errors naming each host', async () => {
    const s = services();
    const port = await closedPort();
    const dead = [
      dockerHost({ name: 'gone', url: 'tcp://127.0.0.1:1' }),
      dockerHost({ name: 'gone-ssh', url: `ssh://${s.ssh.user}@127.0.0.1:${port}`, sshPrivateKey: readFileSync(s.ssh.keyPath, 'utf8') }),
    ];
    for (const host of dead) {
      const err = await rejectionOf(listLabelledContainers(host, { a: 'b' }));
      expect(isDockerHostError(err), String(err)).to.equal(true);
      expect(String(err)).to.match(new RegExp(`Docker host ${host.name} \\(.*\\): list containers: cannot reach the host`));
      await host.close();
    }
  });
});
