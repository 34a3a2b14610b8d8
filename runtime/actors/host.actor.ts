import { pathToFileURL } from 'node:url';
import type { Actor } from 'comedy';
import { registerLocalHost, releaseSignals, spawnerFor, type CallResult, type CastResult, type ExitInfo, type HostParams, type PingInfo } from './comedy.js';
import { setComedyLogSink } from './comedy-logger.js';
import { ActorCrashedError, ActorUnavailableError, serializeError, type SerializedError } from './errors.js';
import { Mailbox } from './mailbox.js';
import { logProcessErrors, watchParent } from './parent-watch.js';
import type { ActorContext, ActorDef, Behaviour, DynamicSupervisorRef, DynamicSupervisorSpec, Protocol, SelfSendOptions, SupervisorRef, Timer } from './protocol.js';
import { DynamicSupervisor, Supervisor, type SupervisorDeps } from './supervisor.js';
import type { SupervisorSpec } from './supervisor-spec.js';
import { systemClock, type Clock } from '../clock.js';
import { processLogger, type Logger } from '../logger.js';
import { openTransport } from '../messaging/open.js';
import { unavailableTransport, type Messaging, type Transport } from '../messaging/transport.js';
import { behaviourLabelOf, type ProcessMetrics } from '../metrics/process-metrics.js';

type Loose = Protocol<Record<string, { msg: unknown; reply: unknown }>>;
type LooseInfo = Record<string, unknown>;
type HostState = 'running' | 'stopping' | 'crashed' | 'exited' | 'stopped';

/** Behaviour modules by path, loaded once per process: a dynamic import per actor goes through the loader each time. */
const behaviours = new Map<string, Promise<ActorDef<Loose, unknown, unknown>>>();

function behaviourModule(module: string): Promise<ActorDef<Loose, unknown, unknown>> {
  let def = behaviours.get(module);
  if (def === undefined) {
    def = import(pathToFileURL(module).href).then((loaded: { default?: ActorDef<Loose, unknown, unknown> }) => {
      if (typeof loaded.default?.create !== 'function') throw new TypeError(`${module} does not default-export defineActor(...)`);
      return loaded.default;
    });
    behaviours.set(module, def);
    def.catch(() => behaviours.delete(module));
  }
  return def;
}

/**
 * The one comedy actor definition. comedy loads it by path in whichever process runs the actor; it loads the
 * behaviour module there, and gives it what comedy lacks: a serial mailbox, an error envelope that keeps name, code
 * and stack, crash and exit signals for the supervisor (`watch`), and a ping outside the mailbox for the watchdog.
 */
export default class Host {
  params!: HostParams;
  private childLog: Logger | undefined;
  private behaviour!: Behaviour<Loose, LooseInfo>;
  private state: HostState = 'running';
  private readonly mailbox = new Mailbox();
  private readonly supervisors: Array<{ stop(): Promise<void> }> = [];
  clock: Clock = systemClock;
  /** Pending `sendAfter` timers, cancelled when the actor stops. */
  private readonly timers = new Set<() => void>();
  private unregister: (() => void) | undefined;
  private untrackMailbox: (() => void) | undefined;
  /** Messages to itself sent while the behaviour's factory runs; undefined once it has returned. */
  private early: Array<() => void> | undefined = [];
  transport: Transport = unavailableTransport('not started');
  /** The transport this host opened for its process (a forked one), closed when it stops. */
  private ownTransport: Transport | undefined;
  private stopped?: Promise<void>;
  private settleExit!: (info: ExitInfo) => void;
  private readonly exit = new Promise<ExitInfo>((resolve) => (this.settleExit = resolve));

  /** A behaviour that fails to start is reported by `ping` (comedy would flatten a thrown error to its message). */
  private initError: SerializedError | undefined;

  async initialize(self: Actor): Promise<void> {
    this.params = self.getCustomParameters() as HostParams;
    if (this.params.forked) this.adoptProcess(self);
    if (this.params.clock) this.clock = this.params.clock;
    if (this.params.localKey !== undefined) this.unregister = registerLocalHost(this.params.localKey, this);
    this.untrackMailbox = this.params.metrics?.trackMailbox(behaviourLabelOf(this.params.module), this.mailbox);
    try {
      this.transport = await this.processTransport();
      const def = await behaviourModule(this.params.module);
      this.behaviour = (await def.create(this.context(self) as ActorContext<unknown, never, unknown>)) as Behaviour<Loose, LooseInfo>;
      const early = this.early ?? [];
      this.early = undefined;
      for (const deliver of early) deliver();
    } catch (err) {
      this.state = 'crashed';
      this.initError = serializeError(err);
    }
  }

  /** Made when first used: most actors of a big tree (workflows) log through a logger they share. */
  get log(): Logger {
    return (this.childLog ??= processLogger(this.params.logLevel).child({ actor: this.params.name }));
  }

