/** A Server-Sent Events client for tests: what arrived so far, parsed, until `close`. */
export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface SseClient {
  readonly status: number;
  readonly contentType: string | null;
  /** Events received so far. */
  readonly events: SseEvent[];
  /** Comments (`: ...`) received so far. */
  readonly comments: string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `url` with a bearer token and reads events as they come; resolves once the headers are in. */
export async function openSse(url: string, token: string): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const take = (block: string): void => {
    const lines = block.split('\n');
    for (const l of lines.filter((x) => x.startsWith(':'))) comments.push(l.slice(1).trim());
    const name = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length);
    const data = lines.find((l) => l.startsWith('data: '))?.slice('data: '.length);
    if (name !== undefined) events.push({ event: name, data: data === undefined ? undefined : JSON.parse(data) });
  };
  const read = async (): Promise<void> => {
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        blocks.forEach(take);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  };
  return { status: res.status, contentType: res.headers.get('content-type'), events, comments, ended: read(), close: () => abort.abort() };
}
