import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The intake rule (design §11): the runtime owns every consumer. A call of `.consume(...)` anywhere but
 * runtime/messaging/ fails `npm test`, named by file and line; components declare their queues instead (intake.ts).
 * Tests are exempt: a test may stand in for a component that consumes.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHECKED = ['actors', 'http', 'cli', 'runtime', 'entities', 'migrations'];
const ALLOWED = /^runtime\/messaging\//;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * A transport's consume: called on something named a transport, or given a consumer spec (an object with `queue`).
 * Other libraries' `consume(key)` (a rate limiter's) are not consumers of queues.
 */
function isTransportConsume(call: ts.CallExpression): boolean {
  const receiver = (call.expression as ts.PropertyAccessExpression).expression.getText();
  const [first] = call.arguments;
  const spec = first !== undefined && ts.isObjectLiteralExpression(first) && first.properties.some((p) => p.name?.getText() === 'queue');
  return spec || /transport/i.test(receiver);
}

/** Where `text` calls a transport's `.consume(...)`, as `name:line`. */
function consumeCalls(name: string, text: string): string[] {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'consume' && isTransportConsume(node)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${name}:${line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the intake rule: only runtime/messaging consumes', () => {
  it('finds no consume() call outside runtime/messaging', () => {
    const offenders = CHECKED.flatMap((dir) => sources(join(ROOT, dir)))
      .filter((file) => !ALLOWED.test(relative(ROOT, file)))
      .flatMap((file) => consumeCalls(relative(ROOT, file), readFileSync(file, 'utf8')));
    expect(offenders, 'declare the queue in the component\'s intake.ts instead').to.deep.equal([]);
  });

  it('sees a call however it is written', () => {
    const probe = 'const s = await ctx.transport\n  .consume({ queue: "q" });\nconsume();\nawait t.consume({ queue, decode });\nawait limiter.consume(key);';
    expect(consumeCalls('probe.ts', probe)).to.deep.equal(['probe.ts:1', 'probe.ts:4']);
  });
});
