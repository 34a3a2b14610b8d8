/** The module registry of the exchange (reference §8.1, §8.2): heartbeats in, silent modules aged out. */
import { planModuleAgeing, type ModuleSeen } from './core/ageing.js';
import type { OverseerDeps } from './deps.js';
import { readAllPages, type ExchangeModule, type ExchangeModuleInput } from '../../http/client/manager-client.js';
import type { HeartbeatPayload } from '../../runtime/messaging/core/heartbeat.js';

/** A heartbeat registers the module, or refreshes it: a module marked inactive is active again. */
export async function recordHeartbeat(deps: OverseerDeps, beat: HeartbeatPayload): Promise<void> {
  await deps.client.exchangeModules.upsert(deps.args.exchangeId, { hostname: beat.hostname, type: beat.type, status: beat.status, workload: beat.workload });
}

const seen = (m: ExchangeModule): ModuleSeen => ({ hostname: m.hostname, status: m.status, updatedAt: Date.parse(m.updated_at) });

/** The row re-posted as inactive, everything else kept. */
const inactive = (m: ExchangeModule): ExchangeModuleInput => ({
  hostname: m.hostname,
  type: m.type,
  status: 'inactive',
  workload: m.workload,
  source_repo: m.source_repo,
  source_repo_git_ref: m.source_repo_git_ref,
  deployment_repo: m.deployment_repo,
  deployment_repo_git_ref: m.deployment_repo_git_ref,
});

/**
 * One ageing pass. Each planned action is checked against the module's row read again just before it: a heartbeat
 * that arrived since the list wins, so a live module is never marked inactive or removed on stale data.
 */
export async function sweepModules(deps: OverseerDeps): Promise<void> {
  const { exchangeId } = deps.args;
  const modules = await readAllPages((w) => deps.client.exchangeModules.list(exchangeId, w));
  for (const action of planModuleAgeing(modules.map(seen), deps.now().getTime(), deps.args.modules)) {
    const row = await deps.client.exchangeModules.get(exchangeId, action.hostname);
    if (row === undefined) continue;
    const [confirmed] = planModuleAgeing([seen(row)], deps.now().getTime(), deps.args.modules);
    if (confirmed?.type !== action.type) continue;
    if (action.type === 'inactivate') await deps.client.exchangeModules.upsert(exchangeId, inactive(row));
    else await deps.client.exchangeModules.remove(exchangeId, action.hostname);
    deps.log.info({ hostname: row.hostname, moduleType: row.type, action: action.type }, 'aged a silent module');
  }
}
