import type { OrchestrationRequest } from '../../../../actors/orchestrator/messages.js';
import type { MachineSettings, Transition, WorkflowEvent, WorkflowState } from '../../../../actors/orchestrator/core/state.js';
import { advance } from '../../../../actors/orchestrator/core/machine.js';

/** Plain data the machine's table tests start from. */
export const T0 = Date.parse('2026-01-05T10:00:00Z');
export const ID = '5f0c2b9e-8a51-4e7c-9d4c-1f2e3a4b5c6d';

export const SETTINGS: MachineSettings = {
  exchangeId: 1,
  brokerId: 7,
  timeoutsMs: { config: 600_000, build: 3_600_000, deploy: 1_800_000, deploy_oa: 1_800_000 },
  uiUrl: 'https://oa.example.com/',
};

export function request(overrides: Partial<OrchestrationRequest> = {}): OrchestrationRequest {
  return {
    id: ID,
    deployment_repo: 'acme/shop_docker',
    source_repo: 'acme/shop',
    source_repo_git_ref: 'master',
    milestones: ['build', 'deploy'],
    current_step: null,
    workflow_completed: false,
    notifications_exchange_id: '1',
    ...overrides,
  };
}

export const fresh: WorkflowState = { phase: 'new', settings: SETTINGS };

/** Applies events in order, each at its own time; returns every transition. */
export function run(state: WorkflowState, steps: ReadonlyArray<[WorkflowEvent, number]>): Transition[] {
  const out: Transition[] = [];
  let current = state;
  for (const [event, now] of steps) {
    const t = advance(current, event, now);
    out.push(t);
    current = t.next;
  }
  return out;
}

export const kinds = (t: Transition): string[] => t.effects.map((e) => e.type);
export const messages = (t: Transition): string[] => t.effects.flatMap((e) => (e.type === 'notify' ? [e.chat.message] : []));
export const lastOf = <T>(xs: readonly T[]): T => {
  const last = xs[xs.length - 1];
  if (last === undefined) throw new Error('empty');
  return last;
};
