/** The deployment repo's part of the build context, read from disk and hashed as core/identity.ts says. */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { byPath, contextHasher, DESCRIPTOR_FILES, type ContextEntry } from './core/identity.js';

/** Regular files and symbolic links under `root` (not followed), `/`-separated paths; `.git` is left out, as Docker's context leaves it. */
async function entriesOf(root: string, prefix = ''): Promise<ContextEntry[]> {
  const entries: ContextEntry[] = [];
  for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.name === '.git') continue;
    if (e.isDirectory()) entries.push(...(await entriesOf(root, path)));
    else if (e.isSymbolicLink()) entries.push({ path, mode: '120000' });
    else if (e.isFile()) entries.push({ path, mode: ((await lstat(join(root, path))).mode & 0o111) === 0 ? '100644' : '100755' });
  }
  return entries;
}

/** The context hash of a checkout (after rendering, before the source is copied in), and how many files it covers. */
export async function hashBuildContext(root: string): Promise<{ hash: string; files: number }> {
  const entries = (await entriesOf(root)).filter((e) => !DESCRIPTOR_FILES.includes(e.path)).sort(byPath);
  const hasher = contextHasher();
  for (const e of entries) hasher.add(e, e.mode === '120000' ? Buffer.from(await readlink(join(root, e.path))) : await readFile(join(root, e.path)));
  return { hash: hasher.hex(), files: entries.length };
}
