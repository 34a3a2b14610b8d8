/**
 * Server-Sent Events (the WHATWG event-stream format) read incrementally: chunks in, whole events out, the unfinished
 * tail kept for the next chunk. Pure, so the build-log stream's framing is tested without a server.
 */

export interface SseEvent {
  /** `message` when the event names none. */
  readonly event: string;
  readonly data: string;
}

/** What the reader carries from one chunk to the next. */
export interface SseState {
  /** Text after the last complete line. */
  readonly rest: string;
  /** Fields of the event being read, not yet dispatched by a blank line. */
  readonly event: string | undefined;
  readonly data: readonly string[];
}

export const SSE_START: SseState = { rest: '', event: undefined, data: [] };

/** One line's effect on the event being read; a blank line dispatches it (an event without data is dropped). */
function applyLine(state: SseState, line: string, out: SseEvent[]): SseState {
  if (line === '') {
    if (state.data.length > 0) out.push({ event: state.event ?? 'message', data: state.data.join('\n') });
    return { ...state, event: undefined, data: [] };
  }
  if (line.startsWith(':')) return state; // a comment: servers send them to keep the connection open
  const colon = line.indexOf(':');
  const field = colon === -1 ? line : line.slice(0, colon);
  const raw = colon === -1 ? '' : line.slice(colon + 1);
  const value = raw.startsWith(' ') ? raw.slice(1) : raw;
  if (field === 'event') return { ...state, event: value };
  if (field === 'data') return { ...state, data: [...state.data, value] };
  return state; // id, retry and unknown fields do not matter to this client
}

/** The events `chunk` completes, and the state for the next chunk. */
export function parseSse(state: SseState, chunk: string): { readonly state: SseState; readonly events: readonly SseEvent[] } {
  const text = state.rest + chunk;
  // A final "\r" may be the first half of "\r\n": it waits for the next chunk to say.
  const held = text.endsWith('\r') ? '\r' : '';
  const lines = (held === '' ? text : text.slice(0, -1)).split(/\r\n|\r|\n/);
  const tail = lines.pop() ?? '';
  const events: SseEvent[] = [];
  let next: SseState = { ...state, rest: '' };
  for (const line of lines) next = applyLine(next, line, events);
  return { state: { ...next, rest: tail + held }, events };
}
