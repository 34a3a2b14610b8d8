import { readBuildLogs, type StreamEnd } from './build-logs.js';
import { headersUpTo, progressBetween, type FollowEvent } from './core/progress.js';
import { CliError } from './core/errors.js';
import type { Workflow } from '../http/client/schemas.js';
import type { WorkflowsApi } from '../http/client/workflows-api.js';
import { sleep } from '../runtime/core/promises.js';

/**
 * Follows one workflow until it completes (reference §1.15, which polled every 10 s for at most 20 minutes): polls
 * `GET /workflows/:id` for milestones and the event log, and reads the build-log stream at the same time.
 */

export interface FollowReporter {
  progress(event: FollowEvent): void;
  buildLines(lines: readonly string[]): void;
  /** Something the user should know that does not stop the follow (no build logs). */
  notice(text: string): void;
}

export interface FollowOptions {
  readonly workflows: WorkflowsApi;
  readonly baseUrl: string;
  readonly token: string;
  readonly reporter: FollowReporter;
  readonly pollMs: number;
  readonly timeoutMs: number;
  /** Runs once the build-log stream is open (or failed to open): the execute, so no early build line is missed. */
  readonly start?: () => Promise<void>;
}

/** Reconnects of the build-log stream before the follower goes on without logs. */
const LOG_ATTEMPTS = 5;
const LOG_RECONNECT_MS = 1_000;
/** How long the stream may take to open before the workflow is started anyway. */
const LOG_OPEN_MS = 3_000;
/** After completion, how long the last build lines may take to arrive before the verdict is printed. */
const LOG_DRAIN_MS = 5_000;

/** Settles when `work` does or `ms` have passed, whichever is first; the timer does not outlive it. */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

interface LogStreaming {
  /** Settles when the first connection is open or has failed. */
  readonly opened: Promise<void>;
  /** Settles when streaming has stopped for good. */
  readonly done: Promise<void>;
}

/**
 * Says each milestone header once, and before the build's first log line: the stream delivers build lines as they
 * come, the poll sees the milestone start later.
 */
class Headers {
  private readonly printed = new Set<string>();
  private milestones: readonly string[] = [];

  constructor(private readonly reporter: FollowReporter) {}

  know(workflow: Workflow): void {
    this.milestones = workflow.milestones ?? [];
  }

  progress(event: FollowEvent): void {
    if (event.kind === 'milestone') {
      if (this.printed.has(event.milestone)) return;
      this.printed.add(event.milestone);
    }
    this.reporter.progress(event);
  }

  buildLines(lines: readonly string[]): void {
    for (const header of headersUpTo(this.milestones, 'build', this.printed)) this.progress(header);
    this.reporter.buildLines(lines);
  }
}

/** Reads build logs while `running()`, reconnecting a dropped stream, until the server says the workflow ended. */
function streamLogs(o: FollowOptions, id: string, signal: AbortSignal, running: () => boolean, headers: Headers): LogStreaming {
  let markOpened = (): void => undefined;
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const done = (async () => {
    let failures = 0;
    let last = '';
    while (!signal.aborted) {
      let end: StreamEnd;
      try {
        end = await readBuildLogs({ baseUrl: o.baseUrl, token: o.token, workflowId: id, signal, onLines: (lines) => headers.buildLines(lines), onOpen: markOpened });
      } catch (err) {
        markOpened();
        if (signal.aborted) return;
        failures += 1;
        last = err instanceof Error ? err.message : String(err);
        end = 'closed';
      }
      if (end === 'ended' || !running()) return;
      if (failures >= LOG_ATTEMPTS) {
        o.reporter.notice(`build logs unavailable (${last}); following milestones only`);
        return;
      }
      await sleep(LOG_RECONNECT_MS);
    }
  })();
  return { opened, done };
}

async function snapshot(workflows: WorkflowsApi, id: string): Promise<Workflow> {
  const w = await workflows.get(id);
  if (w === undefined) throw new CliError(`workflow ${id} no longer exists`);
  return w;
}

/** The completed workflow; a CliError when it is still running after `timeoutMs`. */
export async function followWorkflow(o: FollowOptions, id: string): Promise<Workflow> {
  const deadline = Date.now() + o.timeoutMs;
  const stop = new AbortController();
  let completed = false;
  const headers = new Headers(o.reporter);
  const logs = streamLogs(o, id, stop.signal, () => !completed, headers);
  try {
    await atMost(logs.opened, LOG_OPEN_MS);
    // Its milestones before it starts, so that the first build line already has its header.
    headers.know(await snapshot(o.workflows, id));
    await o.start?.();
    let before: Workflow | undefined;
    for (;;) {
      const after = await snapshot(o.workflows, id);
      headers.know(after);
      for (const event of progressBetween(before, after)) {
        // The last build lines belong before the verdict, when the stream delivers them in time.
        if (event.kind === 'completed') await atMost(logs.done, LOG_DRAIN_MS);
        headers.progress(event);
      }
      if (after.workflow_completed === true) {
        completed = true;
        return after;
      }
      if (Date.now() > deadline) throw new CliError(`workflow ${id} is still running after ${Math.round(o.timeoutMs / 1_000)} s; see: openaperture workflow show ${id}`);
      before = after;
      await sleep(o.pollMs);
    }
  } finally {
    stop.abort();
    await logs.done;
  }
}
