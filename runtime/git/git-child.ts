/**
 * The git process's entry (git-process.ts starts it): runs each git operation it is sent with repo.ts, many at once,
 * and answers with the result or the error as data. It exits when its parent goes away.
 */
import type { GitReply, GitRequest } from './git-process.js';
import { cloneRepo, openRepo, type CloneOptions } from './repo.js';
import { serializeError } from '../core/errors.js';

const running = new Map<number, AbortController>();

async function perform(req: Extract<GitRequest, { op: string }>, opts: CloneOptions): Promise<unknown> {
  switch (req.op) {
    case 'clone':
      await cloneRepo(opts);
      return undefined;
    case 'headCommit':
      return openRepo(opts).headCommit();
    case 'changedFiles':
      return openRepo(opts).changedFiles();
    case 'commitAll':
      return openRepo(opts).commitAll(req.message);
    case 'push':
      return openRepo(opts).push();
  }
}

async function serve(req: Extract<GitRequest, { op: string }>): Promise<GitReply> {
  const abort = new AbortController();
  running.set(req.id, abort);
  try {
    return { id: req.id, ok: true, value: await perform(req, { ...req.opts, signal: abort.signal }) };
  } catch (err) {
    return { id: req.id, ok: false, error: serializeError(err) };
  } finally {
    running.delete(req.id);
  }
}

process.on('message', (req: GitRequest) => {
  if ('abort' in req) return running.get(req.abort)?.abort();
  // serve() answers every failure as data; a reply to a parent that is gone has nobody to go to.
  void serve(req).then((reply) => {
    if (process.connected) process.send?.(reply);
  });
});
process.on('disconnect', () => process.exit(0));
