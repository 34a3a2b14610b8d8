/** The TLS files of a config (core/config.ts `tlsFilesOf`) on disk: written before the config is checked, the rest removed. */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TlsFile } from './core/config.js';

/**
 * Writes each file (mode 0600: they hold private keys) in `certDir` (mode 0700) and removes any other file there, such
 * as the key of an authority no longer served: a running worker read its files when it loaded, so none is needed after.
 */
export async function writeTlsFiles(certDir: string, files: readonly TlsFile[]): Promise<void> {
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  for (const file of files) await writeFile(file.path, file.content, { mode: 0o600 });
  const kept = new Set(files.map((f) => basename(f.path)));
  const stale = (await readdir(certDir)).filter((name) => !kept.has(name));
  await Promise.all(stale.map((name) => rm(join(certDir, name), { force: true })));
}
