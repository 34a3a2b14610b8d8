import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { containerOps, demuxLog, type ContainerOps } from '../../../runtime/docker/containers.js';
import { isDockerHostError, type DockerHost } from '../../../runtime/docker/host.js';
import { connect, needsDockerHosts, threeHosts } from '../../helpers/docker-hosts.js';
import { needs, services } from '../../helpers/services.js';
import { rejectionOf, waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

describe('runtime/docker/containers: container operations on a host', function () {
  this.timeout(120_000);
  needs('docker', 'registry-auth', 'sshd');
  needsDockerHosts();
  const tag = randomUUID().slice(0, 8);
  const label = { 'io.openaperture.test': tag };
  let hosts: DockerHost[];
  let privateImage: string;

  before(async () => {
    hosts = threeHosts().map((h) => connect(h));
    const { registryAuth, baseImage } = services();
    privateImage = `${registryAuth.host}/oa-containers-test/busybox:${tag}`;
    await run('docker', ['tag', baseImage, privateImage]);
    const config = (await run('mktemp', ['-d'])).stdout.trim();
    await run('sh', ['-c', `printf %s "$PW" | DOCKER_CONFIG=${config} docker login -u ${registryAuth.user} --password-stdin ${registryAuth.host} && DOCKER_CONFIG=${config} docker push ${privateImage}; rc=$?; rm -rf ${config}; exit $rc`], { env: { ...process.env, PW: registryAuth.password } });
    await run('docker', ['rmi', privateImage]);
  });
  after(async () => {
    for (const h of hosts ?? []) {
      const ops = containerOps(h);
      for (const c of await ops.listByLabels(label)) await ops.remove(c.id);
      await h.call('remove image', (api) => api.getImage(privateImage).remove({ force: true })).catch(() => undefined);
      await h.close();
    }
  });

  const spec = (name: string, command: string[], ports: Array<{ container: number; host: number }> = []) => ({
    name: `${name}-${tag}`,
    image: privateImage,
    labels: { ...label, role: name },
    env: { GREETING: 'hi there' },
    ports,
    restartPolicy: 'unless-stopped' as const,
    command,
  });

  it('pulls an image from an authenticated registry only when the host lacks it (over ssh too), and refuses bad credentials naming the host', async () => {
    const { registryAuth } = services();
    const ssh: ContainerOps = containerOps(hosts[1]!);
    const wrong = await rejectionOf(ssh.ensureImage(privateImage, { username: registryAuth.user, password: 'wrong', serveraddress: registryAuth.host }));
    expect(isDockerHostError(wrong) && wrong.message.startsWith(`Docker host h2 (${hosts[1]!.url}): pull ${privateImage}`)).to.equal(true);
    const auth = { username: registryAuth.user, password: registryAuth.password, serveraddress: registryAuth.host };
    expect(await ssh.ensureImage(privateImage, auth)).to.deep.equal({ pulled: true });
    expect(await ssh.ensureImage(privateImage, auth)).to.deep.equal({ pulled: false });
  });

  it('creates with name, labels, env, ports and restart policy; starts, inspects, tails logs, lists by label, stops, removes', async () => {
    const ops = containerOps(hosts[2]!);
    const { registryAuth } = services();
    await ops.ensureImage(privateImage, { username: registryAuth.user, password: registryAuth.password, serveraddress: registryAuth.host });
    const script = 'echo oops >&2; sleep 0.3; for i in 1 2 3 4 5; do echo "line $i $GREETING"; done; mkdir -p /www; echo up > /www/index.html; httpd -f -p 8080 -h /www & trap "kill $!; exit 0" TERM; wait';
    const id = await ops.create(spec('web', ['sh', '-c', script], [{ container: 8080, host: 44_990 }]));
    expect((await ops.inspect(id))?.state).to.equal('created');
    await ops.start(id);
    await waitFor('the published port', async () => (await fetch('http://127.0.0.1:44990/')).ok);
    const state = await ops.inspect(id);
    expect(state).to.include({ name: `web-${tag}`, running: true, restartCount: 0, health: null, state: 'running' });
    expect(state?.labels).to.include({ role: 'web' });
    const detail = await hosts[2]!.call('inspect', (api) => api.getContainer(id).inspect());
    expect(detail.HostConfig.RestartPolicy?.Name).to.equal('unless-stopped');
    expect(detail.Config.Env).to.include('GREETING=hi there');
    const tail = await waitFor('log lines', async () => ((await ops.logsTail(id, 10)).length === 6 ? ops.logsTail(id, 3) : undefined));
    expect(tail).to.deep.equal(['line 3 hi there', 'line 4 hi there', 'line 5 hi there']);
    expect(await ops.logsTail(id, 10)).to.include('oops');
    expect((await ops.listByLabels({ ...label, role: 'web' })).map((c) => [c.id, c.state])).to.deep.equal([[id, 'running']]);
    expect(await ops.listByLabels({ ...label, role: 'nobody' })).to.deep.equal([]);
    await ops.stop(id, 5);
    expect((await ops.inspect(id))?.running).to.equal(false);
    await ops.stop(id, 5);
    await ops.remove(id);
    await ops.remove(id);
    expect(await ops.inspect(id)).to.equal(undefined);
  });

  it('shows a crashing container restarting under its policy', async () => {
    const ops = containerOps(hosts[0]!);
    const id = await ops.create({ ...spec('crash', ['sh', '-c', 'echo dying; exit 3']), image: services().baseImage });
    await ops.start(id);
    const state = await waitFor('a restart', async () => {
      const s = await ops.inspect(id);
      return s !== undefined && s.restartCount > 0 ? s : undefined;
    });
    expect(state.restartCount).to.be.greaterThan(0);
    expect((await ops.logsTail(id, 1))[0]).to.equal('dying');
    await ops.remove(id);
  });

  it('demultiplexes Docker log frames and leaves TTY text as is', () => {
    const frame = (stream: number, text: string) => {
      const header = Buffer.from([stream, 0, 0, 0, 0, 0, 0, 0]);
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    expect(demuxLog(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).to.equal('out\nerr\n');
    expect(demuxLog(Buffer.from('plain tty text\n'))).to.equal('plain tty text\n');
  });
});
