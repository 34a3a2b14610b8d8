/**
 * Effects keyed by dispatch (issue 14 item 1). The orchestrator saves a workflow's run, with the id of the dispatch it
 * waits for, before it sends the worker's request (actors/orchestrator/core/steps.ts); RabbitMQ may deliver that
 * request again (a worker killed mid-milestone, a broker failing over or back) after the workflow has moved on. So a
 * worker first asks the Manager whether the workflow still waits for that dispatch, and drops a stale or finished one
 * (with a log line, and an ack) instead of committing, pushing or deploying a second time.
 */
import type { ManagerClient } from '../../http/client/manager-client.js';
import type { Workflow } from '../../http/client/schemas.js';
import type { Delivered } from '../../runtime/messaging/intake.js';
import type { Logger } from '../../runtime/logger.js';
import { awaitedDispatchOf, type OrchestrationRequest } from '../orchestrator/messages.js';
import { Once } from '../../runtime/core/once.js';

export type Standing = { readonly current: true } | { readonly current: false; readonly reason: string };

/** Whether `request` is the dispatch its workflow waits for; when not, why (the log line's reason). */
export function standingOf(
  workflow: Pick<Workflow, 'workflow_completed' | 'current_step' | 'orchestration'> | undefined,
  request: Pick<OrchestrationRequest, 'id' | 'dispatch_id' | 'current_step'>,
): Standing {
  const step = request.current_step ?? 'unknown';
  if (workflow === undefined) return { current: false, reason: `workflow ${request.id} does not exist (any more)` };
  if (workflow.workflow_completed === true) return { current: false, reason: `workflow ${request.id} has finished (${workflow.current_step ?? 'no step'})` };
  if (request.dispatch_id === null || request.dispatch_id === undefined) return { current: false, reason: `the ${step} request carries no dispatch_id, so it was not sent by an orchestrator` };
  const awaited = awaitedDispatchOf(workflow.orchestration);
  if (awaited === request.dispatch_id) return { current: true };
  const now = awaited === null ? 'no dispatch' : `dispatch ${awaited} (${workflow.current_step ?? 'no step'})`;
  return { current: false, reason: `workflow ${request.id} waits for ${now}, not for ${step} dispatch ${request.dispatch_id}` };
}

export interface Admission {
  readonly manager: Pick<ManagerClient, 'workflows'>;
  readonly log: Logger;
}

/**
 * A worker's save refused by the Manager because the workflow no longer waits for the run's dispatch (it completed,
 * or it moved on to another dispatch while this run was in it): the run stops, reporting nothing more.
 */
export class DispatchSuperseded extends Error {
  override readonly name = 'DispatchSuperseded';
}

/** How a dispatch ended here: run to its end, dropped as stale, or stopped when the workflow moved on under it. */
type Verdict = 'ran' | 'stale' | 'superseded';

/**
 * Runs each current dispatch once in this process: a stale one is dropped with a log line; a copy of a dispatch that
 * is running here already (the broker redelivered it after a lost connection) waits for that run instead of starting
 * a second one; a copy of one that ended here (an orchestrator resumed and sent its unconfirmed request again) is
 * dropped without asking. A run that threw is forgotten, so its redelivery runs again. Across a restart of the
 * process, the Manager's answer (standingOf) and its refusal of a stale run's saves (DispatchSuperseded) cover it.
 * `run` gets whether the broker had delivered the request before (a re-run, for the event log).
 */
export class DispatchGate {
  readonly #once = new Once<Verdict>({ max: 10_000, ttlMs: 3_600_000 });

  constructor(private readonly deps: Admission) {}

  async run(delivered: Delivered<OrchestrationRequest>, run: (rerun: boolean) => Promise<void>): Promise<void> {
    const request = delivered.payload;
    const log = this.deps.log.child({ workflowId: request.id, milestone: request.current_step, dispatchId: request.dispatch_id });
    const { outcome, fresh } = await this.#once.run(`${request.id}/${request.dispatch_id ?? ''}`, () => this.#admitted(request, log, () => run(delivered.redelivered)));
    if (!fresh) log.info({ verdict: outcome }, 'a copy of a dispatch this process has run or is running: not run again');
  }

  async #admitted(request: OrchestrationRequest, log: Logger, run: () => Promise<void>): Promise<Verdict> {
    const standing = standingOf(await this.deps.manager.workflows.get(request.id), request);
    if (!standing.current) {
      log.info({ reason: standing.reason }, 'stale milestone request dropped');
      return 'stale';
    }
    try {
      await run();
      return 'ran';
    } catch (err) {
      if (!(err instanceof DispatchSuperseded)) throw err;
      log.info({ reason: err.message }, 'the workflow moved on while this dispatch ran: stopped, nothing more reported');
      return 'superseded';
    }
  }
}

/** The event-log line of a re-run: the broker delivered the request again because an earlier attempt did not finish. */
export const rerunNotice = (step: string | null | undefined): string =>
  `The ${step ?? 'milestone'} request was delivered again (an earlier attempt did not finish): running it again`;
