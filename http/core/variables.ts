/**
 * Environment variables of a product (reference §2.3, §3.5): product-wide defaults (no environment) and per-environment
 * overrides. Pure: rows in, rows out.
 */

/** What coalescing needs of a variable row. */
export interface VariableScope {
  readonly id: number;
  readonly product_environment_id: number | null;
  readonly name: string;
}

/**
 * The variables an environment sees (`?coalesced=true`, reference §3.5): the product's defaults and the environment's
 * own, one row per name, the environment's winning; sorted by name. Rows of other environments are ignored. Names
 * match exactly, as the original's `distinct on (name)` did: `Foo` and `FOO` are two variables of a process environment.
 */
export function coalesceVariables<T extends VariableScope>(rows: readonly T[], environmentId: number): T[] {
  const byName = new Map<string, T>();
  for (const row of rows) {
    if (row.product_environment_id !== null && row.product_environment_id !== environmentId) continue;
    const held = byName.get(row.name);
    if (held === undefined || (held.product_environment_id === null && row.product_environment_id !== null)) byName.set(row.name, row);
  }
  return [...byName.values()].sort(byNameThenId);
}

function byNameThenId(a: VariableScope, b: VariableScope): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id - b.id;
}

/** What to write to a variable's value after a create or an update. */
export type ValueChange =
  /** Neither the value nor its privacy changes: the stored text stays as it is. */
  | { readonly kind: 'keep' }
  /** The caller's value, sealed or in clear. */
  | { readonly kind: 'write'; readonly plaintext: string | null; readonly seal: boolean }
  /** The stored value again, because only its privacy changed: sealed, or opened and kept in clear. */
  | { readonly kind: 'rewrite'; readonly seal: boolean };

/**
 * Decides what to write for a variable's value (design §2: private values are sealed at rest). `current` is the stored
 * row's privacy (undefined on create), `change` what the caller sent (`undefined` = not sent). A row whose value and
 * privacy do not change is left alone, so one sealed under a retired key stays as it is.
 */
export function decideValueChange(
  current: { readonly private: boolean } | undefined,
  change: { readonly value?: string | null | undefined; readonly private?: boolean | null | undefined },
): ValueChange {
  const seal = change.private ?? current?.private ?? false;
  if (change.value !== undefined || current === undefined) return { kind: 'write', plaintext: change.value ?? null, seal: seal && (change.value ?? null) !== null };
  return seal === current.private ? { kind: 'keep' } : { kind: 'rewrite', seal };
}
