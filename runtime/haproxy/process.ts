/**
 * One HAProxy in master-worker mode: started on a routing model (or taken over from an earlier process on the same
 * directory), moved to the next model through the Runtime API or a hitless reload, and watched, so that a supervisor
 * learns when it dies.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { planChange, type Change } from './core/change.js';
import { renderConfig, tlsFilesOf } from './core/config.js';
import type { RoutingModel } from './core/model.js';
import type { ProxySettings } from './core/settings.js';
import { Lane } from '../core/lane.js';
import { sleep } from '../core/promises.js';
import type { ProcessList } from './core/answers.js';
import { adoptedMaster, livePidOf, removePidFile, spawnedMaster, writePidFile, type Master } from './master.js';
import { fetchProcessList, RuntimeApi } from './runtime-api.js';
import { writeTlsFiles } from './tls-files.js';

const execFileAsync = promisify(execFile);

export interface HaproxyOptions {
  /** The haproxy executable (Debian: /usr/sbin/haproxy), 2.6 or later. */
  readonly binary: string;
  /** A directory this process owns: the config, the master socket and the master's pidfile live there. */
  readonly dir: string;
  readonly settings: ProxySettings;
  /** How long a start or a reload may take until the new worker answers; default 10 s. */
  readonly readyTimeoutMs?: number;
}

/** How the master process ended; `requested` is true when `stop()` ended it. */
export interface ProxyExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly requested: boolean;
}

/** HAProxy refused a config, did not come up, or did not take a reload; `output` is what it printed last. */
export class HaproxyError extends Error {
  override readonly name = 'HaproxyError';
  constructor(
    message: string,
    readonly output: string,
    readonly retryable: boolean,
  ) {
    super(output === '' ? message : `${message}\n${output}`);
  }
}

const OUTPUT_LINES = 40;
const POLL_MS = 25;
/** How long a `del server` refused for connections still attached is asked again (a worker closes them within ms). */
const DEL_SERVER_PATIENCE_MS = 5_000;

export class HaproxyProcess {
  readonly api: RuntimeApi;
  /** Settles once, when the master exits (its workers go with it). */
  readonly exited: Promise<ProxyExit>;
  private readonly output: string[] = [];
  private stopRequested = false;
  private exit: ProxyExit | undefined;
  private readonly changes = new Lane();
  // undefined after a change failed part-way: what the proxy runs is then unknown, and the next change reloads.
  private current: RoutingModel | undefined;

  private constructor(
    private readonly opts: HaproxyOptions,
    private readonly master: Master,
    model: RoutingModel | undefined,
    child?: ChildProcess,
  ) {
    this.api = new RuntimeApi(opts.settings.statsSocket);
    this.current = model;
    const keep = (chunk: Buffer): void => {
      this.output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      this.output.splice(0, Math.max(0, this.output.length - OUTPUT_LINES));
    };
    child?.stdout?.on('data', keep);
    child?.stderr?.on('data', keep);
    // After the spawn, an error can only be a signal that could not be sent; `exited` still tells the end.
    child?.on('error', (err) => keep(Buffer.from(`(node) ${err.message}`)));
    this.exited = master.exited.then(({ code, signal }) => {
      this.exit = { code, signal, requested: this.stopRequested };
      return this.exit;
    });
  }

  /** Writes the model's config, checks it, starts the master and resolves once a worker answers the Runtime API. */
  static async start(opts: HaproxyOptions, model: RoutingModel): Promise<HaproxyProcess> {
    await writeCheckedConfig(opts, model);
    // A process group of its own: a Ctrl-C meant for this process (its terminal's group) does not stop the proxy
    // under it; stop() does, and a proxy whose parent died goes on serving until a new one takes it over (adopt).
    const child = spawn(opts.binary, ['-W', '-S', masterSocketOf(opts), '-f', configFileOf(opts)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const proxy = new HaproxyProcess(opts, spawnedMaster(child), model, child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new HaproxyError(`cannot start ${opts.binary}: ${err.message}`, '', false)));
    });
    try {
      await writePidFile(pidFileOf(opts), proxy.pid);
      await proxy.untilWorkerAnswers((pid) => pid > 0, 'the first worker');
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    return proxy;
  }

