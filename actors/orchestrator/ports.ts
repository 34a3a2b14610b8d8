import type { ManagerClient } from '../../http/client/manager-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Destination, Messaging, PublishOptions } from '../../runtime/messaging/transport.js';
import type { DispatchTarget, WorkerMilestone } from './core/dispatch.js';
import type { PersistedWorkflow } from './core/persisted.js';
import type { MachineSettings, SavedFields } from './core/state.js';
import type { OrchestrationRequest } from './messages.js';
import { batchedSaves } from './save-batcher.js';
import type { ResolveTarget } from './targets.js';

/**
 * What a workflow actor does I/O with: the orchestrator builds one set per process and its workflow supervisor
 * hands it to every workflow actor as its capabilities (in-process, never in args), so ten thousand workflows share
 * one Manager client (one token), one transport, and batched saves.
 */
export interface WorkflowPorts {
  readonly settings: MachineSettings;
  readonly log: Logger;
  /** The workflow as the Manager has it; undefined when there is none. */
  load(workflowId: string): Promise<PersistedWorkflow | undefined>;
  save(workflowId: string, fields: SavedFields): Promise<void>;
  resolve(milestone: WorkerMilestone, request: OrchestrationRequest): Promise<DispatchTarget>;
  /** Resolves once the broker has the message (publisher confirm). */
  publish(to: Destination, type: string, payload: unknown, options?: PublishOptions): Promise<void>;
  newId(): string;
}

export function workflowPorts(deps: {
  readonly settings: MachineSettings;
  readonly log: Logger;
  readonly manager: Pick<ManagerClient, 'workflows'>;
  readonly transport: Pick<Messaging, 'publish'>;
  readonly resolve: ResolveTarget;
  readonly newId: () => string;
}): WorkflowPorts {
  const { manager, transport } = deps;
  return {
    settings: deps.settings,
    log: deps.log,
    load: (id) => manager.workflows.get(id),
    save: batchedSaves((updates) => manager.workflows.updateMany(updates)),
    resolve: deps.resolve,
    publish: (to, type, payload, options) => transport.publish(to, type, payload, options),
    newId: deps.newId,
  };
}
