import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP server on 127.0.0.1 that plays a misbehaving Manager: 503s, malformed bodies, dropped connections.
 * It answers `POST /oauth/token` itself unless the handler does; anything the handler leaves alone is proxied to
 * `upstream` when given, or answered 404.
 */
export interface FakeAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What to do with one request: answer it, drop the connection, or `undefined` to pass it on. */
export type FakeHandler = (req: { readonly method: string; readonly path: string; readonly index: number }) => FakeAnswer | 'drop' | undefined;

export interface FakeManager {
  readonly baseUrl: string;
  /** `METHOD /path` of every request but token requests, in arrival order. */
  readonly hits: string[];
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

function answer(res: ServerResponse, a: FakeAnswer): void {
  const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
  res.writeHead(a.status, { ...(text === '' ? {} : { 'content-type': 'application/json' }), ...a.headers });
  res.end(text);
}

async function proxy(upstream: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'content-type', 'accept']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const method = req.method ?? 'GET';
  const reply = await fetch(`${upstream}${req.url ?? '/'}`, { method, headers, ...(body.length === 0 ? {} : { body }) });
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'location', 'x-total-count']) {
    const value = reply.headers.get(name);
    if (value !== null) out[name] = value;
  }
  res.writeHead(reply.status, out);
  res.end(Buffer.from(await reply.arrayBuffer()));
}

export async function startFakeManager(handle: FakeHandler, opts: { readonly upstream?: string; readonly port?: number } = {}): Promise<FakeManager> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const work = async () => {
      const body = await readBody(req);
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const isToken = path === '/oauth/token';
      if (!isToken) hits.push(`${method} ${path}`);
      const decided = handle({ method, path, index: hits.length - 1 });
      if (decided === 'drop') return void req.socket.destroy();
      if (decided !== undefined) return answer(res, decided);
      if (opts.upstream !== undefined) return proxy(opts.upstream, req, body, res);
      if (isToken) return answer(res, { status: 200, body: { access_token: 'fake-token', token_type: 'bearer', expires_in: 600 } });
      return answer(res, { status: 404, body: { errors: [{ message: `no route for ${method} ${path}` }] } });
    };
    // The test sees a failure of the fake itself as a 500 it did not expect.
    work().catch((err: unknown) => answer(res, { status: 500, body: { errors: [{ message: `fake manager: ${String(err)}` }] } }));
  });
  server.listen(opts.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { closedPort } from '../../helpers/ports.js';
