import { z } from 'zod';
import { parseSse, SSE_START } from './core/sse.js';

/**
 * The build-log stream of a workflow (`GET /workflows/:id/build_logs`, Server-Sent Events: `build_log` events with
 * `{"logs": [...]}`, then `end` when the workflow completes), read with the session's bearer token.
 */

const BuildLogData = z.object({ logs: z.array(z.string()) });

/** How a stream stopped: the server said the workflow completed, or the connection ended without saying so. */
export type StreamEnd = 'ended' | 'closed';

export class BuildLogStreamError extends Error {
  override readonly name = 'BuildLogStreamError';
}

export interface BuildLogStream {
  readonly baseUrl: string;
  readonly token: string;
  readonly workflowId: string;
  readonly signal: AbortSignal;
  readonly onLines: (lines: readonly string[]) => void;
  /** Called once the server has accepted the stream, before any event. */
  readonly onOpen?: () => void;
}

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // refused by the schema below, with the text
  }
}

/** Reads the stream until `end`, a closed connection or an abort; lines go to `onLines` as they come. */
export async function readBuildLogs(s: BuildLogStream): Promise<StreamEnd> {
  const url = `${s.baseUrl}/workflows/${encodeURIComponent(s.workflowId)}/build_logs`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${s.token}`, accept: 'text/event-stream' }, signal: s.signal });
  if (res.status !== 200 || res.body === null) {
    await res.body?.cancel();
    throw new BuildLogStreamError(`GET /workflows/:id/build_logs answered ${res.status}`);
  }
  s.onOpen?.();
  let state = SSE_START;
  for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
    const parsed = parseSse(state, chunk);
    state = parsed.state;
    for (const event of parsed.events) {
      // Leaving the loop cancels the stream, which closes the connection.
      if (event.event === 'end') return 'ended';
      if (event.event !== 'build_log') continue;
      const data = BuildLogData.safeParse(jsonOf(event.data));
      if (!data.success) throw new BuildLogStreamError(`a build_log event without {"logs": [...]}: ${event.data.slice(0, 200)}`);
      s.onLines(data.data.logs);
    }
  }
  return 'closed';
}
