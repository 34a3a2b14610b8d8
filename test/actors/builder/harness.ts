import { randomUUID } from 'node:crypto';
import { components } from '../../../actors/system.js';
import { MILESTONE_REQUESTED, type OrchestrationRequest } from '../../../actors/orchestrator/messages.js';
import { hashSecret } from '../../../http/auth.js';
import { ApiClientSchema } from '../../../entities/auth.js';
import { startActorSystem } from '../../../runtime/actors/system.js';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import { routeIntake } from '../../../runtime/boot.js';
import { intakesOf, parseTopology, topologySpec } from '../../../runtime/topology.js';
import { captureLogs, type LogLine } from '../../helpers/log-capture.js';
import { awaiting } from '../../helpers/dispatch.js';
import { waitFor } from '../../helpers/wait.js';
import type { ApiHarness } from '../../http/harness.js';

export interface Callback {
  readonly type: string;
  readonly payload: OrchestrationRequest;
}

export interface BuilderRun {
  readonly lines: LogLine[];
  /** Publishes MILESTONE_REQUESTED on `builder` as the orchestrator does; its `dispatch_id`. */
  request(fields: Partial<OrchestrationRequest> & Pick<OrchestrationRequest, 'id' | 'current_step'>): Promise<string>;
  /** Publishes the request of an earlier dispatch again, as it was (a redelivery, or an operator's resend). */
  republish(dispatchId: string): Promise<void>;
  /** Every callback of a dispatch so far. */
  callbacksOf(dispatchId: string): Callback[];
  /** The callback on `workflow_orchestration` of a dispatch. */
  callback(dispatchId: string, timeoutMs?: number): Promise<Callback>;
  /** The callbacks of a dispatch, once there are `count` of them. */
  callbacks(dispatchId: string, count: number, timeoutMs?: number): Promise<Callback[]>;
  /** Stops the Builder and starts a new one, as a restarted process: it remembers none of the dispatches it ran. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Builder as the runtime starts it (runtime/boot.ts): its catalogue entry, configured from `env` by its own
 * `configure`, its queue fed into its actor by consumeInto, on the harness Manager's in-memory broker (exchange 1),
 * with an admin API client of that Manager. The process's ask timeout is short on purpose: the route's own holds.
 */
export async function startBuilder(h: ApiHarness, env: Record<string, string>): Promise<BuilderRun> {
  const clientId = `builder-${randomUUID().slice(0, 8)}`;
  const clientSecret = randomUUID();
  const em = h.db.fork();
  em.create(ApiClientSchema, { client_id: clientId, name: clientId, secret_hash: hashSecret(clientSecret), role: 'admin', disabled_at: null });
  await em.flush();
  const { log, lines } = captureLogs();
  const entry = components['builder']!;
  const args = (await entry.configure!({ EXCHANGE_ID: '1', MANAGER_URL: h.baseUrl, OAUTH_CLIENT_ID: clientId, OAUTH_CLIENT_SECRET: clientSecret, ...env }, {})) as Record<string, unknown>;
  const topology = parseTopology(JSON.stringify({ name: 'builder-test', components: [{ name: 'builder', args }] }), 'builder-test');
  const start = async () => {
    const transport = h.broker.transport({ exchangeId: 1, log });
    const system = await startActorSystem({
      spec: topologySpec(topology, components, { intervalMs: 1_000, timeoutMs: 3_000 }),
      log,
      logLevel: 'silent',
      askTimeoutMs: 5_000,
      onFailure: (err) => log.error({ err }, 'root gave up'),
      messaging: { transport, settings: { kind: 'in-memory', env: parseEnv(MessagingEnv, {}) } },
    });
    await routeIntake({ system, transport, handle: system.root.supervisor('builder').untypedHandle('builder'), intakes: intakesOf(components, { name: 'builder', args }), log });
    return async () => {
      await system.shutdown(5_000);
      await transport.close();
    };
  };
  let stopBuilder = await start();
  const callbacks: Callback[] = [];
  const published = new Map<string, Record<string, unknown>>();
  const orchestrator = h.broker.transport({ exchangeId: 1, log });
  await orchestrator.consume({
    queue: 'workflow_orchestration',
    decode: (payload, type) => ({ ok: true, value: { type, payload: payload as OrchestrationRequest } }),
    handle: async (m) => (callbacks.push(m), { type: 'ack' }),
  });
  return {
    lines,
    async request(fields) {
      const dispatchId = randomUUID();
      const saved = await h.call('PUT', `/workflows/${fields.id}`, { token: h.tokens.admin, body: awaiting(fields.current_step ?? 'build', dispatchId) });
      if (saved.status !== 204) throw new Error(`saving the dispatch of workflow ${fields.id} answered ${saved.status}`);
      const request = {
        milestones: [fields.current_step ?? 'build'],
        workflow_orchestration_exchange_id: '1',
        notifications_exchange_id: '1',
        orchestration_queue_name: 'workflow_orchestration',
        event_log: [],
        ...fields,
        dispatch_id: dispatchId,
      };
      published.set(dispatchId, request);
      await orchestrator.publish({ exchangeId: 1, queue: 'builder' }, MILESTONE_REQUESTED, request);
      return dispatchId;
    },
    async republish(dispatchId) {
      const request = published.get(dispatchId);
      if (request === undefined) throw new Error(`dispatch ${dispatchId} was never requested`);
      await orchestrator.publish({ exchangeId: 1, queue: 'builder' }, MILESTONE_REQUESTED, request);
    },
    callbacksOf: (dispatchId) => callbacks.filter((c) => c.payload.dispatch_id === dispatchId),
    callback: (dispatchId, timeoutMs = 90_000) => waitFor(`the callback of ${dispatchId}`, () => callbacks.find((c) => c.payload.dispatch_id === dispatchId), timeoutMs),
    callbacks(dispatchId, count, timeoutMs = 90_000) {
      const of = () => callbacks.filter((c) => c.payload.dispatch_id === dispatchId);
      return waitFor(`${count} callbacks of ${dispatchId}`, () => (of().length >= count ? of() : undefined), timeoutMs);
    },
    async restart() {
      await stopBuilder();
      stopBuilder = await start();
    },
    async stop() {
      await stopBuilder();
      await orchestrator.close();
    },
  };
}
