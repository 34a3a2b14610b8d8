import type { ExitInfo, HostParams, HostRef, MessagingSettings, Spawner } from './comedy.js';
import {
  affectedChildren,
  backoffDelayMs,
  recentRestarts,
  recordRestart,
  shouldRestart,
  type ExitReason,
  type RestartType,
} from './core/restart-policy.js';
import { ActorCrashedError, RemoteActorError, RestartIntensityExceededError, serializeError, type SerializedError } from './errors.js';
import { HandleSlot } from './handle.js';
import { Mailbox } from './mailbox.js';
import type { ActorDef, ActorHandle, ChildInfo, DynamicSupervisorRef, DynamicSupervisorSpec, Protocol, SupervisorRef, TypedChildSpec } from './protocol.js';
import {
  DEFAULT_WATCHDOG,
  isSupervisorChild,
  type ActorChildSpec,
  type ActorMode,
  type ChildSpec,
  type SupervisorChildSpec,
  type SupervisorSpec,
} from './supervisor-spec.js';
import type { Clock } from '../clock.js';
import { withTimeout } from '../core/promises.js';
import type { Logger, LogLevel } from '../logger.js';
import type { Transport } from '../messaging/transport.js';
import { behaviourLabelOf, type ProcessMetrics } from '../metrics/process-metrics.js';

export interface SupervisorDeps {
  readonly name: string;
  readonly spawner: Spawner;
  readonly log: Logger;
  readonly logLevel: LogLevel;
  /** Called once when this supervisor gives up (restart intensity exceeded): its parent decides what follows. */
  readonly onFailure: (error: Error) => void;
  readonly askTimeoutMs?: number;
  /** The tree's clock, handed to in-memory children (a test's ManualClock); forked children use the real one. */
  readonly clock?: Clock;
  /** This process's transport and how forked children open theirs; absent in trees that do no messaging. */
  readonly messaging?: { readonly transport: Transport; readonly settings: MessagingSettings };
  /** The process's registry, handed to in-memory children; a forked process keeps none (README "Metrics"). */
  readonly metrics?: ProcessMetrics;
}

type Loose = Record<string, { msg: unknown; reply: unknown }>;

interface EntryBase {
  readonly name: string;
  readonly restart: RestartType;
  generation: number;
  status: 'running' | 'down';
  /** Restart times of this child inside the intensity window: the backoff grows with their number. */
  restarts: number[];
  /** Set once the child exited for good (it will not be restarted) and is being taken down. */
  leaving: boolean;
  /** Resolves once the child is removed from the supervisor. */
  readonly gone: Promise<void>;
  readonly markGone: () => void;
}
interface ActorEntry extends EntryBase {
  readonly kind: 'actor';
  readonly spec: ActorChildSpec;
  readonly handle: HandleSlot<Loose>;
  ref: HostRef | undefined;
  pid: number | undefined;
  watchdog: NodeJS.Timeout | undefined;
}
interface SupervisorEntry extends EntryBase {
  readonly kind: 'supervisor';
  readonly spec: SupervisorChildSpec;
  supervisor: Supervisor | undefined;
}
type Entry = ActorEntry | SupervisorEntry;

const DEFAULT_ASK_TIMEOUT_MS = 30_000;
/** How long a crashed or replaced incarnation gets to release what it holds before it is destroyed. */
const TAKE_DOWN_MS = 2_000;

/**
 * An OTP-style supervisor (comedy has none: comedy-notes §1.4). Starts its children in order, restarts them by
 * strategy and restart type with exponential backoff, gives up after more than `maxRestarts` restarts within
 * `withinMs` and reports that to its parent. Forked children are pinged by a watchdog; a hung one is killed.
 * Every change of the tree runs through one serial queue, so restarts never interleave.
 */
