import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Another live process holds the embedded database's data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLocked';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the embedded database at ${dataDir} is in use by process ${pid} (lock file ${lockPathOf(dataDir)}); stop it or choose another MANAGER_DATA_DIR`);
  }
}

/** Beside the directory, not in it: PGlite owns every file inside. */
const lockPathOf = (dataDir: string): string => `${dataDir.replace(/\/+$/, '')}.lock`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, which still holds the directory.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process, before anything opens it: a lock file holding our pid, created
 * exclusively. A lock left by a process that has died is taken over; one held by a live process is refused at once,
 * naming that process. Resolves with the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = lockPathOf(dataDir);
  await mkdir(dirname(path), { recursive: true });
  // A few rounds: another process may take a dead holder's lock between our unlink and our create.
  for (let round = 0; round < 3; round++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) throw new DataDirLockedError(dataDir, holder);
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`cannot lock ${dataDir}: ${path} keeps reappearing`);
}
