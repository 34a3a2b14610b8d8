/**
 * A process's messaging metadata while it runs (issue 19 item 1): loaded once at start, kept on disk, loaded again on
 * a period, when told (`messaging_changed`) or when its file changes, and handed to whoever follows it (the
 * transport). A refresh that fails, or brings metadata this process cannot run on, keeps the current metadata.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { metadataProblemsFor, sameMetadata, type OwnPlace } from './core/metadata-change.js';
import type { MessagingMetadata } from './core/routing.js';
import { loadMetadataFile, type MessagingMetadataProvider } from './metadata.js';
import { ConfigError } from '../config.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../logger.js';

/** How often a followed metadata file is looked at (a stat, no read unless it changed). */
export const FILE_WATCH_INTERVAL_MS = 1_000;

export interface MetadataSourceOptions {
  readonly provider: MessagingMetadataProvider;
  /** Where the metadata comes from, for messages: `the Manager at http://manager:4000`. */
  readonly describe: string;
  /** The variable that points there, named when it cannot be reached at start: `MANAGER_URL`. */
  readonly variable: string;
  readonly own: OwnPlace;
  readonly log: Logger;
  /**
   * A copy on disk, written after every load: at start, when the provider cannot be reached (its error is
   * `retryable`), the process runs on this copy. `variable` names the setting in messages.
   */
  readonly cache?: { readonly file: string; readonly variable: string };
  /** Load again this often; never when absent. */
  readonly refreshMs?: number;
  /** Load again whenever this file changes (an operator's OA_MESSAGING_METADATA, a parent process's cache). */
  readonly watch?: { readonly file: string; readonly intervalMs?: number };
}

const isRetryable = (err: unknown): boolean => (err as { retryable?: unknown } | null)?.retryable === true;

/** The cached copy, or undefined when there is none yet; a copy that is there but unreadable or invalid throws. */
async function readCache(file: string): Promise<MessagingMetadata | undefined> {
  try {
    return await loadMetadataFile(file);
  } catch (err) {
    if (((err as { cause?: NodeJS.ErrnoException }).cause)?.code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Writes `metadata` to `file` in the OA_MESSAGING_METADATA format, readable by its owner only (it holds broker
 * passwords), and atomically: a reader (a forked child following it) never sees half a file.
 */
export async function writeMetadataFile(file: string, metadata: MessagingMetadata): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(metadata, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, file);
}

export class MetadataSource {
  private metadata: MessagingMetadata;
  private readonly listeners: Array<(next: MessagingMetadata) => void> = [];
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private watcher: ((curr: Stats, prev: Stats) => void) | undefined;

  private constructor(
    private readonly opts: MetadataSourceOptions,
    initial: MessagingMetadata,
  ) {
    this.metadata = initial;
    if (opts.refreshMs !== undefined) {
      this.timer = setInterval(() => void this.refresh('period'), opts.refreshMs);
      this.timer.unref();
    }
    if (opts.watch !== undefined) {
      this.watcher = (curr, prev) => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino) void this.refresh('file changed');
      };
      watchFile(opts.watch.file, { interval: opts.watch.intervalMs ?? FILE_WATCH_INTERVAL_MS, persistent: false }, this.watcher);
    }
  }

  /**
   * Loads the metadata this process starts on: from the provider (and then writes the cache), else, when the
   * provider cannot be reached, from the cache. Throws a ConfigError naming the variable when neither gives
   * metadata this process (BROKER_ID, EXCHANGE_ID) can run on.
   */
  static async open(opts: MetadataSourceOptions): Promise<MetadataSource> {
    let metadata: MessagingMetadata;
    let fromCache = false;
    try {
      metadata = await opts.provider.load();
    } catch (err) {
      if (err instanceof ConfigError) throw err; // the origin's own configuration is wrong: it says how
      const cached = opts.cache && isRetryable(err) ? await readCache(opts.cache.file) : undefined;
      if (cached === undefined) {
        const noCopy = opts.cache && isRetryable(err) ? `, and ${opts.cache.variable} holds no cached copy (${opts.cache.file})` : '';
        throw new ConfigError([`${opts.variable}: cannot read the messaging metadata from ${opts.describe}: ${messageOf(err)}${noCopy}`]);
      }
      opts.log.warn({ err, cache: opts.cache?.file }, `${opts.describe} cannot be reached: starting on the cached messaging metadata`);
      metadata = cached;
      fromCache = true;
    }
    const source = fromCache ? `the cached copy ${opts.cache?.file ?? ''} of ${opts.describe}` : opts.describe;
    const problems = metadataProblemsFor(metadata, opts.own, source);
    if (problems.length > 0) throw new ConfigError(problems);
    if (opts.cache && !fromCache) {
      await writeMetadataFile(opts.cache.file, metadata).catch((err: unknown) => {
        throw new ConfigError([`${opts.cache?.variable}: cannot write the messaging metadata cache ${opts.cache?.file}: ${messageOf(err)}`]);
      });
    }
    return new MetadataSource(opts, metadata);
  }

  get describe(): string {
    return this.opts.describe;
  }

  current(): MessagingMetadata {
    return this.metadata;
  }

  /** `listener` gets every new metadata this process can run on, after the cache has it. */
  onChange(listener: (next: MessagingMetadata) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Loads again; concurrent calls share the load in progress, and a call made while one runs gets one more load
   * after it (a change committed during a load is not missed). Never rejects: a failure is logged and the
   * current metadata kept.
   */
  refresh(reason: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      do {
        this.again = false;
        await this.loadOnce(reason);
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.watcher && this.opts.watch) unwatchFile(this.opts.watch.file, this.watcher);
    await this.running;
  }

  private async loadOnce(reason: string): Promise<void> {
    const { log, describe } = this.opts;
    let next: MessagingMetadata;
    try {
      next = await this.opts.provider.load();
    } catch (err) {
      log.warn({ err, reason }, `cannot read the messaging metadata from ${describe}; keeping the current metadata`);
      return;
    }
    if (this.closed || sameMetadata(next, this.metadata)) return;
    const problems = metadataProblemsFor(next, this.opts.own, describe);
    if (problems.length > 0) {
      log.error({ problems, reason }, `messaging metadata from ${describe} refused; keeping the current metadata`);
      return;
    }
    this.metadata = next;
    if (this.opts.cache) {
      await writeMetadataFile(this.opts.cache.file, next).catch((err: unknown) => log.warn({ err, cache: this.opts.cache?.file }, 'cannot write the messaging metadata cache'));
    }
    log.info({ reason }, `new messaging metadata from ${describe}`);
    for (const listener of this.listeners) listener(next);
  }
}