  call(topic: string, msg: unknown, lane?: string): Promise<CallResult> | CallResult {
    if (this.state !== 'running') return this.refusal();
    return this.mailbox.run(() => this.handle(topic, msg), lane);
  }

  cast(topic: string, msg: unknown): CastResult {
    if (this.state !== 'running') return { accepted: false, state: this.state };
    void this.mailbox.run(async () => {
      const result = await this.handle(topic, msg);
      if (!result.ok && !result.crashed) this.log.error({ topic, err: result.error }, 'told message failed');
    });
    return { accepted: true };
  }

  watch(): Promise<ExitInfo> {
    return this.exit;
  }

  ping(): PingInfo {
    return { pid: process.pid, depth: this.mailbox.depth, ...(this.initError ? { initError: this.initError } : {}) };
  }

  async shutdown(deadlineMs: number): Promise<void> {
    if (this.state === 'running') this.state = 'stopping';
    const drained = await this.mailbox.drain(deadlineMs);
    if (!drained) this.log.warn({ deadlineMs, queued: this.mailbox.depth }, 'stopping with messages still queued');
    await this.stopBehaviour();
  }

  async destroy(): Promise<void> {
    await this.stopBehaviour();
  }

  /** A message to oneself: through the mailbox to the info handler; one that fails crashes the actor. */
  info(topic: string, msg: unknown, lane: string | undefined): void {
    if (this.state !== 'running') return;
    // Told by the factory itself (a first tick, a resume): delivered once the behaviour exists.
    if (this.early !== undefined) {
      this.early.push(() => this.info(topic, msg, lane));
      return;
    }
    void this.mailbox.run(async () => {
      if (this.state !== 'running') return;
      const handler = this.behaviour.info?.[topic];
      try {
        if (handler === undefined) throw new TypeError(`actor ${this.params.name} has no info handler for "${topic}"`);
        await handler(msg);
      } catch (err) {
        this.crash(err);
      }
    }, lane);
  }

  sendAfter(delayMs: number, topic: string, msg: unknown, options?: SelfSendOptions): Timer {
    let cancelTimer: () => void = () => undefined;
    const cancel = (): void => {
      cancelTimer();
      this.timers.delete(cancel);
    };
    if (this.state !== 'running') return { cancel };
    this.timers.add(cancel);
    cancelTimer = this.clock.schedule(delayMs, () => {
      this.timers.delete(cancel);
      this.info(topic, msg, options?.lane);
    });
    return { cancel };
  }

  private cancelTimers(): void {
    for (const cancel of [...this.timers]) cancel();
  }

  /** Runs one handler; stays synchronous for a synchronous handler (the hot path of in-memory asks). */
  private handle(topic: string, msg: unknown): Promise<CallResult> | CallResult {
    if (this.state === 'crashed') {
      const error = new ActorCrashedError(this.params.name, 'an earlier message crashed it');
      return { ok: false, error: serializeError(error), crashed: true };
    }
    const handler = this.behaviour.handlers[topic];
    if (handler === undefined) {
      const error = new TypeError(`actor ${this.params.name} has no handler for "${topic}"`);
      return { ok: false, error: serializeError(error), crashed: false };
    }
    try {
      const value = handler(msg);
      if (!(value instanceof Promise)) return { ok: true, value };
      return value.then(
        (settled: unknown): CallResult => ({ ok: true, value: settled }),
        (err: unknown) => this.failed(err),
      );
    } catch (err) {
      return this.failed(err);
    }
  }

  private failed(err: unknown): CallResult {
    if (this.params.crashOnError) this.crash(err);
    return { ok: false, error: serializeError(err), crashed: this.params.crashOnError };
  }

  private refusal(): CallResult {
    const error =
      this.state === 'crashed'
        ? new ActorCrashedError(this.params.name, 'it is waiting to be restarted')
        : new ActorUnavailableError(this.params.name, this.state);
    return { ok: false, error: serializeError(error), crashed: this.state === 'crashed' };
  }

  crash(err: unknown): void {
    if (this.state !== 'running' && this.state !== 'stopping') return;
    this.state = 'crashed';
    this.cancelTimers();
    this.log.error({ err }, 'actor crashed');
    this.settleExit({ reason: 'crash', error: serializeError(err) });
  }

  private context(self: Actor): ActorContext<unknown, LooseInfo, unknown> {
    return new BehaviourContext(this, self);
  }

  /** `ctx.exit()`: the behaviour is over; a transient actor is not restarted. */
  exitNormally(): void {
    if (this.state !== 'running') return;
    this.state = 'exited';
    this.cancelTimers();
    this.settleExit({ reason: 'normal' });
  }

