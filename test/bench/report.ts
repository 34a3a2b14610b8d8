/** One comparison: our path and its baseline, measured in the same run. */
export interface BenchResult {
  readonly name: string;
  readonly unit: string;
  readonly baseline: { readonly label: string; readonly value: number };
  readonly ours: { readonly label: string; readonly value: number };
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

/** A plain table: both figures, and ours as a ratio of the baseline (higher is better for rates). */
export function formatResults(results: readonly BenchResult[]): string {
  const rows = results.map((r) => [r.name, `${fmt(r.baseline.value)} ${r.unit} (${r.baseline.label})`, `${fmt(r.ours.value)} ${r.unit} (${r.ours.label})`, `${(r.ours.value / r.baseline.value).toFixed(2)}x`]);
  const header = ['benchmark', 'baseline', 'ours', 'ours/baseline'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
