/** Plain-text tables for people (`--json` prints the data instead). Pure: rows in, text out. */

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | boolean | null | undefined;
}

const cell = (v: string | number | boolean | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v).replace(/\s+/g, ' '));

/** Columns padded to their widest cell, two spaces apart, no trailing spaces; `empty` when there are no rows. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[], empty: string): string {
  if (rows.length === 0) return empty;
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells.map((line) => line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** `key: value` lines, keys aligned, for one object (`workflow show`). */
export function formatFields(fields: ReadonlyArray<readonly [string, string | number | boolean | null | undefined]>): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join('\n');
}
