/** The real Router actor under a supervisor, fed by a real Manager (test/http/harness.ts), with real HAProxy and backends. */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RouterArgs } from '../../../actors/router/config.js';
import { ROUTER_INTAKE } from '../../../actors/router/intake.js';
import { ROUTER_QUEUE } from '../../../actors/router/messages.js';
import router from '../../../actors/router/router.actor.js';
import { ApiClientSchema } from '../../../entities/auth.js';
import { hashSecret } from '../../../http/auth.js';
import { managerClient, type ManagerClient } from '../../../http/client/manager-client.js';
import { routeIntake } from '../../../runtime/boot.js';
import { startActorSystem, type ActorSystem } from '../../../runtime/actors/system.js';
import { DEFAULT_BACKOFF } from '../../../runtime/actors/supervisor-spec.js';
import { MessagingEnv, parseEnv, type ManagerAccess } from '../../../runtime/config.js';
import { proxySettings } from '../../../runtime/haproxy/core/settings.js';
import { MemoryBroker } from '../../../runtime/messaging/memory-transport.js';
import type { Transport } from '../../../runtime/messaging/transport.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { haproxyBinary } from '../../helpers/services.js';
import type { ApiHarness } from '../../http/harness.js';

/** An admin API client of the harness's Manager: its access (what the Router gets) and a client for the test. */
export async function managerAccessOf(h: ApiHarness): Promise<{ access: ManagerAccess; client: ManagerClient }> {
  const clientId = `router-${randomUUID().slice(0, 8)}`;
  const clientSecret = randomUUID();
  const em = h.db.fork();
  em.create(ApiClientSchema, { client_id: clientId, name: clientId, secret_hash: hashSecret(clientSecret), role: 'admin', disabled_at: null });
  await em.flush();
  const access = { baseUrl: h.baseUrl, clientId, clientSecret };
  return { access, client: managerClient({ ...access, log: captureLogs().log }) };
}

/** Arguments for a Router on `dir`, resyncing every 200 ms, health checks every 200 ms. */
export const routerArgs = (manager: ManagerAccess, dir: string, over: Partial<RouterArgs> = {}): RouterArgs => ({
  manager,
  // Read only when not given: the idle router's test runs on a machine without HAProxy.
  haproxy: over.haproxy ?? { binary: haproxyBinary() },
  dir,
  settings: proxySettings({ statsSocket: join(dir, 'admin.sock'), certDir: join(dir, 'certs'), bindAddress: '127.0.0.1', check: { intervalMs: 200, fall: 2, rise: 1 } }),
  resyncMs: 200,
  ...over,
});

export interface TestRouter {
  readonly system: ActorSystem;
  readonly failures: Error[];
  /** An RPC to the Router's queue, as a Deployer sends it. */
  request(type: string, payload: unknown, timeoutMs?: number): Promise<unknown>;
  stop(): Promise<void>;
}

/** `broker`: the in-memory broker its exchange 1 is on, shared with another component the test runs (a Deployer). */
export async function startRouter(args: RouterArgs, broker = new MemoryBroker()): Promise<TestRouter> {
  const { log } = captureLogs();
  const transport: Transport = broker.transport({ exchangeId: 1, log });
  const caller = broker.transport({ exchangeId: 1, log });
  const failures: Error[] = [];
  const system = await startActorSystem({
    spec: {
      strategy: 'one_for_one',
      intensity: { maxRestarts: 5, withinMs: 10_000 },
      backoff: { ...DEFAULT_BACKOFF, initialMs: 20 },
      children: [{ name: 'router', actor: router, args }],
    },
    log,
    logLevel: 'silent',
    askTimeoutMs: 10_000,
    onFailure: (err) => failures.push(err),
    messaging: { transport, settings: { kind: 'in-memory', env: parseEnv(MessagingEnv, {}) } },
  });
  await routeIntake({ system, transport, handle: system.root.untypedHandle('router'), intakes: ROUTER_INTAKE, log });
  return {
    system,
    failures,
    request: (type, payload, timeoutMs = 20_000) => caller.request({ exchangeId: 1, queue: ROUTER_QUEUE }, type, payload, { timeoutMs }),
    async stop() {
      await system.shutdown(5_000);
      await caller.close();
    },
  };
}
