import { routeIntake } from '../../../runtime/boot.js';
import { components } from '../../../actors/system.js';
import { startActorSystem, type ActorSystem } from '../../../runtime/actors/system.js';
import { MessagingEnv, parseEnv } from '../../../runtime/config.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { intakesOf, parseTopology, topologySpec } from '../../../runtime/topology.js';
import { captureLogs, type LogLine } from '../../helpers/log-capture.js';

/** A dead letter as a test reads it: the envelope's type and payload, and the reason header. */
export interface ReadDeadLetter {
  readonly type: string;
  readonly payload: unknown;
  readonly reason: string | undefined;
}

export interface NotificationsRun {
  readonly transport: Transport;
  readonly lines: LogLine[];
  publish(queue: string, type: string, payload: unknown): Promise<void>;
  takeDeadLetters(queue: string): ReadDeadLetter[];
  stop(): Promise<void>;
}

/**
 * The Notifications component as the runtime starts it (runtime/boot.ts), on the in-memory transport: its catalogue
 * entry from actors/system.ts, configured from `env` by its own `configure`, its queues fed into its actor by
 * consumeInto. The broker is kept so a test can read `<queue>_error` with the reason header. `askTimeoutMs` is the
 * process's default ask timeout, which the component's routes override.
 */
export async function startNotifications(env: Record<string, string>, opts: { readonly askTimeoutMs?: number } = {}): Promise<NotificationsRun> {
  const { log, lines } = captureLogs();
  const entry = components['notifications']!;
  const args = (await entry.configure!(env, {})) as Record<string, unknown>;
  const topology = parseTopology(JSON.stringify({ name: 'notifications-test', components: [{ name: 'notifications', args }] }), 'notifications-test');
  const broker = new MemoryBroker();
  const transport = broker.transport({ exchangeId: 1, log });
  const system: ActorSystem = await startActorSystem({
    spec: topologySpec(topology, components, { intervalMs: 1_000, timeoutMs: 3_000 }),
    log,
    logLevel: 'silent',
    askTimeoutMs: opts.askTimeoutMs ?? 30_000,
    onFailure: (err) => log.error({ err }, 'root gave up'),
    messaging: { transport, settings: { kind: 'in-memory', env: parseEnv(MessagingEnv, {}) } },
  });
  await routeIntake({ system, transport, handle: system.root.supervisor('notifications').untypedHandle('notifications'), intakes: intakesOf(components, { name: 'notifications', args }), log });
  return {
    transport,
    lines,
    publish: (queue, type, payload) => transport.publish({ exchangeId: 1, queue }, type, payload),
    takeDeadLetters: (queue) =>
      broker.takeDeadLetters({ exchangeId: 1, queue }).map((d) => {
        const envelope = JSON.parse(d.body.toString('utf8')) as { type: string; payload: unknown };
        return { type: envelope.type, payload: envelope.payload, reason: d.reason };
      }),
    async stop() {
      await system.shutdown(5_000);
      await transport.close();
    },
  };
}
