import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MigrationObject } from '@mikro-orm/core';

/**
 * Every migration in this folder, in name order: files named `<yyyymmddhhmmss>-<what>.ts` (or `.js` once built),
 * each default-exporting a Migration class of raw PostgreSQL that also runs on PGlite. Never edit one that has shipped.
 */
const MIGRATION_FILE = /^(\d{14})-[a-z0-9-]+\.(ts|js)$/;

export async function migrationsList(): Promise<MigrationObject[]> {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts')).sort();
  const list: MigrationObject[] = [];
  for (const file of files) {
    const loaded = (await import(pathToFileURL(`${dir}${file}`).href)) as { default?: MigrationObject['class'] };
    if (typeof loaded.default !== 'function') throw new TypeError(`migration ${file} does not default-export a Migration class`);
    list.push({ name: file.replace(/\.(ts|js)$/, ''), class: loaded.default });
  }
  return list;
}
