/**
 * Git in a small long-lived child process (git-child.ts). Node forks the whole process for every command it spawns,
 * and the fork blocks the event loop for as long as copying that process's memory map takes: in a worker of 150 MB,
 * 3-8 ms for each of the 5-7 git commands of a milestone, during which none of its other milestones moves. The child
 * holds little but simple-git, so its forks are cheap and the worker's event loop never waits for one.
 *
 * The child starts at the first operation and again after it died (the operations it was running fail, saying so).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloneOptions, CommitInfo, GitRepo } from './repo.js';
import { RemoteError, serializedErrorOf, type SerializedError } from '../core/errors.js';

/** CloneOptions as they cross to the child: everything but the signal, which crosses as an `abort` request. */
type WireOptions = Omit<CloneOptions, 'signal'>;

/** What the parent sends: an operation, or the abort of one it sent. */
export type GitRequest =
  | { readonly id: number; readonly op: 'clone' | 'headCommit' | 'changedFiles' | 'push'; readonly opts: WireOptions }
  | { readonly id: number; readonly op: 'commitAll'; readonly opts: WireOptions; readonly message: string }
  | { readonly abort: number };

/** What the child answers, once per operation. */
export type GitReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: SerializedError };

type Operation = Extract<GitRequest, { op: string }>;
type OperationOf<R> = R extends Operation ? Omit<R, 'id' | 'opts'> : never;

/** What each operation's `value` is: what repo.ts returned in the child. */
interface Results {
  clone: undefined;
  headCommit: CommitInfo;
  changedFiles: string[];
  commitAll: string;
  push: undefined;
}

/** The child's module beside this one: `.ts` under tsx, `.js` once built. */
const CHILD_MODULE = fileURLToPath(new URL(`./git-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

const LOADER_FLAG = /^(--import|--require|-r|--loader|--experimental-loader)$/;

/**
 * The parent's flags that load code (tsx, under the sources), each with its value, and nothing else: not `-e` or `-p`
 * (the child would run the parent's script), not `--inspect` (the parent holds its port).
 */
export function loaderFlagsOf(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i] ?? '';
    const value = execArgv[i + 1];
    if (LOADER_FLAG.test(flag) && value !== undefined) {
      kept.push(flag, value);
      i++;
    } else if (LOADER_FLAG.test(flag.split('=')[0] ?? '') || flag === '--enable-source-maps') kept.push(flag);
  }
  return kept;
}

export interface GitProcess {
  /** cloneRepo of repo.ts, run by the child; so are the returned repo's operations. */
  cloneRepo(opts: CloneOptions): Promise<GitRepo>;
  /** Ends the child; a later operation starts another. */
  stop(): void;
}

export function gitProcess(): GitProcess {
  let child: ChildProcess | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

  // An idle child keeps nobody's process alive; a running operation does.
  const hold = (on: boolean) => {
    if (on) {
      child?.ref();
      child?.channel?.ref();
    } else {
      child?.unref();
      child?.channel?.unref();
    }
  };

  const started = (): ChildProcess => {
    if (child !== undefined) return child;
    const c = fork(CHILD_MODULE, [], { execArgv: loaderFlagsOf(process.execArgv), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.on('message', (reply: GitReply) => {
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) hold(false);
      if (reply.ok) call?.resolve(reply.value);
      else call?.reject(new RemoteError(serializedErrorOf(reply.error)));
    });
    // A child that cannot be started or written to is ended; its exit fails what it was running.
    c.on('error', () => c.kill());
    c.on('exit', (code, signal) => {
      if (child === c) child = undefined;
      const calls = [...pending.values()];
      pending.clear();
      for (const call of calls) call.reject(new Error(`the git process exited (${signal ?? `code ${code ?? 'unknown'}`}) during the operation`));
    });
    child = c;
    return c;
  };

  const run = <O extends OperationOf<Operation>>(op: O, { signal, ...opts }: CloneOptions): Promise<Results[O['op']]> => {
    const id = nextId++;
    const c = started();
    hold(true);
    const onAbort = () => c.send({ abort: id } satisfies GitRequest);
    // The child is ours and answers with repo.ts's own values (advanced serialization keeps a Date a Date).
    return new Promise<Results[O['op']]>((resolve, reject) => {
      pending.set(id, { resolve: (value) => resolve(value as Results[O['op']]), reject });
      c.send({ ...op, id, opts });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    }).finally(() => signal?.removeEventListener('abort', onAbort));
  };

  const repoAt = (opts: CloneOptions): GitRepo => ({
    dir: opts.dir,
    headCommit: () => run({ op: 'headCommit' }, opts),
    changedFiles: () => run({ op: 'changedFiles' }, opts),
    commitAll: (message) => run({ op: 'commitAll', message }, opts),
    push: () => run({ op: 'push' }, opts),
  });

  return {
    async cloneRepo(opts) {
      await run({ op: 'clone' }, opts);
      return repoAt(opts);
    },
    stop() {
      child?.kill();
      child = undefined;
    },
  };
}