export class Supervisor implements SupervisorRef {
  /** By name, in start order (a Map keeps insertion order): lookups are O(1) however many children there are. */
  private readonly entries = new Map<string, Entry>();
  /** Starts of dynamic children in flight, outside the serial queue; `stop` waits for them. */
  private readonly starting = new Set<Promise<unknown>>();
  private readonly ops = new Mailbox();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;
  private history: number[] = [];
  private state: 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' = 'idle';

  constructor(
    private readonly spec: SupervisorSpec,
    private readonly deps: SupervisorDeps,
  ) {
    this.log = deps.log.child({ supervisor: deps.name });
  }

  get name(): string {
    return this.deps.name;
  }

  /** Starts every child in order; if one fails to start, stops those already started and rejects. */
  async start(): Promise<void> {
    await this.ops.run(async () => {
      this.state = 'running';
      for (const spec of this.spec.children) {
        const entry = this.entryFor(spec);
        this.entries.set(entry.name, entry);
        try {
          await this.startEntry(entry);
        } catch (err) {
          await this.takeDownAll();
          this.state = 'failed';
          throw new Error(`supervisor ${this.name}: child ${spec.name} failed to start: ${messageOf(err)}`, { cause: err });
        }
      }
    });
  }

  async startChild<P extends Protocol<P>, A>(spec: TypedChildSpec<P, A>): Promise<ActorHandle<P>> {
    return this.ops.run(async () => {
      if (this.state !== 'running') throw new Error(`supervisor ${this.name} is ${this.state}; cannot start ${spec.name}`);
      if (this.entries.has(spec.name)) throw new Error(`supervisor ${this.name} already has a child named ${spec.name}`);
      const entry = this.entryFor(spec) as ActorEntry;
      this.entries.set(entry.name, entry);
      try {
        await this.startEntry(entry);
      } catch (err) {
        this.remove(entry);
        throw err;
      }
      return entry.handle as unknown as ActorHandle<P>;
    });
  }

  /**
   * Starts a child outside the serial queue (a dynamic supervisor's: every child its own restart group), so a burst
   * of children starts side by side. The name is taken at once; a start that fails frees it again.
   */
  startDynamic<P extends Protocol<P>, A>(spec: TypedChildSpec<P, A>): { readonly handle: ActorHandle<P>; readonly started: Promise<void> } {
    if (this.state !== 'running') throw new Error(`supervisor ${this.name} is ${this.state}; cannot start ${spec.name}`);
    if (this.entries.has(spec.name)) throw new Error(`supervisor ${this.name} already has a child named ${spec.name}`);
    const entry = this.entryFor(spec) as ActorEntry;
    this.entries.set(entry.name, entry);
    const started = this.startEntry(entry).catch((err: unknown) => {
      this.remove(entry);
      throw err;
    });
    this.starting.add(started);
    void started.then(
      () => this.starting.delete(started),
      () => this.starting.delete(started),
    );
    return { handle: entry.handle as unknown as ActorHandle<P>, started };
  }

  /** A child's handle, unless it is absent or leaving for good; `gone` resolves once a leaving one is removed. */
  lookup(name: string): { readonly handle: ActorHandle<Loose>; readonly leaving: boolean; readonly gone: Promise<void> } | undefined {
    const entry = this.entries.get(name);
    if (entry?.kind !== 'actor') return undefined;
    return { handle: entry.handle, leaving: entry.leaving || entry.handle.status === 'stopped' || entry.handle.status === 'stopping', gone: entry.gone };
  }

  get size(): number {
    return this.entries.size;
  }

  async terminateChild(name: string): Promise<void> {
    await this.ops.run(async () => {
      const entry = this.find(name);
      if (!entry) return;
      entry.leaving = true;
      await this.takeDown(entry, { graceful: true, deadlineMs: TAKE_DOWN_MS, then: 'stopped' });
      this.remove(entry);
    });
  }

