import type { BuildLogs } from '../../actors/builder/messages.js';
import { MANAGER_INTAKE } from '../../actors/manager/intake.js';
import { buildLogRelay, type BuildLogRelay } from '../../http/build-log-relay.js';
import type { Decoded, Transport } from '../../runtime/messaging/transport.js';

/** What the Manager component's `build_logs` intake does (actors/manager/intake.ts), for an app run without it. */
export async function relayedBuildLogs(transport: Transport): Promise<BuildLogRelay> {
  const relay = buildLogRelay();
  const [logs] = MANAGER_INTAKE;
  await transport.consume({
    queue: logs!.queue,
    broadcast: true,
    decode: (payload, type) => logs!.decode(payload, type) as Decoded<BuildLogs>,
    handle: async (batch) => (relay.relay(batch), { type: 'ack' }),
  });
  return relay;
}
