import { readdirSync, readFileSync } from 'node:fs';

/** A process's state letter, parent pid and start time (clock ticks since boot), from /proc; none once reaped. */
export function processStat(pid: number): { readonly state: string; readonly ppid: number; readonly startTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the name (which may hold spaces and parentheses): state is field 3, ppid 4, starttime 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1] ?? '0'), startTicks: Number(fields[19] ?? '0') };
  } catch {
    return undefined;
  }
}

/** One process as seen at a moment: its pid and start time tell it from a later process given the same pid. */
export interface ProcessId {
  readonly pid: number;
  readonly startTicks: number;
  readonly command: string;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '').join(' ');
  } catch {
    return '';
  }
}

/** Every live descendant of `pid` (children, their children, ...), read from /proc at once. */
export function descendantsOf(pid: number): ProcessId[] {
  const children = new Map<number, number[]>();
  const starts = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(Number(entry));
    if (stat === undefined || stat.state === 'Z') continue;
    starts.set(Number(entry), stat.startTicks);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(entry)]);
  }
  const found: ProcessId[] = [];
  const queue = [...(children.get(pid) ?? [])];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    found.push({ pid: next, startTicks: starts.get(next) ?? 0, command: commandOf(next) });
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/** Whether that very process still runs (not reaped, not a zombie, and its pid not reused by another). */
export function stillRuns(p: ProcessId): boolean {
  const stat = processStat(p.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTicks === p.startTicks;
}

/** Whether `pid` is `ancestor` or one of its descendants now. */
export function isUnder(pid: number, ancestor: number): boolean {
  for (let at: number | undefined = pid; at !== undefined && at > 1; at = processStat(at)?.ppid) if (at === ancestor) return true;
  return false;
}