  /**
   * Takes over the master an earlier process started on `opts.dir` and left running (its pidfile names a live
   * haproxy on this directory's config and master socket); undefined when there is none. It serves on as it did; what
   * it serves is unknown (`model` undefined), so the first `apply` reloads it, hitless: the listening sockets pass to
   * the new worker. A master whose socket answers for another pid is stopped.
   */
  static async adopt(opts: HaproxyOptions): Promise<HaproxyProcess | undefined> {
    const pid = await livePidOf({ pidFile: pidFileOf(opts), configFile: configFileOf(opts), masterSocket: masterSocketOf(opts) });
    if (pid === undefined) return undefined;
    const proxy = new HaproxyProcess(opts, adoptedMaster(pid), undefined);
    try {
      const { masterPid } = await proxy.processList();
      if (masterPid !== pid) throw new HaproxyError(`the master socket ${masterSocketOf(opts)} answers for pid ${masterPid}, not ${pid}`, '', false);
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    return proxy;
  }

  /** The master's pid. */
  get pid(): number {
    return this.master.pid;
  }

  /** The model the proxy runs, or undefined when a failed change left that unknown. */
  get model(): RoutingModel | undefined {
    return this.current;
  }

  /** The master's process list: its reload count and workers. */
  processList(): Promise<ProcessList> {
    return fetchProcessList(masterSocketOf(this.opts));
  }

  /** What HAProxy printed last (alerts and warnings). */
  get lastOutput(): string {
    return this.output.join('\n');
  }

  /**
   * Moves the proxy to `next`: Runtime API commands when they can, else a reload. Changes run one at a time. A
   * command refused part-way throws, and the next change reloads from its whole model.
   */
  async apply(next: RoutingModel): Promise<Change> {
    return this.changes.run(async () => {
      const change: Change =
        this.current === undefined
          ? { kind: 'reload', reasons: ['an earlier change failed part-way'] }
          : planChange(this.current, next, this.opts.settings);
      this.current = undefined;
      if (change.kind === 'reload') await this.reloadWith(next);
      else for (const command of change.commands) await this.execute(command);
      this.current = next;
      return change;
    });
  }

  /**
   * Runs one command of a change. After `disable server` the worker closes the server's idle connections on each
   * thread in its own time, and `del server` is refused until it has ("Server still has connections attached to
   * it"): that refusal is asked again every POLL_MS for DEL_SERVER_PATIENCE_MS.
   */
  private async execute(command: string): Promise<void> {
    const until = Date.now() + DEL_SERVER_PATIENCE_MS;
    for (;;) {
      const refusal = await this.api.execute(command).then(() => undefined, (err: unknown) => err as Error);
      if (refusal === undefined) return;
      if (!(command.startsWith('del server ') && /still has connections attached/.test(refusal.message) && Date.now() < until)) throw refusal;
      await sleep(POLL_MS);
    }
  }

  /** Reloads on `next` even when the Runtime API could do the change (e.g. to start from a known state). */
  async reload(next: RoutingModel): Promise<void> {
    return this.changes.run(async () => {
      this.current = undefined;
      await this.reloadWith(next);
      this.current = next;
    });
  }

  /** Stops the master and its workers (SIGTERM, then SIGKILL after `timeoutMs`); resolves when it has exited. */
  async stop(timeoutMs = 5_000): Promise<ProxyExit> {
    if (this.exit !== undefined) return this.exit;
    this.stopRequested = true;
    this.master.signal('SIGTERM');
    const timer = setTimeout(() => this.master.signal('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    await removePidFile(pidFileOf(this.opts));
    return exit;
  }

  /** Config first (checked, then moved into place), then SIGUSR2 to the master; done when a new worker answers. */
  private async reloadWith(next: RoutingModel): Promise<void> {
    await writeCheckedConfig(this.opts, next);
    const before = await this.processList();
    this.master.signal('SIGUSR2');
    const workerPid = await this.untilReloaded(before.reloads, before.failedReloads, new Set(before.workers));
    await this.untilWorkerAnswers((pid) => pid === workerPid, `the new worker ${workerPid}`);
  }

  private async untilReloaded(reloads: number, failedReloads: number, oldWorkers: ReadonlySet<number>): Promise<number> {
    return this.poll('the master to start a new worker', async () => {
      const list = await this.processList();
      if (list.failedReloads > failedReloads) throw new HaproxyError('haproxy could not load the new config', this.lastOutput, true);
      return list.reloads > reloads ? list.workers.find((pid) => !oldWorkers.has(pid)) : undefined;
    });
  }

  private untilWorkerAnswers(isExpected: (pid: number) => boolean, what: string): Promise<number> {
    return this.poll(`${what} to answer on ${this.api.socketPath}`, async () => {
      const pid = await this.api.workerPid();
      return isExpected(pid) ? pid : undefined;
    });
  }

  /** Polls until `probe` gives a value; a probe's HaproxyError ends the wait, other errors (socket not up yet) do not. */
  private async poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (this.exit !== undefined) throw new HaproxyError(`haproxy exited (${this.exit.signal ?? `code ${this.exit.code}`}) while waiting for ${what}`, this.lastOutput, true);
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (err) {
        if (err instanceof HaproxyError) throw err;
        last = err instanceof Error ? ` (last: ${err.message})` : '';
      }
      if (Date.now() > deadline) throw new HaproxyError(`timed out after ${timeoutMs} ms waiting for ${what}${last}`, this.lastOutput, true);
      await sleep(POLL_MS);
    }
  }
}

const configFileOf = (opts: HaproxyOptions): string => join(opts.dir, 'haproxy.cfg');
const masterSocketOf = (opts: HaproxyOptions): string => join(opts.dir, 'master.sock');
const pidFileOf = (opts: HaproxyOptions): string => join(opts.dir, 'haproxy.pid');

/** Writes the TLS files and the config beside the live one, has haproxy check it (`-c`), then moves it into place. */
async function writeCheckedConfig(opts: HaproxyOptions, model: RoutingModel): Promise<void> {
  const next = `${configFileOf(opts)}.next`;
  await writeTlsFiles(opts.settings.certDir, tlsFilesOf(model, opts.settings));
  await writeFile(next, renderConfig(model, opts.settings), { mode: 0o600 });
  try {
    await execFileAsync(opts.binary, ['-c', '-q', '-f', next]);
  } catch (err) {
    const { stdout = '', stderr = '', message, code } = err as { stdout?: string; stderr?: string; message: string; code?: unknown };
    if (code === 'ENOENT') throw new HaproxyError(`cannot run ${opts.binary}: no such file`, '', false);
    throw new HaproxyError(`haproxy refused the config ${next}: ${message.split('\n')[0] ?? ''}`, `${stdout}${stderr}`.trim(), false);
  }
  await rename(next, configFileOf(opts));
}