  handle<P extends Protocol<P>>(name: string, actor: ActorDef<P, never, never>): ActorHandle<P> {
    const entry = this.find(name);
    if (entry?.kind !== 'actor') throw new Error(`supervisor ${this.name} has no actor named ${name}`);
    if (entry.spec.actor.module !== actor.module) {
      throw new TypeError(`child ${name} runs ${entry.spec.actor.module}, not ${actor.module}`);
    }
    // The module check above is what makes this cast sound: the handle speaks that module's protocol.
    return entry.handle as unknown as ActorHandle<P>;
  }

  untypedHandle(name: string): ActorHandle<Loose> {
    const entry = this.find(name);
    if (entry?.kind !== 'actor') throw new Error(`supervisor ${this.name} has no actor named ${name}`);
    return entry.handle;
  }

  supervisor(name: string): SupervisorRef {
    const entry = this.find(name);
    if (entry?.kind !== 'supervisor' || !entry.supervisor) throw new Error(`supervisor ${this.name} has no running supervisor named ${name}`);
    return entry.supervisor;
  }

  children(): ChildInfo[] {
    return [...this.entries.values()].map((e) => ({
      name: e.name,
      kind: e.kind,
      status: e.status,
      restarts: e.restarts.length,
      ...(e.kind === 'actor' && e.pid !== undefined ? { pid: e.pid } : {}),
      ...(e.kind === 'supervisor' && e.supervisor ? { children: e.supervisor.children() } : {}),
    }));
  }

  /**
   * Stops the children in reverse start order. Each stops taking messages, drains its mailbox (sharing
   * `deadlineMs` with the others), then stops.
   */
  async stop(deadlineMs = 5_000): Promise<void> {
    const deadlineAt = Date.now() + deadlineMs;
    this.clearTimers();
    if (this.state === 'running') this.state = 'stopping';
    await Promise.allSettled([...this.starting]);
    await this.ops.run(async () => {
      for (const entry of [...this.entries.values()].reverse()) {
        const left = Math.max(deadlineAt - Date.now(), 100);
        await this.takeDown(entry, { graceful: true, deadlineMs: left, then: 'stopped' });
      }
      if (this.state !== 'failed') this.state = 'stopped';
    });
  }

  private entryFor(spec: ChildSpec): Entry {
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const base = { name: spec.name, restart: spec.restart ?? 'permanent', generation: 0, status: 'down' as const, restarts: [], leaving: false, gone, markGone };
    if (isSupervisorChild(spec)) return { ...base, kind: 'supervisor', spec, supervisor: undefined };
    const askTimeoutMs = spec.askTimeoutMs ?? this.deps.askTimeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    const handle = new HandleSlot<Loose>(spec.name, askTimeoutMs);
    return { ...base, kind: 'actor', spec, handle, ref: undefined, pid: undefined, watchdog: undefined };
  }

