/**
 * The HAProxy master process, whether this process spawned it or took it over from an earlier process that died
 * without stopping it (a SIGKILLed router: the master outlives its parent, and goes on serving).
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

export interface MasterExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Master {
  readonly pid: number;
  /** Sends a signal; one to a master that has gone is a no-op. */
  signal(signal: NodeJS.Signals): void;
  /** Settles once, when the master has exited. */
  readonly exited: Promise<MasterExit>;
}

export function spawnedMaster(child: ChildProcess): Master {
  return {
    pid: child.pid ?? 0,
    signal: (signal) => void child.kill(signal),
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
}

/** How often a master that is not our child is looked at: its exit is seen at most this late. */
const ADOPTED_POLL_MS = 100;

async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** A master started by an earlier process: signalled by pid, its exit seen in /proc (its code is its reaper's). */
export function adoptedMaster(pid: number): Master {
  const exited = new Promise<MasterExit>((resolve) => {
    const timer = setInterval(() => {
      void isGone(pid).then((gone) => {
        if (!gone) return;
        clearInterval(timer);
        resolve({ code: null, signal: null });
      });
    }, ADOPTED_POLL_MS);
    // Not our child: it does not keep this process alive, as a spawned one would not outlive it either.
    timer.unref();
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  return { pid, signal, exited };
}

/** Records the master's pid, so that a later process on the same directory can find it. */
export const writePidFile = (path: string, pid: number): Promise<void> => writeFile(path, `${pid}\n`, { mode: 0o600 });

export const removePidFile = (path: string): Promise<void> => rm(path, { force: true });

/**
 * The pid in `pidFile` when that process still runs and really is a haproxy master on `configFile` and
 * `masterSocket` (/proc/<pid>/cmdline): a pid reused by another process since is not taken for it.
 */
export async function livePidOf(files: { readonly pidFile: string; readonly configFile: string; readonly masterSocket: string }): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(files.pidFile, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || (await isGone(pid))) return undefined;
  let argv: string[];
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  } catch {
    return undefined;
  }
  const after = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const isOurs = basename(argv[0] ?? '').startsWith('haproxy') && after('-f') === files.configFile && after('-S') === files.masterSocket;
  return isOurs ? pid : undefined;
}
