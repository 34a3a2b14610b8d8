import { expect } from 'chai';
import { connect } from 'amqplib';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagerClient } from '../../http/client/manager-client.js';
import { scratchPostgres } from '../http/harness.js';
import { needs, services } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import {
  assemblies,
  completion,
  exampleRepos,
  hostPortsOf,
  removeContainersOf,
  smtpSink,
  startAssemblies,
  twoExchangeMetadata,
  type Assemblies,
  workTree,
} from './platform.js';

/**
 * Issue 9, seed 001: the management assembly in exchange 1 and the build and deploy assemblies in exchange 2 (a child
 * of 1: routing keys `<root>.<zone>.<queue>`), three processes over RabbitMQ and PostgreSQL. The same example
 * workflow completes; then the `build` process is killed with SIGKILL during a build and restarted by this test (the
 * process manager's role), and that workflow still completes exactly once.
 */
describe('e2e: management, build and deploy processes over RabbitMQ in two exchanges', function () {
  this.timeout(600_000);
  needs('postgres', 'rabbitmq', 'docker', 'registry');
  const root = `oa_e2e_${randomUUID().slice(0, 8)}`;
  const zone = 'zone2';
  const vhost = `oa-e2e-${randomUUID().slice(0, 8)}`;
  const mailTo = 'ops@example.test';
  let platform: Assemblies | undefined;
  let dir: string;
  let db: Awaited<ReturnType<typeof scratchPostgres>>;
  let smtp: Awaited<ReturnType<typeof smtpSink>>;
  let repos: ReturnType<typeof exampleRepos>;
  let client: ManagerClient;
  const workflows: string[] = [];

  before(async function () {
    this.timeout(400_000);
    dir = mkdtempSync(join(tmpdir(), 'oa-e2e-3p-'));
    db = await scratchPostgres();
    smtp = await smtpSink();
    repos = exampleRepos(mailTo);
    const amqp = new URL(services().amqpUrl);
    // The management exchange in the default vhost, the zone in a vhost of its own (each exchange its own broker).
    execFileSync('rabbitmqctl', ['add_vhost', vhost], { stdio: 'ignore' });
    execFileSync('rabbitmqctl', ['set_permissions', '-p', vhost, decodeURIComponent(amqp.username), '.*', '.*', '.*'], { stdio: 'ignore' });
    const metadata = twoExchangeMetadata(root, zone, { management: { primary: { url: services().amqpUrl, vhost: '/' } }, zone: { primary: { url: services().amqpUrl, vhost } } });
    platform = await assemblies({ dir, metadata, databaseUrl: db.url, smtpPort: smtp.port });
    client = await startAssemblies(platform, { root, zone, clusterToken: 'local' });
  });

  after(async () => {
    await platform?.stopAll();
    for (const id of workflows) await removeContainersOf(id);
    await smtp?.close();
    await db?.drop();
    const raw = await connect(services().amqpUrl);
    const channel = await raw.createChannel();
    // The management exchange's queues live in the shared vhost; other suites use the same names.
    for (const queue of ['workflow_orchestration', 'system_modules', 'overseer', 'notifications_hipchat', 'notifications_email', 'build_logs']) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(`${queue}_error`);
    }
    await channel.deleteExchange(root);
    await raw.close();
    execFileSync('rabbitmqctl', ['delete_vhost', vhost], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    if (repos) rmSync(repos.dir, { recursive: true, force: true });
  });

  it('runs the example [build, deploy] workflow across the three processes', async () => {
    const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build', 'deploy'] });
    workflows.push(id);
    expect(await client.workflows.execute(id)).to.include({ queued: true });
    const done = await completion(client, id, 300_000);
    expect(done.workflow_error, (done.event_log ?? []).join('\n')).to.equal(false);
    expect((done.event_log ?? []).join('\n')).to.match(/exchange 2/);
    for (const port of await hostPortsOf(id)) expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).to.match(/hello/i);
    const mail = await waitFor('the completion e-mail', () => smtp.mails.find((m) => m.text.includes(id)), 60_000);
    expect(mail.messageId, 'every copy of the completion e-mail has this Message-ID').to.equal(`<workflow-completed-email/${id}@openaperture>`);
  });

  it('completes a workflow exactly once when the build process is killed with SIGKILL mid-build and restarted', async () => {
    slowDownBuild(repos.dir);
    const id = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build', 'deploy'], execute_options: { force_build: true } });
    workflows.push(id);
    expect(await client.workflows.execute(id, { force_build: true })).to.include({ queued: true });
    await waitFor('the build to start', async () => (await client.workflows.get(id))?.current_step === 'build', 120_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await platform!.get('build').kill();
    platform!.start('build');
    const done = await completion(client, id, 400_000);
    const log = (done.event_log ?? []).join('\n');
    expect(done.workflow_error, log).to.equal(false);
    expect(log.match(/Workflow completed in/g), log).to.have.length(1);
    const ports = await hostPortsOf(id);
    expect(ports).to.have.length(1);
  });
});

/** A build step long enough to kill the build process in (the deployment repo's Dockerfile gets a `RUN sleep`). */
function slowDownBuild(reposDir: string): void {
  const deployment = workTree(join(reposDir, 'hello_docker'));
  const dockerfile = readFileSync(join(deployment.work, 'Dockerfile.eex'), 'utf8');
  deployment.commit('a slow build', { 'Dockerfile.eex': `${dockerfile}RUN echo slow build && sleep 15\n` });
  rmSync(deployment.work, { recursive: true, force: true });
}
