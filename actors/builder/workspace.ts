/** The Builder's files: one temporary directory per milestone, always removed (reference §6.1 step 5). */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { TEMPLATE_SUFFIX, type RenderedFile } from './core/templates.js';

/** Runs `work` in a fresh directory under `root`, and removes the directory whatever happens. */
export async function withWorkspace<T>(root: string, workflowId: string, work: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, `oa-builder-${workflowId}-`));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A file's text, or undefined when there is none. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every `*.eex` file of a checkout, `.git` excluded, with its text; paths relative to the root, sorted. */
export async function readTemplates(root: string): Promise<Array<{ path: string; text: string }>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(TEMPLATE_SUFFIX))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((p) => !p.split(/[\\/]/).includes('.git'))
    .sort();
  return Promise.all(files.map(async (path) => ({ path, text: await readFile(join(root, path), 'utf8') })));
}

export async function writeRendered(root: string, files: readonly RenderedFile[]): Promise<void> {
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.content);
  }
}

/** The source checkout, without `.git`, into `source/` of the build context (the brief's deployment-repo contract). */
export async function copySource(sourceDir: string, contextDir: string): Promise<void> {
  await cp(sourceDir, join(contextDir, 'source'), { recursive: true, filter: (src) => !relative(sourceDir, src).split(/[\\/]/).includes('.git') });
}
