import type { FollowReporter } from './follow.js';
import { renderBuildLine, renderFollowEvent } from './core/progress.js';
import { openSession, type Session } from './session.js';
import type { Logger } from '../runtime/logger.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a command writes: its result on stdout (as a table, or JSON with --json), notices on stderr. */
export interface Output {
  readonly json: boolean;
  /** The result: `value` as JSON with --json, else the text `human` makes of it. */
  result(value: unknown, human: () => string): void;
  /** A line for people only (progress, confirmations); with --json it goes to stderr, so stdout stays JSON. */
  say(text: string): void;
  notice(text: string): void;
}

export function output(json: boolean): Output {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const err = (text: string) => process.stderr.write(`${text}\n`);
  return {
    json,
    result: (value, human) => out(json ? JSON.stringify(value, null, 2) : human()),
    say: (text) => (json ? err(text) : out(text)),
    notice: (text) => err(`openaperture: ${text}`),
  };
}

/** What `workflow run` prints as it follows: lines for people, or one JSON object per line (--json). */
export function followReporter(o: Output, workflowId: string): FollowReporter {
  const ndjson = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
  if (o.json) {
    return {
      progress: ({ kind, ...event }) => ndjson({ type: kind, workflow_id: workflowId, ...event }),
      buildLines: (lines) => lines.forEach((line) => ndjson({ type: 'build_log', workflow_id: workflowId, line })),
      notice: (text) => o.notice(text),
    };
  }
  return {
    progress: (event) => o.say(renderFollowEvent(event, workflowId)),
    buildLines: (lines) => lines.forEach((line) => o.say(renderBuildLine(line))),
    notice: (text) => o.notice(text),
  };
}

/** What every command gets: the environment, the output, the logger, and the session on demand. */
export interface Context {
  readonly env: Env;
  readonly out: Output;
  readonly log: Logger;
  session(): Promise<Session>;
}

export function context(env: Env, out: Output, log: Logger): Context {
  let session: Promise<Session> | undefined;
  return { env, out, log, session: () => (session ??= openSession(env, log, new Date())) };
}
