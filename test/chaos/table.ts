/** The chaos suite's report: one row per trial (fault, point, outcome, ✓/✗ per invariant), then what each ✗ saw. */
import { INVARIANTS, type Invariant } from './invariants.js';
import type { TrialResult } from './trial.js';

const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(width - [...text].length, 0));

export function trialTable(results: readonly TrialResult[]): string {
  const header = ['#', 'fault', 'workflow', 'point', 'outcome', ...INVARIANTS, 'time'];
  const rows = results.map((r) => [
    String(r.plan.n),
    r.plan.fault,
    r.plan.milestones.join(','),
    r.point,
    r.outcome,
    ...INVARIANTS.map((i) => (r.verdicts[i].ok ? '✓' : '✗')),
    `${(r.ms / 1000).toFixed(0)}s`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => [...row[c]!].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, c) => pad(cell, widths[c]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `trial 7 (kill build at build +2.1s): one commit: 2 commits ...`, one line per failed invariant. */
export function failures(results: readonly TrialResult[]): string[] {
  return results.flatMap((r) =>
    INVARIANTS.filter((i: Invariant) => !r.verdicts[i].ok).map((i) => `trial ${r.plan.n} (${r.plan.fault} at ${r.point}, workflow ${r.workflowId}): ${i}: ${r.verdicts[i].detail}`),
  );
}

/** How many trials each invariant failed in. */
export function tally(results: readonly TrialResult[]): string {
  return INVARIANTS.map((i) => `${i} broken in ${results.filter((r) => !r.verdicts[i].ok).length}/${results.length}`).join(', ');
}
