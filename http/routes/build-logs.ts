/**
 * The build-log fan-out, Manager side (reference §4.8; design §7): every Manager instance consumes its own copy of
 * the `build_logs` queue of its exchange (a broadcast consumer) and relays each batch live to the subscribers of
 * `GET /workflows/:id/build_logs`, as Server-Sent Events: `event: build_log` with `{"logs": [...]}`, and `event: end`
 * once the workflow has completed.
 */
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { defineRoute, findOr404, type AnyRoute } from '../route.js';
import { BUILD_LOGS_PUBLISHED, BUILD_LOGS_QUEUE, BuildLogs } from '../../actors/builder/messages.js';
import { WorkflowSchema } from '../../entities/workflows.js';
import type { Logger } from '../../runtime/logger.js';
import type { Decoded, Subscription, Transport } from '../../runtime/messaging/transport.js';

interface Subscriber {
  readonly send: (logs: readonly string[]) => void;
  readonly close: () => void;
}

/** One Manager instance's relay: its broadcast consumer, and the live subscribers by workflow id. */
export interface BuildLogRelay {
  /** Until the returned function is called; `close` is called if the relay stops first. */
  subscribe(workflowId: string, subscriber: Subscriber): () => void;
  stop(): Promise<void>;
}

function decodeLogs(payload: unknown, type: string): Decoded<BuildLogs> {
  if (type !== BUILD_LOGS_PUBLISHED) return { ok: false, reason: `unexpected message type ${JSON.stringify(type)} (expected ${BUILD_LOGS_PUBLISHED})` };
  const parsed = BuildLogs.safeParse(payload);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ') };
}

async function startRelay(transport: Transport, log: Logger): Promise<BuildLogRelay> {
  const subscribers = new Map<string, Set<Subscriber>>();
  const subscription: Subscription = await transport.consume({
    queue: BUILD_LOGS_QUEUE,
    broadcast: true,
    decode: decodeLogs,
    handle: async ({ workflow_id, logs }) => {
      for (const s of subscribers.get(workflow_id) ?? []) s.send(logs);
      return { type: 'ack' };
    },
  });
  log.info('relaying build logs');
  return {
    subscribe(workflowId, subscriber) {
      const set = subscribers.get(workflowId) ?? new Set<Subscriber>();
      subscribers.set(workflowId, set.add(subscriber));
      return () => {
        set.delete(subscriber);
        if (set.size === 0 && subscribers.get(workflowId) === set) subscribers.delete(workflowId);
      };
    },
    async stop() {
      await subscription.cancel();
      for (const set of subscribers.values()) for (const s of set) s.close();
      subscribers.clear();
    },
  };
}

const relays = new WeakMap<Transport, Promise<BuildLogRelay>>();

/**
 * The relay of the Manager instance that owns `transport`: started by the Manager component, or by the first
 * subscriber when the app runs without it (the test harness). A relay that cannot start is forgotten, so the next
 * subscriber tries again.
 */
export function buildLogRelay(transport: Transport, log: Logger): Promise<BuildLogRelay> {
  let relay = relays.get(transport);
  if (relay === undefined) {
    relay = startRelay(transport, log);
    relays.set(transport, relay);
    relay.catch(() => relays.delete(transport));
  }
  return relay;
}

/** Stops the relay of `transport`, if one runs: its subscribers' streams end. */
export async function stopBuildLogRelay(transport: Transport): Promise<void> {
  const relay = relays.get(transport);
  relays.delete(transport);
  await relay?.then((r) => r.stop(), () => undefined);
}

/** How often a stream checks whether its workflow has completed, and keeps idle connections alive. */
const COMPLETION_CHECK_MS = 2_000;

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

const IdParams = z.strictObject({ id: z.uuid('must be a workflow uuid') });

const stream = defineRoute<BaseDeps, z.infer<typeof IdParams>>({
  method: 'get',
  path: '/workflows/:id/build_logs',
  summary: 'Stream the build logs of a workflow (Server-Sent Events)',
  tag: 'workflows',
  access: 'viewer',
  item: 'Workflow',
  params: IdParams,
  response: z.string().describe('text/event-stream: `event: build_log` with `{"logs": [...]}`, then `event: end`'),
  async handle({ params }, { em, deps, log }) {
    const workflow = await findOr404(em, WorkflowSchema, { id: params.id }, 'Workflow');
    const out = new PassThrough();
    if (workflow.workflow_completed) {
      out.end(event('end', { workflow_completed: true }));
      return { status: 200, stream: out, contentType: 'text/event-stream' };
    }
    const relay = await buildLogRelay(deps.transport, deps.log);
    const write = (text: string, last = false): void => {
      if (out.writableEnded) return;
      if (last) out.end(text);
      else out.write(text);
    };
    // A comment first: the client has the headers at once, and knows it is subscribed.
    write(': subscribed\n\n');
    const unsubscribe = relay.subscribe(params.id, { send: (logs) => write(event('build_log', { logs })), close: () => write('', true) });
    const check = setInterval(() => {
      deps.db
        .fork()
        .findOne(WorkflowSchema, { id: params.id })
        .then((w) => (w === null || w.workflow_completed ? write(event('end', { workflow_completed: w !== null }), true) : write(': waiting\n\n')))
        .catch((err: unknown) => log.warn({ err }, 'cannot check whether the workflow completed; the stream goes on'));
    }, COMPLETION_CHECK_MS);
    out.once('close', () => {
      clearInterval(check);
      unsubscribe();
    });
    return { status: 200, stream: out, contentType: 'text/event-stream' };
  },
});

export const buildLogRoutes: ReadonlyArray<AnyRoute<BaseDeps>> = [stream];
