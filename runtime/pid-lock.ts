import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A live process holds the lock file `path`: `pid`, read from it. */
export class PidLockHeldError extends Error {
  override readonly name = 'PidLockHeld';
  readonly retryable = false;
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is held by process ${pid}`);
  }
}

export const isPidLockHeld = (e: unknown): e is PidLockHeldError => e instanceof Error && e.name === 'PidLockHeld';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, which still holds the lock.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock files this process holds now: a file naming our pid that is not among them was left by an earlier
 *  process that had our pid (in a container the platform's process is pid 1 every time). */
const heldHere = new Set<string>();

/** Whether the pid a lock file names holds it: a live process other than this one, or this one holding it now. */
const holds = (path: string, pid: number): boolean => (pid === process.pid ? heldHere.has(path) : isAlive(pid));

/**
 * Takes the lock file `path` for this process: created exclusively, holding our pid. A lock left by a process that
 * has died (a SIGKILL leaves its file) is taken over at once; one held by a live process, this one included, is
 * refused with a PidLockHeldError naming it. Resolves with the release.
 */
export async function takePidLock(path: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  // A few rounds: another process may take a dead holder's lock between our unlink and our create.
  for (let round = 0; round < 3; round++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      heldHere.add(path);
      return async () => {
        heldHere.delete(path);
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holds(path, holder)) throw new PidLockHeldError(path, holder);
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`cannot lock ${path}: it keeps reappearing`);
}