  private async startEntry(entry: Entry): Promise<void> {
    entry.generation += 1;
    const generation = entry.generation;
    const onExit = (exit: ExitInfo): void => this.onExit(entry, generation, exit);
    if (entry.kind === 'supervisor') {
      const name = `${this.name}/${entry.name}`;
      const child = new Supervisor(entry.spec.supervisor, {
        ...this.deps,
        name,
        onFailure: (error) => onExit({ reason: 'crash', error: serializeError(error) }),
      });
      await child.start();
      entry.supervisor = child;
      entry.status = 'running';
      return;
    }
    const mode = entry.spec.mode ?? 'in-memory';
    checkPlainData(entry.spec.args, `child ${entry.name}: args`);
    if (mode === 'forked' && entry.spec.capabilities !== undefined) {
      throw new TypeError(`child ${entry.name}: capabilities are in-process references and cannot reach a forked actor; pass plain data in args`);
    }
    const { ref, pid } = await this.deps.spawner.spawn(
      {
        module: entry.spec.actor.module,
        name: entry.name,
        args: entry.spec.args,
        crashOnError: entry.spec.crashOnError ?? true,
        logLevel: this.deps.logLevel,
        forked: mode === 'forked',
        ...this.messagingFor(mode),
        ...(mode === 'in-memory' && this.deps.clock ? { clock: this.deps.clock } : {}),
        ...(mode === 'in-memory' && this.deps.metrics ? { metrics: this.deps.metrics } : {}),
        ...(mode === 'in-memory' && entry.spec.capabilities !== undefined ? { capabilities: entry.spec.capabilities } : {}),
      },
      mode,
    );
    if (this.state !== 'running' || this.entries.get(entry.name) !== entry || entry.generation !== generation) {
      // Stopped or replaced while it was starting (a dynamic start runs outside the serial queue).
      await settle(ref.destroy(), this.log, entry.name);
      if (mode === 'forked') killProcess(pid);
      throw new Error(`supervisor ${this.name} is ${this.state}; child ${entry.name} was stopped while it started`);
    }
    entry.ref = ref;
    entry.pid = pid;
    entry.status = 'running';
    entry.handle.attach(ref);
    ref.watch().then(onExit, (err: unknown) => onExit({ reason: 'crash', error: serializeError(err) }));
    if (mode === 'forked') {
      const watchdog = this.spec.watchdog ?? DEFAULT_WATCHDOG;
      entry.watchdog = setInterval(() => void this.probe(entry, generation, watchdog.timeoutMs), watchdog.intervalMs);
      entry.watchdog.unref();
    }
  }

  private messagingFor(mode: ActorMode): Pick<HostParams, 'transport' | 'messaging'> {
    const messaging = this.deps.messaging;
    if (messaging === undefined) return {};
    return mode === 'in-memory' ? { transport: messaging.transport, messaging: messaging.settings } : { messaging: messaging.settings };
  }

  private onExit(entry: Entry, generation: number, exit: ExitInfo): void {
    if (exit.reason === 'shutdown') return;
    const reason: ExitReason = exit.reason === 'normal' ? 'normal' : 'crash';
    const error = exit.reason === 'crash' ? exit.error : undefined;
    if (entry.generation === generation && !shouldRestart(entry.restart, reason)) entry.leaving = true;
    void this.ops.run(async () => {
      if (this.state !== 'running' || entry.generation !== generation || entry.status !== 'running') return;
      await this.handleExit(entry, reason, error);
    });
  }

  private async handleExit(entry: Entry, reason: ExitReason, error: SerializedError | undefined): Promise<void> {
    if (reason === 'crash') this.log.warn({ child: entry.name, error }, 'child crashed');
    else this.log.info({ child: entry.name }, 'child exited');
    const restart = shouldRestart(entry.restart, reason);
    await this.takeDown(entry, { graceful: false, deadlineMs: TAKE_DOWN_MS, then: restart ? 'restarting' : 'stopped' });
    if (!restart) {
      this.remove(entry);
      return;
    }
    const now = Date.now();
    const recorded = recordRestart(this.history, now, this.spec.intensity);
    this.history = recorded.history;
    if (recorded.exceeded) {
      const { maxRestarts, withinMs } = this.spec.intensity;
      const cause = error ? new RemoteActorError(entry.name, error) : undefined;
      await this.escalate(new RestartIntensityExceededError(this.name, maxRestarts, withinMs, { cause }));
      return;
    }
    const group = affectedChildren(this.spec.strategy, [...this.entries.keys()], entry.name)
      .map((name) => this.find(name))
      .filter((e): e is Entry => e !== undefined);
    for (const sibling of group.filter((e) => e !== entry).reverse()) {
      await this.takeDown(sibling, { graceful: true, deadlineMs: TAKE_DOWN_MS, then: 'restarting' });
    }
    entry.restarts = [...recentRestarts(entry.restarts, now, this.spec.intensity.withinMs), now];
    const delayMs = backoffDelayMs(entry.restarts.length, this.spec.backoff);
    this.log.info({ child: entry.name, group: group.map((e) => e.name), delayMs }, 'restarting');
    this.deps.metrics?.actorRestarted(this.name, entry.kind === 'actor' ? behaviourLabelOf(entry.spec.actor.module) : entry.name);
    this.later(delayMs, () => this.restartGroup(group));
  }

