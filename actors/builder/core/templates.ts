/**
 * The deployment repo's templates (reference §6.2 step 5): every `*.eex` file rendered with EJS, whose `<%= %>` reads
 * as EEx's did, with `commit_hash` and `timestamp`, to the same name without `.eex`. Unlike EJS's default, nothing is
 * HTML-escaped: these are Dockerfiles and scripts, as in the original.
 *
 * Rendering is a pure function of the workflow's inputs (issue 14 item 1): a re-run renders the same files, so it
 * commits nothing, and the same inputs give the same image identity (core/identity.ts).
 */
import ejs from 'ejs';
import type { Parsed } from './repo-files.js';

export interface TemplateVars {
  /** The source commit being deployed. */
  readonly commit_hash: string;
  /**
   * RFC 1123, as the original's, but not "now" (which made every run render anew): the source commit's committer
   * date, else (no source repo) the workflow's start time; absent when there is neither, so a template using it fails
   * naming it.
   */
  readonly timestamp?: string;
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

/** A workflow's template variables: each from its inputs (the source commit, else the workflow), none from the clock. */
export function templateVarsOf(source: { readonly sha: string; readonly committedAt: Date | undefined }, workflowStartTime: string | null | undefined): TemplateVars {
  const time = source.committedAt ?? (workflowStartTime ? new Date(workflowStartTime) : undefined);
  return time === undefined || Number.isNaN(time.getTime()) ? { commit_hash: source.sha } : { commit_hash: source.sha, timestamp: time.toUTCString() };
}

const WORKFLOW_TRAILER = 'OpenAperture-Workflow';

/** The commit of a render: the original's subject, and a trailer naming the workflow, so its re-run recognises it. */
export const templateCommitMessage = (sha: string, workflowId: string): string => `Deployment for commit ${sha}\n\n${WORKFLOW_TRAILER}: ${workflowId}`;

/** Whether a commit message is that of this workflow's render. */
export const isTemplateCommitOf = (message: string, workflowId: string): boolean => message.split('\n').includes(`${WORKFLOW_TRAILER}: ${workflowId}`);
