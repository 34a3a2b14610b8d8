/**
 * The deployment repo's templates (reference §6.2 step 5): every `*.eex` file rendered with EJS, whose `<%= %>` reads
 * as EEx's did, with `commit_hash` and `timestamp`, to the same name without `.eex`. Unlike EJS's default, nothing is
 * HTML-escaped: these are Dockerfiles and scripts, as in the original.
 */
import ejs from 'ejs';
import type { Parsed } from './repo-files.js';

export interface TemplateVars {
  readonly commit_hash: string;
  /** RFC 1123, as the original's. */
  readonly timestamp: string;
}

export interface RenderedFile {
  /** Relative to the repo root, without `.eex`. */
  readonly path: string;
  readonly content: string;
}

export const TEMPLATE_SUFFIX = '.eex';

/** Why EJS refused a template, as one line: `Dockerfile.eex line 3: commit_hsh is not defined`. */
function templateProblem(path: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  const line = /^[^\n]*:(\d+)\n/.exec(message)?.[1];
  return `${path}${line === undefined ? '' : ` line ${line}`}: ${lines.at(-1) ?? 'cannot be rendered'}`;
}

/** Renders each template; the first that fails is the reason. */
export function renderTemplates(templates: ReadonlyArray<{ readonly path: string; readonly text: string }>, vars: TemplateVars): Parsed<RenderedFile[]> {
  const rendered: RenderedFile[] = [];
  for (const t of templates) {
    try {
      const content = ejs.render(t.text, { ...vars }, { filename: t.path, escape: (markup: unknown) => String(markup), strict: false, async: false });
      rendered.push({ path: t.path.slice(0, -TEMPLATE_SUFFIX.length), content });
    } catch (err) {
      return { ok: false, reason: templateProblem(t.path, err) };
    }
  }
  return { ok: true, value: rendered };
}

/** The files whose rendered content differs from what is on disk (`undefined`: no such file yet). */
export function changedRenders(rendered: readonly RenderedFile[], current: (path: string) => string | undefined): RenderedFile[] {
  return rendered.filter((f) => current(f.path) !== f.content);
}
