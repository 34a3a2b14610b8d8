import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressesReported } from '../../actors/deployer/messages.js';
import { haproxyBinary, needs, services } from '../helpers/services.js';
import { get } from '../runtime/haproxy/harness.js';
import { waitFor } from '../helpers/wait.js';
import {
  adminClient,
  adminSecretOf,
  completion,
  exampleRepos,
  freePort,
  removeContainersOf,
  smtpSink,
  startTopology,
  type PlatformProcess,
  workersRegistered,
} from './platform.js';

/**
 * Issue 9: the embedded default from an empty data directory, as a newcomer runs it: one process, every component,
 * the in-memory transport, PGlite; bootstrap registers the local Docker host as cluster `local`; the example
 * [build, deploy] workflow runs from local git repos and answers at the router address the deploy reports (the
 * Router runs in the all-in-one); the completion e-mail arrives.
 */
describe('e2e: the all-in-one topology runs the example workflow', function () {
  this.timeout(300_000);
  needs('docker', 'registry', 'haproxy');
  const mailTo = 'dev@example.test';
  let data: string;
  let platform: PlatformProcess | undefined;
  let smtp: Awaited<ReturnType<typeof smtpSink>>;
  let repos: ReturnType<typeof exampleRepos>;
  let workflowId: string | undefined;
  let routePort: number;

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'oa-e2e-data-'));
    smtp = await smtpSink();
    routePort = await freePort();
    repos = exampleRepos(mailTo, routePort);
  });
  after(async () => {
    await platform?.stop();
    await smtp.close();
    if (workflowId !== undefined) await removeContainersOf(workflowId);
    rmSync(data, { recursive: true, force: true });
    rmSync(repos.dir, { recursive: true, force: true });
  });

  it('starts, bootstraps, builds and deploys the example, answers HTTP, mails the result, and stops cleanly', async () => {
    const port = await freePort();
    platform = startTopology('all-in-one', {
      ...process.env,
      OA_DATA_DIR: data,
      MANAGER_HTTP_PORT: String(port),
      DOCKER_HOST: `unix://${services().dockerSocket}`,
      SMTP_URI: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_FROM: 'openaperture@example.test',
      UI_URL: 'http://ui.example.test',
      OA_LOG_LEVEL: 'warn',
      ROUTER_HAPROXY_BINARY: haproxyBinary(),
    });
    const secret = await adminSecretOf(platform);
    const client = adminClient(`http://127.0.0.1:${port}`, secret);
    const hosts = await client.clusters.hosts('local');
    expect(hosts.items.map((h) => h.docker_url)).to.deep.equal([`unix://${services().dockerSocket}`]);

    await workersRegistered(client, 1);
    workflowId = await client.workflows.create({ deployment_repo: repos.deployment, source_repo: repos.source, milestones: ['build', 'deploy'] });
    expect(await client.workflows.execute(workflowId)).to.include({ queued: true });
    const done = await completion(client, workflowId, 240_000);
    expect(done.workflow_error, (done.event_log ?? []).join('\n')).to.equal(false);
    expect(done.current_step).to.equal('workflow_completed');

    const url = `http://hello.localhost:${routePort}/`;
    expect(addressesReported(done.event_log ?? [])).to.deep.equal([url]);
    // What `curl http://hello.localhost:<port>/` does: *.localhost is loopback, and the Host header picks the route.
    const answer = await get(routePort, 'hello.localhost');
    expect(answer.status).to.equal(200);
    expect(answer.body).to.match(/hello/i);

    const mail = await waitFor('the completion e-mail', () => smtp.mails.find((m) => m.to.includes(mailTo)), 60_000);
    expect(mail.text).to.match(/Subject: SUCCEEDED \[OA\]\[/);
    expect(mail.text).to.include(`/index.html#/oa/workflows/workflows/${workflowId}`);

    expect(await platform.stop()).to.equal(0);
  });
});
