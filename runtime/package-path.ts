import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A path inside the platform's own package (package.json, deploy/topologies/), the same whether this module runs
 * from the TypeScript sources (under tsx) or from their build in dist/: the package root is the nearest folder
 * above this module that holds a package.json (the build emits none into dist/).
 */
export function packagePath(...segments: string[]): string {
  const here = fileURLToPath(import.meta.url);
  let dir = dirname(here);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json in any folder above ${here}`);
    dir = parent;
  }
  return join(dir, ...segments);
}