  private supervisorDeps(self: Actor, name: string): SupervisorDeps {
    return {
      name: `${this.params.name}/${name}`,
      spawner: spawnerFor(self),
      log: this.log,
      logLevel: this.params.logLevel,
      clock: this.clock,
      ...(this.params.metrics ? { metrics: this.params.metrics } : {}),
      onFailure: (error) => this.crash(error),
      ...(this.params.messaging ? { messaging: { transport: this.transport, settings: this.params.messaging } } : {}),
    };
  }

  async supervise(self: Actor, spec: SupervisorSpec): Promise<Supervisor> {
    const supervisor = new Supervisor(spec, this.supervisorDeps(self, 'supervisor'));
    this.supervisors.push(supervisor);
    await supervisor.start();
    return supervisor;
  }

  async superviseDynamic<P extends Protocol<P>, A, C>(self: Actor, spec: DynamicSupervisorSpec<P, A, C>): Promise<DynamicSupervisorRef<P, A>> {
    const supervisor = new DynamicSupervisor(spec, this.supervisorDeps(self, 'children'));
    this.supervisors.push(supervisor);
    await supervisor.start();
    return supervisor;
  }

  private stopBehaviour(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'running' || this.state === 'stopping') this.state = 'stopped';
      this.cancelTimers();
      this.unregister?.();
      this.untrackMailbox?.();
      try {
        for (const supervisor of this.supervisors.reverse()) await supervisor.stop();
        if (this.initError === undefined) await this.behaviour.stop?.();
        await this.ownTransport?.close();
      } catch (err) {
        // The actor is going away either way; what its stop hook failed at is worth a line, not a crash.
        this.log.error({ err }, 'error while stopping actor');
      }
      this.settleExit({ reason: 'shutdown' });
    })();
    return this.stopped;
  }

  /**
   * In-memory actors share their process's transport; a forked one opens its own (one connection per process). The
   * in-memory transport cannot span processes, so a forked actor under it gets one that says so.
   */
  private async processTransport(): Promise<Transport> {
    if (this.params.transport) return this.params.transport;
    const messaging = this.params.messaging;
    if (messaging?.kind === 'amqp') {
      this.ownTransport = await openTransport('amqp', messaging.env, this.log);
      return this.ownTransport;
    }
    return unavailableTransport(
      messaging ? `${this.params.name} is forked: it cannot reach the in-memory transport of its parent (use "transport": "amqp")` : 'this actor tree was started without messaging',
    );
  }

  /** In a forked child, the parent owns shutdown: comedy's exit-on-signal handlers are removed and signals ignored. */
  private adoptProcess(self: Actor): void {
    releaseSignals(self.getSystem());
    setComedyLogSink(this.log);
    process.on('SIGINT', () => this.log.debug('SIGINT ignored: the parent process drives shutdown'));
    process.on('SIGTERM', () => this.log.debug('SIGTERM ignored: the parent process drives shutdown'));
    logProcessErrors(this.log);
    watchParent({ log: this.log, stop: () => this.destroy() });
  }
}

/**
 * What a behaviour sees of its host (ActorContext). One class, methods on its prototype: ten thousand workflow
 * actors share its shape and its functions instead of a dozen closures each.
 */
class BehaviourContext implements ActorContext<unknown, LooseInfo, unknown> {
  readonly self: ActorContext<unknown, LooseInfo, unknown>['self'];

  constructor(
    private readonly host: Host,
    private readonly actor: Actor,
  ) {
    this.self = new SelfOf(host);
  }

  get name(): string {
    return this.host.params.name;
  }

  get args(): unknown {
    return this.host.params.args;
  }

  get capabilities(): unknown {
    return this.host.params.capabilities;
  }

  get log(): Logger {
    return this.host.log;
  }

  get transport(): Messaging {
    return this.host.transport;
  }

  get metrics(): ProcessMetrics | undefined {
    return this.host.params.metrics;
  }

  now(): number {
    return this.host.clock.now();
  }

  sendAfter(delayMs: number, topic: string, msg: unknown, options?: SelfSendOptions): Timer {
    return this.host.sendAfter(delayMs, topic, msg, options);
  }

  supervise(spec: SupervisorSpec): Promise<SupervisorRef> {
    return this.host.supervise(this.actor, spec);
  }

  superviseDynamic<P extends Protocol<P>, A, C>(spec: DynamicSupervisorSpec<P, A, C>): Promise<DynamicSupervisorRef<P, A>> {
    return this.host.superviseDynamic(this.actor, spec);
  }

  exit(): void {
    this.host.exitNormally();
  }

  fail(error: Error): void {
    this.host.crash(error);
  }
}

class SelfOf {
  constructor(private readonly host: Host) {}

  get name(): string {
    return this.host.params.name;
  }

  tell(topic: string, msg: unknown, options?: SelfSendOptions): void {
    this.host.info(topic, msg, options?.lane);
  }
}
