#!/usr/bin/env node
// The `openaperture` command, from any directory: the compiled CLI in dist/, which `npm ci` builds (the `prepare`
// script; `npm run build` again after changing the sources). The TypeScript sources run under tsx in development
// and tests only: `node --import tsx cli/main.ts`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write(`openaperture: ${fileURLToPath(compiled)} is missing; run \`npm ci\` or \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
await import(compiled.href);
