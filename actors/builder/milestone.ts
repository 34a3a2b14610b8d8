/**
 * One Builder milestone from request to report (reference §6.1): `config` renders the templates and checks that the
 * image exists; `build` renders, builds, pushes and verifies. Always in a temporary directory that is removed, and
 * always ending in `completed` or `failed`; only a failure to report escapes (the delivery is then retried).
 */
import { buildStep, verifyImage } from './build-step.js';
import type { BuilderDeps } from './deps.js';
import { orFail, reasonOf } from './errors.js';
import { prepare, type Prepared } from './prepare.js';
import { milestoneOf } from './core/plan.js';
import { withWorkspace } from './workspace.js';
import { DispatchSuperseded, rerunNotice } from '../shared/dispatch.js';
import { milestoneReport, type MilestoneReport } from '../shared/milestone-report.js';
import type { OrchestrationRequest } from '../orchestrator/messages.js';

/** What the Builder adds to the request for the milestones after it (reference §6.1 step 4). */
function additionsOf(p: Prepared): Partial<OrchestrationRequest> {
  return {
    source_repo_git_ref: p.sha,
    source_commit_hash: p.sha,
    docker_image: p.image.image,
    ...(p.etcdToken === undefined ? {} : { etcd_token: p.etcdToken }),
    ...(p.units === undefined ? {} : { deployable_units: p.units }),
    ...(p.fleetConfig === undefined ? {} : { fleet_config: p.fleetConfig }),
    ...(p.notificationsConfig === undefined ? {} : { notifications_config: p.notificationsConfig }),
  };
}

async function run(deps: BuilderDeps, report: MilestoneReport, dir: string): Promise<Partial<OrchestrationRequest>> {
  const milestone = orFail(milestoneOf(report.request.current_step));
  const prepared = await prepare(deps, report, dir, AbortSignal.timeout(deps.args.milestoneTimeoutMs));
  if (milestone === 'config') await verifyImage(report, prepared);
  else await buildStep(deps, report, prepared);
  return additionsOf(prepared);
}

/** Runs `request`; `rerun` when the broker delivered it before (an earlier attempt did not finish). */
export async function runMilestone(deps: BuilderDeps, request: OrchestrationRequest, rerun = false): Promise<void> {
  const report = milestoneReport(deps, request);
  const log = deps.log.child({ workflowId: request.id, milestone: request.current_step });
  const kind = request.current_step === 'build' ? 'Build' : 'Config';
  if (rerun) await report.notify(rerunNotice(request.current_step));
  await report.notify(`${kind} request is being processed by Builder ${deps.hostname}`);
  let additions: Partial<OrchestrationRequest>;
  try {
    additions = await withWorkspace(deps.args.tmpDir, request.id, (dir) => run(deps, report, dir));
  } catch (err) {
    if (err instanceof DispatchSuperseded) throw err;
    const reason = reasonOf(err);
    if (reason.startsWith('unexpected failure')) log.error({ err }, 'milestone failed unexpectedly');
    else log.info({ reason }, 'milestone failed');
    return report.failed(reason);
  }
  await report.completed(additions);
}
