import type { Command } from 'commander';
import { CliError } from '../core/errors.js';
import { milestoneList, wholeNumber } from '../core/inputs.js';
import { statusOf } from '../core/progress.js';
import { addressLines } from '../core/routes.js';
import { formatFields, formatTable } from '../core/table.js';
import { followWorkflow } from '../follow.js';
import { followReporter, type Context } from '../output.js';
import { MILESTONES } from '../../actors/orchestrator/messages.js';
import { systemEventsApi } from '../../http/client/system-api.js';
import type { SystemEvent, Workflow } from '../../http/client/schemas.js';
import { workflowsApi } from '../../http/client/workflows-api.js';

/** Workflows (reference §3.4): run one and follow it (§1.15's oa_deployer), list, show, cancel; and system events. */

interface RunOptions {
  readonly sourceRepo?: string;
  readonly sourceRef?: string;
  readonly deploymentRef?: string;
  readonly milestones: string;
  readonly forceBuild?: boolean;
  readonly follow: boolean;
  readonly poll: string;
  readonly timeout: string;
}

async function run(ctx: Context, deploymentRepo: string, o: RunOptions): Promise<void> {
  const milestones = milestoneList(o.milestones, MILESTONES);
  const pollMs = wholeNumber(o.poll, '--poll', 1, 600) * 1_000;
  const timeoutMs = wholeNumber(o.timeout, '--timeout', 1) * 1_000;
  const session = await ctx.session();
  const workflows = workflowsApi(session.http);
  const id = await workflows.create({
    deployment_repo: deploymentRepo,
    milestones,
    ...(o.sourceRepo === undefined ? {} : { source_repo: o.sourceRepo }),
    ...(o.sourceRef === undefined ? {} : { source_repo_git_ref: o.sourceRef }),
    ...(o.deploymentRef === undefined ? {} : { deployment_repo_git_ref: o.deploymentRef }),
  });
  ctx.out.say(`workflow ${id} created: ${deploymentRepo} [${milestones.join(', ')}]`);
  const execute = async () => {
    const outcome = await workflows.execute(id, { force_build: o.forceBuild === true });
    if (!outcome.queued) throw new CliError(`workflow ${id} was not started: ${outcome.reason}`);
  };
  if (!o.follow) {
    await execute();
    ctx.out.result({ id, queued: true }, () => `workflow ${id} queued; follow it with: openaperture workflow show ${id}`);
    return;
  }
  const done = await followWorkflow(
    { workflows, baseUrl: session.url, token: session.token, reporter: followReporter(ctx.out, id), pollMs, timeoutMs, start: execute },
    id,
  );
  if (statusOf(done) !== 'succeeded') {
    process.exitCode = 1;
    return;
  }
  for (const line of addressLines(done)) ctx.out.say(line);
}

const workflowColumns = [
  { header: 'ID', value: (w: Workflow) => w.id },
  { header: 'DEPLOYMENT REPO', value: (w: Workflow) => w.deployment_repo },
  { header: 'STATUS', value: (w: Workflow) => statusOf(w) },
  { header: 'STEP', value: (w: Workflow) => w.current_step },
  { header: 'UPDATED', value: (w: Workflow) => w.updated_at },
];

interface ListOptions {
  readonly lookback: string;
  readonly repo?: string;
  readonly limit: string;
}

async function list(ctx: Context, o: ListOptions): Promise<void> {
  const query = { lookback: wholeNumber(o.lookback, '--lookback', 0), limit: wholeNumber(o.limit, '--limit', 1, 1_000), ...(o.repo === undefined ? {} : { deployment_repo: o.repo }) };
  const { items } = await workflowsApi((await ctx.session()).http).list(query);
  ctx.out.result(items, () => formatTable(workflowColumns, items, 'no workflows (see --lookback)'));
}

async function show(ctx: Context, id: string): Promise<void> {
  const w = await workflowsApi((await ctx.session()).http).get(id);
  if (w === undefined) throw new CliError(`no workflow ${id} (see: openaperture workflow list)`);
  ctx.out.result(w, () => {
    const fields = formatFields([
      ['id', w.id],
      ['status', statusOf(w)],
      ['deployment repo', w.deployment_repo],
      ['source repo', w.source_repo],
      ['source ref', w.source_repo_git_ref],
      ['commit', w.source_commit_hash],
      ['milestones', (w.milestones ?? []).join(', ')],
      ['current step', w.current_step],
      ['duration', w.workflow_duration],
      ['created', w.inserted_at],
      ['updated', w.updated_at],
    ]);
    const log = (w.event_log ?? []).map((line) => `  ${line}`).join('\n');
    return log === '' ? fields : `${fields}\nevent log:\n${log}`;
  });
}

async function cancel(ctx: Context, id: string): Promise<void> {
  const outcome = await workflowsApi((await ctx.session()).http).cancel(id);
  if (!outcome.cancelled) throw new CliError(`workflow ${id} was not cancelled: ${outcome.reason}`);
  ctx.out.result({ id, cancelled: true }, () => `workflow ${id} cancelled`);
}

async function events(ctx: Context, o: { lookback: string; limit: string }): Promise<void> {
  const query = { lookback: wholeNumber(o.lookback, '--lookback', 0), limit: wholeNumber(o.limit, '--limit', 1, 1_000) };
  const { items } = await systemEventsApi((await ctx.session()).http).list(query);
  ctx.out.result(items, () =>
    formatTable<SystemEvent>(
      [
        { header: 'ID', value: (e) => e.id },
        { header: 'SEVERITY', value: (e) => e.severity },
        { header: 'TYPE', value: (e) => e.type },
        { header: 'MESSAGE', value: (e) => e.message },
        { header: 'AT', value: (e) => e.inserted_at },
      ],
      items,
      'no system events (see --lookback)',
    ),
  );
}

export function registerWorkflow(program: Command, ctx: () => Context): void {
  const workflow = program.command('workflow').description('workflows: render, build and deploy a deployment repo');
  workflow
    .command('run <deployment-repo>')
    .description('create a workflow, start it and follow it to the end (exit code 0 when it succeeds, 1 when it fails)')
    .option('--source-repo <url>', 'the source repo (else source.json of the deployment repo)')
    .option('--source-ref <ref>', 'the source branch, tag or commit')
    .option('--deployment-ref <ref>', 'the deployment repo branch')
    .option('--milestones <list>', `comma-separated, in order: ${MILESTONES.join(', ')}`, 'build,deploy')
    .option('--force-build', 'build the image even if it exists')
    .option('--no-follow', 'start it and return')
    .option('--poll <seconds>', 'how often to ask for progress', '2')
    .option('--timeout <seconds>', 'give up following after this long (the workflow goes on)', '3600')
    .action((repo: string, o: RunOptions) => run(ctx(), repo, o));
  workflow
    .command('list')
    .description('recent workflows, newest first')
    .option('--lookback <hours>', 'how far back (0: all)', '24')
    .option('--repo <deployment-repo>', 'only this deployment repo')
    .option('--limit <n>', 'at most this many', '50')
    .action((o: ListOptions) => list(ctx(), o));
  workflow.command('show <id>').description('a workflow and its event log').action((id: string) => show(ctx(), id));
  workflow.command('cancel <id>').description('fail a running workflow at once').action((id: string) => cancel(ctx(), id));

  program
    .command('events')
    .description('system events (newest first)')
    .option('--lookback <hours>', 'how far back', '24')
    .option('--limit <n>', 'at most this many', '50')
    .action((o: { lookback: string; limit: string }) => events(ctx(), o));
}