  /** Starts again, in order, the children a failure took down; temporary ones are not restarted (OTP). */
  private async restartGroup(group: readonly Entry[]): Promise<void> {
    if (this.state !== 'running') return;
    for (const entry of group) {
      if (this.entries.get(entry.name) !== entry || entry.status === 'running') continue;
      if (entry.restart === 'temporary') {
        this.markStopped(entry);
        this.remove(entry);
        continue;
      }
      try {
        await this.startEntry(entry);
      } catch (err) {
        this.log.warn({ child: entry.name, err }, 'restart failed');
        await this.handleExit(entry, 'crash', serializeError(err));
        return;
      }
    }
  }

  private async probe(entry: ActorEntry, generation: number, timeoutMs: number): Promise<void> {
    const ref = entry.ref;
    if (!ref || entry.generation !== generation || entry.status !== 'running') return;
    try {
      await withTimeout(ref.ping(), timeoutMs, () => new Error('ping timed out'));
    } catch {
      if (entry.generation !== generation || entry.status !== 'running') return;
      killProcess(entry.pid);
      const error = new ActorCrashedError(entry.name, `no answer to the watchdog's ping within ${timeoutMs} ms; process ${entry.pid} killed`);
      this.onExit(entry, generation, { reason: 'crash', error: serializeError(error) });
    }
  }

  private async takeDown(entry: Entry, how: { graceful: boolean; deadlineMs: number; then: 'restarting' | 'stopped' }): Promise<void> {
    entry.status = 'down';
    if (entry.kind === 'supervisor') {
      const child = entry.supervisor;
      entry.supervisor = undefined;
      await child?.stop(how.deadlineMs);
      return;
    }
    clearInterval(entry.watchdog);
    entry.handle.detach(how.then === 'restarting' ? 'restarting' : 'stopping');
    const ref = entry.ref;
    entry.ref = undefined;
    if (ref) {
      const drainMs = how.graceful ? how.deadlineMs : Math.min(how.deadlineMs, 200);
      await settle(withTimeout(ref.shutdown(drainMs), drainMs + TAKE_DOWN_MS, () => new Error('shutdown timed out')), this.log, entry.name);
      await settle(withTimeout(ref.destroy(), TAKE_DOWN_MS, () => new Error('destroy timed out')), this.log, entry.name);
    }
    if ((entry.spec.mode ?? 'in-memory') === 'forked') killProcess(entry.pid);
    if (how.then === 'stopped') this.markStopped(entry);
  }

  private async takeDownAll(): Promise<void> {
    for (const entry of [...this.entries.values()].reverse()) {
      if (entry.status === 'running') await this.takeDown(entry, { graceful: false, deadlineMs: TAKE_DOWN_MS, then: 'stopped' });
    }
  }

  private async escalate(error: RestartIntensityExceededError): Promise<void> {
    this.log.error({ err: error }, 'restart intensity exceeded; giving up');
    this.state = 'failed';
    this.clearTimers();
    await this.takeDownAll();
    for (const entry of this.entries.values()) this.markStopped(entry);
    this.deps.onFailure(error);
  }

  private markStopped(entry: Entry): void {
    if (entry.kind === 'actor') entry.handle.detach('stopped');
  }

  private later(delayMs: number, op: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.ops.run(op);
    }, delayMs);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private find(name: string): Entry | undefined {
    return this.entries.get(name);
  }

  private remove(entry: Entry): void {
    if (this.entries.get(entry.name) === entry) this.entries.delete(entry.name);
    entry.markGone();
  }
}

