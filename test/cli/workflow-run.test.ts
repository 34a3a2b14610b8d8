import { expect } from 'chai';
import { addressNotice } from '../../actors/deployer/messages.js';
import { configDir, liveManager, runCli, stopCliProcesses, type CliManager, type CliResult } from './harness.js';
import { managerBuildLogs, standInOrchestrator, startBuildLogFront, type BuildLogSource, type Executed } from './stand-ins.js';
import type { Subscription } from '../../runtime/messaging/transport.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `openaperture workflow run` against the real Manager, with stand-ins for the orchestrator and the build-log stream:
 * each step of the stand-in waits until the CLI has printed the previous one, so the output shown is live, not a
 * summary printed at the end.
 */
const SOURCES = {
  "the Manager's build-log endpoint": (m: CliManager) => Promise.resolve(managerBuildLogs(m.baseUrl, m.broker)),
  'a stand-in speaking the build-log contract': (m: CliManager) => startBuildLogFront(m.baseUrl),
};

for (const [title, startSource] of Object.entries(SOURCES)) describe(`openaperture workflow run, build lines from ${title}`, function () {
  this.timeout(120_000);
  const manager = liveManager();
  const config = configDir();
  let front: BuildLogSource;
  let orchestrator: Subscription;
  const failures: unknown[] = [];
  /** stdout lines of the CLI run in progress. */
  let printed: string[] = [];
  const executed: Executed[] = [];

  /** A stdout line as a JSON event (--json), or undefined for a line for people. */
  const eventOf = (line: string): Record<string, unknown> | undefined => (line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : undefined);
  const saw = (what: string, seen: (line: string) => boolean) => waitFor(`the CLI to print ${what}`, () => printed.some(seen), 60_000);
  const sawMilestone = (name: string, position: number) =>
    saw(`milestone ${name}`, (l) => l === `==> milestone ${position}/2: ${name}` || (eventOf(l)?.type === 'milestone' && eventOf(l)?.milestone === name));
  const sawBuildLine = (text: string) => saw(`build line ${text}`, (l) => l === `    build | ${text}` || eventOf(l)?.line === text);

  /** Moves the workflow on, as the orchestrator and a worker would: through the Manager's API. */
  async function save(id: string, fields: Record<string, unknown>): Promise<void> {
    const res = await manager().call('PUT', `/workflows/${id}`, fields);
    if (res.status !== 204) throw new Error(`PUT /workflows/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  /** The build milestone, then deploy unless the repo is meant to fail. */
  async function orchestrate(request: Executed): Promise<void> {
    executed.push(request);
    const { id } = request;
    const fails = request.deployment_repo?.includes('broken') === true;
    const log = (m: string) => `[OA][${id}][${request.deployment_repo}] ${m}`;
    const events = [log('Starting workflow...'), log('Starting Workflow Milestone:  :build')];
    await save(id, { current_step: 'build', event_log: events });
    await front.connected(id);
    await sawMilestone('build', 1);
    front.emit(id, ['Step 1/4 : FROM openaperture/busybox:latest', 'Step 2/4 : COPY source/ /www/']);
    await sawBuildLine('Step 2/4 : COPY source/ /www/');
    if (fails) {
      front.emit(id, ['error: COPY failed: no source files were specified']);
      await sawBuildLine('error: COPY failed: no source files were specified');
      await save(id, { workflow_completed: true, workflow_error: true, workflow_duration: '2 seconds', event_log: [...events, log('Workflow Milestone Failed:  :build.  Reason:  the image did not build')] });
      front.end(id);
      return;
    }
    events.push(log('Completed Workflow Milestone:  :build, in 1 second'), log('Starting Workflow Milestone:  :deploy'));
    await save(id, { current_step: 'deploy', event_log: events });
    await sawMilestone('deploy', 2);
    front.end(id);
    const address = log(addressNotice('http://hello.localhost:8080/'));
    await save(id, { current_step: 'workflow_completed', workflow_completed: true, workflow_error: false, workflow_duration: '3 seconds', event_log: [...events, address, log('Workflow completed in 3 seconds')] });
  }

  before(async () => {
    front = await startSource(manager());
    orchestrator = await standInOrchestrator(manager().broker, orchestrate, failures);
    const { clientId, clientSecret } = await manager().addClient('operator');
    const login = await runCli(['login', '--url', front.baseUrl, '--client-id', clientId, '--client-secret', clientSecret], { env: { OA_CONFIG_DIR: config() } });
    expect(login.code, login.stderr).to.equal(0);
  });
  after(async () => {
    stopCliProcesses();
    await orchestrator?.cancel();
    await front?.close();
  });
  afterEach(() => expect(failures, 'the stand-in orchestrator failed').to.deep.equal([]));

  const run = (...args: string[]): Promise<CliResult> => {
    printed = [];
    // --timeout: a CLI that misses the end gives up within the test's own time.
    return runCli(['workflow', 'run', '--timeout', '90', ...args], { env: { OA_CONFIG_DIR: config() }, onLine: (line) => printed.push(line) });
  };

  it("follows milestones and build log lines live, exits 0 when the workflow succeeds, and ends with the app's URL", async () => {
    const r = await run('file:///tmp/examples/hello_docker', '--source-repo', 'file:///tmp/examples/hello', '--source-ref', 'main', '--poll', '1', '--force-build');
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    const id = /^workflow (\S+) created: file:\/\/\/tmp\/examples\/hello_docker \[build, deploy\]$/.exec(lines[0] ?? '')?.[1];
    expect(id, lines[0]).to.be.a('string');
    expect(lines.slice(1)).to.deep.equal([
      '==> milestone 1/2: build',
      '    Starting workflow...',
      '    Starting Workflow Milestone:  :build',
      '    build | Step 1/4 : FROM openaperture/busybox:latest',
      '    build | Step 2/4 : COPY source/ /www/',
      '==> milestone 2/2: deploy',
      '    Completed Workflow Milestone:  :build, in 1 second',
      '    Starting Workflow Milestone:  :deploy',
      '    The app answers at http://hello.localhost:8080/',
      '    Workflow completed in 3 seconds',
      `workflow ${id} succeeded in 3 seconds`,
      'the app answers at http://hello.localhost:8080/',
    ]);
    const request = executed.find((e) => e.id === id);
    expect(request).to.include({ source_repo: 'file:///tmp/examples/hello', source_repo_git_ref: 'main' });
    expect(request?.execute_options?.force_build).to.equal(true);
    expect(request?.milestones).to.deep.equal(['build', 'deploy']);
  });

  it('exits 1 when the workflow fails, and --json prints one event per line', async () => {
    const r = await run('file:///tmp/examples/broken_docker', '--milestones', 'build,deploy', '--poll', '1', '--json');
    expect(r.code, r.stderr).to.equal(1);
    const events = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.type)).to.deep.equal(['milestone', 'event', 'event', 'build_log', 'build_log', 'build_log', 'event', 'completed']);
    expect(events.filter((e) => e.type === 'build_log').map((e) => e.line)).to.deep.equal([
      'Step 1/4 : FROM openaperture/busybox:latest',
      'Step 2/4 : COPY source/ /www/',
      'error: COPY failed: no source files were specified',
    ]);
    expect(events.at(-1)).to.include({ type: 'completed', succeeded: false, duration: '2 seconds' });
    expect(r.stderr).to.match(/^workflow \S+ created: file:\/\/\/tmp\/examples\/broken_docker \[build, deploy\]\n$/);
  });
});
