/**
 * One router per ROUTER_DIR (issue 15): the directory's HAProxy has one owner. A lock file in the directory holds the
 * owner's pid (runtime/pid-lock.ts); a router that was SIGKILLed leaves a dead pid there, and its successor takes the
 * lock, and then the HAProxy it left, at once.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RouterDirLockedError } from './errors.js';
import { isPidLockHeld, takePidLock } from '../../runtime/pid-lock.js';

export const routerLockPathOf = (dir: string): string => join(dir, 'router.lock');

/** Takes `dir` for this process, or refuses with a RouterDirLockedError naming the holder's pid. Resolves with the release. */
export async function lockRouterDir(dir: string): Promise<() => Promise<void>> {
  // The directory holds the proxy's sockets: ours alone.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    return await takePidLock(routerLockPathOf(dir));
  } catch (err) {
    if (isPidLockHeld(err)) throw new RouterDirLockedError(dir, err.pid, { cause: err });
    throw err;
  }
}
