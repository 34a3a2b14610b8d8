/**
 * Module liveness (reference §8.2): a module silent for `inactiveAfterMs` is marked inactive, and removed once silent
 * for `deleteAfterMs` in all. Marking a module inactive re-posts it, which resets its `updated_at` (the Manager's
 * upsert is a replace), so an inactive module's silence is counted from its inactivation: it goes after the
 * remaining `deleteAfterMs - inactiveAfterMs`, as the original's 10 + 10 minutes.
 */

/** When silent modules are marked inactive and removed; `deleteAfterMs` counts from the last heartbeat. */
export interface AgeingPolicy {
  readonly inactiveAfterMs: number;
  readonly deleteAfterMs: number;
}

/** What the ageing needs of a module row. */
export interface ModuleSeen {
  readonly hostname: string;
  readonly status: string;
  /** The row's `updated_at`, epoch ms: the last heartbeat, or the inactivation. */
  readonly updatedAt: number;
}

export type AgeingAction = { readonly type: 'inactivate'; readonly hostname: string } | { readonly type: 'delete'; readonly hostname: string };

/** The policy's problem, or undefined when it is usable: removal must come after inactivation. */
export function ageingPolicyProblem(policy: AgeingPolicy): string | undefined {
  if (!(policy.inactiveAfterMs > 0)) return `inactive-after must be above 0, got ${policy.inactiveAfterMs} ms`;
  if (!(policy.deleteAfterMs > policy.inactiveAfterMs)) {
    return `delete-after (${policy.deleteAfterMs} ms) must be longer than inactive-after (${policy.inactiveAfterMs} ms)`;
  }
  return undefined;
}

/** What to do with each module at `now` (epoch ms); modules heard from recently need nothing. */
export function planModuleAgeing(modules: readonly ModuleSeen[], now: number, policy: AgeingPolicy): AgeingAction[] {
  return modules.flatMap((m): AgeingAction[] => {
    const silentMs = now - m.updatedAt;
    if (m.status !== 'inactive') return silentMs > policy.inactiveAfterMs ? [{ type: 'inactivate', hostname: m.hostname }] : [];
    return silentMs > policy.deleteAfterMs - policy.inactiveAfterMs ? [{ type: 'delete', hostname: m.hostname }] : [];
  });
}
