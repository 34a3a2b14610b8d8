/**
 * The build-log fan-out, Manager side (reference §4.8; design §7): every Manager instance takes its own copy of the
 * `build_logs` queue of its exchange (a broadcast intake of the Manager component, actors/manager/intake.ts) and
 * hands each batch to its relay, which streams it live to the subscribers of `GET /workflows/:id/build_logs`, as
 * Server-Sent Events: `event: build_log` with `{"logs": [...]}`, and `event: end` once the workflow has completed.
 */
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { BaseDeps } from '../app.js';
import { defineRoute, findOr404, type AnyRoute } from '../route.js';
import { WorkflowSchema } from '../../entities/workflows.js';
import { TransportUnavailableError } from '../../runtime/messaging/transport.js';

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
    const relay = deps.buildLogs;
    if (relay === undefined) throw new TransportUnavailableError('build logs are not relayed by this Manager: it runs without messaging');
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