/**
 * A dynamic supervisor (OTP simple_one_for_one): children of one spec, each under its own id, started side by side
 * and found in O(1). A crash restarts only that child; more crashes than the intensity allows fail the supervisor.
 */
export class DynamicSupervisor<P extends Protocol<P>, A, C> implements DynamicSupervisorRef<P, A> {
  private readonly tree: Supervisor;
  private readonly pending = new Map<string, Promise<ActorHandle<P>>>();

  constructor(
    private readonly spec: DynamicSupervisorSpec<P, A, C>,
    deps: SupervisorDeps,
  ) {
    const { intensity, backoff, watchdog } = spec;
    this.tree = new Supervisor({ strategy: 'one_for_one', intensity, backoff, ...(watchdog ? { watchdog } : {}), children: [] }, deps);
  }

  get name(): string {
    return this.tree.name;
  }

  get size(): number {
    return this.tree.size;
  }

  start(): Promise<void> {
    return this.tree.start();
  }

  stop(deadlineMs?: number): Promise<void> {
    return this.tree.stop(deadlineMs);
  }

  get(id: string): ActorHandle<P> | undefined {
    const found = this.tree.lookup(id);
    return found === undefined || found.leaving ? undefined : (found.handle as unknown as ActorHandle<P>);
  }

  ensure(id: string, args: A): Promise<ActorHandle<P>> {
    // A start in flight first: its child is registered before it runs, and must not be handed out half started.
    let pending = this.pending.get(id);
    if (pending !== undefined) return pending;
    const running = this.get(id);
    if (running !== undefined) return Promise.resolve(running);
    pending = this.startAfterGone(id, args).finally(() => this.pending.delete(id));
    this.pending.set(id, pending);
    return pending;
  }

  terminate(id: string): Promise<void> {
    return this.tree.terminateChild(id);
  }

  children(): ChildInfo[] {
    return this.tree.children();
  }

  private async startAfterGone(id: string, args: A): Promise<ActorHandle<P>> {
    const leaving = this.tree.lookup(id);
    if (leaving !== undefined) await leaving.gone;
    const { child } = this.spec;
    const { handle, started } = this.tree.startDynamic({
      name: id,
      actor: child.actor as unknown as ActorDef<P, A, undefined>,
      args,
      restart: child.restart ?? 'transient',
      ...(child.mode ? { mode: child.mode } : {}),
      ...(child.crashOnError === undefined ? {} : { crashOnError: child.crashOnError }),
      ...(child.askTimeoutMs === undefined ? {} : { askTimeoutMs: child.askTimeoutMs }),
      ...(child.capabilities === undefined ? {} : { capabilities: child.capabilities }),
    });
    await started;
    return handle;
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Arguments are plain data (design §11): they may cross a process boundary, and a function would not. A function,
 * class instance or symbol in them is a programming error, named with its path.
 */
function checkPlainData(value: unknown, path: string): void {
  if (value === null || value === undefined) return;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return;
    case 'object': {
      if (Array.isArray(value)) {
        value.forEach((item, i) => checkPlainData(item, `${path}[${i}]`));
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`${path} is a ${(value as object).constructor?.name ?? 'class instance'}, not plain data (pass functions and clients as capabilities)`);
      }
      for (const [key, item] of Object.entries(value)) checkPlainData(item, `${path}.${key}`);
      return;
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}, not plain data (pass functions and clients as capabilities)`);
  }
}

/** Awaits a best-effort step of taking an actor down; what failed is logged, the take-down goes on. */
async function settle(step: Promise<unknown>, log: Logger, child: string): Promise<void> {
  try {
    await step;
  } catch (err) {
    log.debug({ child, err }, 'take-down step failed');
  }
}

/** SIGKILL a forked child that is still alive. Never this process (in-memory actors share its pid). */
function killProcess(pid: number | undefined): void {
  if (pid === undefined || pid === process.pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: it is already gone, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
