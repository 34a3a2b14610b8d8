import { readBuildLogs, type StreamEnd } from './build-logs.js';
import { progressBetween, type FollowEvent } from './core/progress.js';
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

/** Reads build logs while `running()`, reconnecting a dropped stream, until the server says the workflow ended. */
function streamLogs(o: FollowOptions, id: string, signal: AbortSignal, running: () => boolean): LogStreaming {
  let markOpened = (): void => undefined;
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const done = (async () => {
    let failures = 0;
    let last = '';
    while (!signal.aborted) {
      let end: StreamEnd;
      try {
        end = await readBuildLogs({ baseUrl: o.baseUrl, token: o.token, workflowId: id, signal, onLines: (lines) => o.reporter.buildLines(lines), onOpen: markOpened });
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
  const logs = streamLogs(o, id, stop.signal, () => !completed);
  try {
    await atMost(logs.opened, LOG_OPEN_MS);
    await o.start?.();
    let before: Workflow | undefined;
    for (;;) {
      const after = await snapshot(o.workflows, id);
      for (const event of progressBetween(before, after)) {
        // The last build lines belong before the verdict, when the stream delivers them in time.
        if (event.kind === 'completed') await atMost(logs.done, LOG_DRAIN_MS);
        o.reporter.progress(event);
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
