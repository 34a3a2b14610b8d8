/**
 * A deployment plan's steps form a binary tree: each step names the step to run on success and on failure, and the
 * root is the step no other step points to (reference §2.3, §3.5). Pure functions over step rows.
 */

/** The links of a step row. */
export interface StepLinks {
  readonly id: number;
  readonly on_success_step_id: number | null;
  readonly on_failure_step_id: number | null;
}

/** A step with its options and, in place of each link, the linked step's node. */
export type StepNode<S extends StepLinks, O> = S & {
  readonly options: O[];
  readonly on_success_step: StepNode<S, O> | null;
  readonly on_failure_step: StepNode<S, O> | null;
};

export type StepCase = 'success' | 'failure';

const linksOf = (s: StepLinks): number[] => [s.on_success_step_id, s.on_failure_step_id].filter((id): id is number => id !== null);

/**
 * The root: the step nobody points to. If there are several (a subtree detached by an update), the oldest (lowest id);
 * if there is none (a cycle, which the routes refuse to create), the lowest id, so the rows still show.
 */
export function findRootStep<S extends StepLinks>(steps: readonly S[]): S | undefined {
  const referenced = new Set(steps.flatMap(linksOf));
  const byId = [...steps].sort((a, b) => a.id - b.id);
  return byId.find((s) => !referenced.has(s.id)) ?? byId[0];
}

/**
 * The step tree of a plan, as `GET …/steps` shows it; undefined when the plan has no steps. A link to a step that is
 * not in `steps`, or back to a step already shown, is shown as null (its `*_step_id` stays), so bad rows cannot loop.
 */
export function assembleStepTree<S extends StepLinks, O extends { readonly product_deployment_plan_step_id: number }>(
  steps: readonly S[],
  options: readonly O[],
): StepNode<S, O> | undefined {
  const root = findRootStep(steps);
  if (root === undefined) return undefined;
  const byId = new Map(steps.map((s) => [s.id, s]));
  const optionsOf = new Map<number, O[]>();
  for (const option of options) optionsOf.set(option.product_deployment_plan_step_id, [...(optionsOf.get(option.product_deployment_plan_step_id) ?? []), option]);
  const shown = new Set<number>();
  const build = (step: S): StepNode<S, O> => {
    shown.add(step.id);
    const child = (id: number | null): StepNode<S, O> | null => {
      const next = id === null ? undefined : byId.get(id);
      return next === undefined || shown.has(next.id) ? null : build(next);
    };
    const on_success_step = child(step.on_success_step_id);
    const on_failure_step = child(step.on_failure_step_id);
    return { ...step, options: optionsOf.get(step.id) ?? [], on_success_step, on_failure_step };
  };
  return build(root);
}

/** The ids of `rootId` and every step under it (each once, cycles cut). */
export function collectSubtreeIds(steps: readonly StepLinks[], rootId: number): number[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const seen: number[] = [];
  const pending = [rootId];
  while (pending.length > 0) {
    const id = pending.pop()!;
    const step = byId.get(id);
    if (step === undefined || seen.includes(id)) continue;
    seen.push(id);
    pending.push(...linksOf(step));
  }
  return seen;
}

/** The step pointing to `id`, and through which link; undefined for a root. */
export function findParentStep<S extends StepLinks>(steps: readonly S[], id: number): { readonly parent: S; readonly stepCase: StepCase } | undefined {
  for (const parent of steps) {
    if (parent.on_success_step_id === id) return { parent, stepCase: 'success' };
    if (parent.on_failure_step_id === id) return { parent, stepCase: 'failure' };
  }
  return undefined;
}

/**
 * Why a set of steps is not a forest of binary trees, or undefined when it is: every link names a step of the set,
 * no step is pointed to twice (or by itself), and no chain of links comes back to where it started.
 */
export function findTreeProblem(steps: readonly StepLinks[]): string | undefined {
  const ids = new Set(steps.map((s) => s.id));
  const parents = new Map<number, number>();
  for (const step of steps) {
    for (const child of linksOf(step)) {
      if (!ids.has(child)) return `step ${child} is not a step of this plan`;
      if (child === step.id) return `step ${step.id} cannot follow itself`;
      if (parents.has(child)) return `step ${child} already follows step ${parents.get(child)}`;
      parents.set(child, step.id);
    }
  }
  // With at most one parent each, a cycle is a chain of parents that returns to its start.
  for (const start of ids) {
    const seen = new Set<number>();
    for (let at: number | undefined = start; at !== undefined; at = parents.get(at)) {
      if (seen.has(at)) return `the links would form a cycle through step ${at}`;
      seen.add(at);
    }
  }
  return undefined;
}

/** A step as a request nests it: its type, options and the steps that follow it. */
export interface NestedStep<O> {
  readonly type: string;
  readonly options?: readonly O[] | undefined;
  readonly on_success_step?: NestedStep<O> | null | undefined;
  readonly on_failure_step?: NestedStep<O> | null | undefined;
}

/** One step of a nested request, in creation order (parents first), with the positions of the steps that follow it. */
export interface FlatStep<O> {
  readonly type: string;
  readonly options: readonly O[];
  readonly onSuccess: number | null;
  readonly onFailure: number | null;
}

/** Flattens a nested step (`POST …/steps`) into rows to insert; position 0 is its root. */
export function flattenNestedStep<O>(root: NestedStep<O>): FlatStep<O>[] {
  const flat: Array<{ type: string; options: readonly O[]; onSuccess: number | null; onFailure: number | null }> = [];
  const visit = (step: NestedStep<O>): number => {
    const at = flat.push({ type: step.type, options: step.options ?? [], onSuccess: null, onFailure: null }) - 1;
    const row = flat[at]!;
    row.onSuccess = step.on_success_step ? visit(step.on_success_step) : null;
    row.onFailure = step.on_failure_step ? visit(step.on_failure_step) : null;
    return at;
  };
  visit(root);
  return flat;
}

/** True when `value` nests objects deeper than `maxDepth` (checked before a recursive schema walks it). */
export function isNestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (maxDepth <= 0) return true;
  return Object.values(value).some((v) => isNestedDeeperThan(v, maxDepth - 1));
}
