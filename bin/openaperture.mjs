#!/usr/bin/env node
// The `openaperture` command, from any directory. It runs cli/main.ts in a node with tsx loaded by `--import`, as
// `npm start` does: registering tsx from here at run time (tsx/esm/api, tsx/cjs/api) is not enough for the actor
// runtime, whose comedy require()s actor modules written in TypeScript. Components a topology forks inherit the flag.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
// Its own process group: a Ctrl-C reaches the command once, through the forwarding below, not twice (a second
// SIGINT makes the platform exit without draining).
const child = spawn(process.execPath, [...process.execArgv, '--import', import.meta.resolve('tsx'), main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  detached: true,
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGKILL' ? 9 : 15))));
