import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerClusters } from './commands/clusters.js';
import { registerLogin } from './commands/login.js';
import { registerPlatform } from './commands/platform.js';
import { registerRoutes } from './commands/routes.js';
import { registerWorkflow } from './commands/workflow.js';
import { errorText } from './core/errors.js';
import { context, output, type Context } from './output.js';
import { cliLogger } from './session.js';
import { packagePath } from '../runtime/package-path.js';

/**
 * `openaperture`: the platform's command line (issue 9 item 3). It dispatches to the runtime, the Manager's database
 * code and the Manager's API, and holds no logic of its own (design §3). Every failure is one line on stderr,
 * `openaperture: <message>`, and exit code 1 (a stack trace with --debug).
 */

const { version } = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };

interface GlobalOptions {
  readonly json?: boolean;
  readonly debug?: boolean;
}

function program(): { program: Command; ctx: () => Context } {
  const root = new Command('openaperture')
    .description('OpenAperture: start the platform, register clusters, run and follow workflows')
    .version(version)
    .option('--json', 'print results as JSON')
    .option('--debug', 'stack traces and the client log on stderr')
    // commander's errors too are one line: `error: unknown command 'x'\n(Did you mean y?)` becomes `openaperture: unknown command 'x' (Did you mean y?)`.
    .configureOutput({ outputError: (text, write) => write(`openaperture: ${text.replace(/^error: /, '').trim().split('\n').join(' ')}\n`) });
  let current: Context | undefined;
  root.hook('preAction', () => {
    const o = root.opts<GlobalOptions>();
    current = context(process.env, output(o.json === true), cliLogger(o.debug === true));
  });
  const ctx = (): Context => {
    // preAction runs before every action; an action without one would be a wiring bug of this file.
    if (current === undefined) throw new Error('openaperture: no context before the action');
    return current;
  };
  return { program: root, ctx };
}

const { program: cli, ctx } = program();
registerPlatform(cli, ctx);
registerLogin(cli, ctx);
registerClusters(cli, ctx);
registerWorkflow(cli, ctx);
registerRoutes(cli, ctx);

try {
  await cli.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`openaperture: ${errorText(err, cli.opts<GlobalOptions>().debug === true)}\n`);
  process.exitCode = 1;
}
