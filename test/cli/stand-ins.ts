import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BUILD_LOGS_PUBLISHED, BUILD_LOGS_QUEUE, type BuildLogs } from '../../actors/builder/messages.js';
import { EXECUTE_REQUESTED, OrchestrationRequest, WORKFLOW_ORCHESTRATION_QUEUE } from '../../actors/orchestrator/messages.js';
import type { MemoryBroker } from '../../runtime/messaging/memory-transport.js';
import type { Subscription } from '../../runtime/messaging/transport.js';
import { captureLogs } from '../helpers/log-capture.js';

/**
 * Test doubles of our own components for the CLI's `workflow run`: an orchestrator that moves a workflow through its
 * milestones through the Manager's API, and build lines: from the Manager's own endpoint (published as the Builder
 * does), or from a front of our own that speaks the contract (SSE at `GET /workflows/:id/build_logs`).
 */

/** Where the build lines of a workflow come from, as the Builder would send them. */
export interface BuildLogSource {
  /** The URL the CLI logs in to. */
  readonly baseUrl: string;
  /** Resolves once a client with a token the Manager accepts is reading the workflow's stream. */
  connected(workflowId: string): Promise<void>;
  emit(workflowId: string, lines: readonly string[]): void;
  /** `event: end`: the workflow completed. */
  end(workflowId: string): void;
  close(): Promise<void>;
}

const BUILD_LOGS = /^\/workflows\/([^/]+)\/build_logs$/;

function pass(upstream: string, req: IncomingMessage, res: ServerResponse): void {
  const target = new URL(req.url ?? '/', upstream);
  const out = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
}

/** Whether the Manager accepts `authorization` for reading the workflow (the contract: viewer or above). */
async function mayRead(upstream: string, workflowId: string, authorization: string | undefined): Promise<number> {
  const res = await fetch(`${upstream}/workflows/${workflowId}`, { headers: authorization === undefined ? {} : { authorization } });
  await res.arrayBuffer();
  return res.status;
}

/** The contract's stream served by a front of our own; every other request goes on to the real Manager at `upstream`. */
export async function startBuildLogFront(upstream: string): Promise<BuildLogSource> {
  const streams = new Map<string, ServerResponse>();
  const waiting = new Map<string, () => void>();
  const server: Server = createServer((req, res) => {
    const match = req.method === 'GET' ? BUILD_LOGS.exec((req.url ?? '').split('?')[0] ?? '') : null;
    const id = match?.[1];
    if (id === undefined) return pass(upstream, req, res);
    void mayRead(upstream, id, req.headers.authorization).then((status) => {
      if (status !== 200) return void res.writeHead(status).end();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      streams.set(id, res);
      waiting.get(id)?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const stream = (id: string): ServerResponse => {
    const res = streams.get(id);
    if (res === undefined) throw new Error(`no build-log client for workflow ${id}`);
    return res;
  };
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connected: (id) => (streams.has(id) ? Promise.resolve() : new Promise((resolve) => waiting.set(id, resolve))),
    // Split across writes on purpose: the client must reassemble events from chunks.
    emit(id, lines) {
      const text = `event: build_log\r\ndata: ${JSON.stringify({ logs: lines })}\r\n\r\n`;
      stream(id).write(text.slice(0, 17));
      stream(id).write(text.slice(17));
    },
    end(id) {
      stream(id).end('event: end\ndata: {}\n\n');
      streams.delete(id);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The Manager's own endpoint: lines published as the Builder publishes them (queue `build_logs` of the Manager's
 * exchange), relayed by the Manager, which ends the stream itself once the workflow has completed.
 */
export function managerBuildLogs(baseUrl: string, broker: MemoryBroker): BuildLogSource {
  const transport = broker.transport({ exchangeId: 1, log: captureLogs().log });
  const published: Array<Promise<void>> = [];
  return {
    baseUrl,
    // The CLI executes only once its stream is open, and the Manager subscribes it before answering.
    connected: () => Promise.resolve(),
    emit(id, lines) {
      const logs: BuildLogs = { workflow_id: id, logs: [...lines] };
      published.push(transport.publish({ exchangeId: 1, queue: BUILD_LOGS_QUEUE }, BUILD_LOGS_PUBLISHED, logs));
    },
    end: () => undefined,
    async close() {
      await Promise.all(published);
      await transport.close();
    },
  };
}

/** What the stand-in orchestrator received for a workflow. */
export type Executed = OrchestrationRequest;

/** Consumes `workflow_orchestration` and hands each execute request to `run` (in the background, acked at once). */
export async function standInOrchestrator(broker: MemoryBroker, run: (request: Executed) => Promise<void>, failures: unknown[]): Promise<Subscription> {
  const transport = broker.transport({ exchangeId: 1, log: captureLogs().log });
  return transport.consume<Executed | undefined>({
    queue: WORKFLOW_ORCHESTRATION_QUEUE,
    decode(payload, type) {
      if (type !== EXECUTE_REQUESTED) return { ok: true, value: undefined };
      const parsed = OrchestrationRequest.safeParse(payload);
      return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: parsed.error.message };
    },
    async handle(request) {
      if (request !== undefined) run(request).catch((err: unknown) => failures.push(err));
      return { type: 'ack' };
    },
  });
}
