import { isPidLockHeld, takePidLock } from '../runtime/pid-lock.js';

/** Another live process holds the embedded database's data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLocked';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    options?: ErrorOptions,
  ) {
    super(`the embedded database at ${dataDir} is in use by process ${pid} (lock file ${lockPathOf(dataDir)}); stop it or choose another MANAGER_DATA_DIR`, options);
  }
}

/** Beside the directory, not in it: PGlite owns every file inside. */
const lockPathOf = (dataDir: string): string => `${dataDir.replace(/\/+$/, '')}.lock`;

/**
 * Takes the data directory for this process, before anything opens it (runtime/pid-lock.ts): a lock left by a
 * process that has died is taken over; one held by a live process is refused at once, naming it. Resolves with the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await takePidLock(lockPathOf(dataDir));
  } catch (err) {
    if (isPidLockHeld(err)) throw new DataDirLockedError(dataDir, err.pid, { cause: err });
    throw err;
  }
}
