import { pathToFileURL } from 'node:url';
import type { Actor } from 'comedy';
import { releaseSignals, spawnerFor, type CallResult, type CastResult, type ExitInfo, type HostParams, type PingInfo } from './comedy.js';
import { setComedyLogSink } from './comedy-logger.js';
import { ActorCrashedError, ActorUnavailableError, serializeError, type SerializedError } from './errors.js';
import { Mailbox } from './mailbox.js';
import type { ActorContext, ActorDef, Behaviour, Protocol } from './protocol.js';
import { Supervisor } from './supervisor.js';
import type { SupervisorSpec } from './supervisor-spec.js';
import { processLogger, type Logger } from '../logger.js';
import { openTransport } from '../messaging/open.js';
import { unavailableTransport, type Transport } from '../messaging/transport.js';

type Loose = Protocol<Record<string, { msg: unknown; reply: unknown }>>;
type HostState = 'running' | 'stopping' | 'crashed' | 'exited' | 'stopped';

/**
 * The one comedy actor definition. comedy loads it by path in whichever process runs the actor; it loads the
 * behaviour module there, and gives it what comedy lacks: a serial mailbox, an error envelope that keeps name, code
 * and stack, crash and exit signals for the supervisor (`watch`), and a ping outside the mailbox for the watchdog.
 */
export default class Host {
  private params!: HostParams;
  private log!: Logger;
  private behaviour!: Behaviour<Loose>;
  private state: HostState = 'running';
  private readonly mailbox = new Mailbox();
  private readonly supervisors: Supervisor[] = [];
  private transport: Transport = unavailableTransport('not started');
  /** The transport this host opened for its process (a forked one), closed when it stops. */
  private ownTransport: Transport | undefined;
  private stopped?: Promise<void>;
  private settleExit!: (info: ExitInfo) => void;
  private readonly exit = new Promise<ExitInfo>((resolve) => (this.settleExit = resolve));

  /** A behaviour that fails to start is reported by `ping` (comedy would flatten a thrown error to its message). */
  private initError: SerializedError | undefined;

  async initialize(self: Actor): Promise<void> {
    this.params = self.getCustomParameters() as HostParams;
    this.log = processLogger(this.params.logLevel).child({ actor: this.params.name });
    if (this.params.forked) this.adoptProcess(self);
    try {
      this.transport = await this.processTransport();
      const loaded = (await import(pathToFileURL(this.params.module).href)) as { default?: ActorDef<Loose, unknown> };
      if (typeof loaded.default?.create !== 'function') {
        throw new TypeError(`${this.params.module} does not default-export defineActor(...)`);
      }
      this.behaviour = await loaded.default.create(this.context(self));
    } catch (err) {
      this.state = 'crashed';
      this.initError = serializeError(err);
    }
  }

  call(topic: string, msg: unknown): Promise<CallResult> | CallResult {
    if (this.state !== 'running') return this.refusal();
    return this.mailbox.run(() => this.handle(topic, msg));
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

  private crash(err: unknown): void {
    if (this.state !== 'running' && this.state !== 'stopping') return;
    this.state = 'crashed';
    this.log.error({ err }, 'actor crashed');
    this.settleExit({ reason: 'crash', error: serializeError(err) });
  }

  private context(self: Actor): ActorContext<unknown> {
    return {
      name: this.params.name,
      args: this.params.args,
      log: this.log,
      transport: this.transport,
      supervise: (spec) => this.supervise(self, spec),
      exit: () => {
        if (this.state !== 'running') return;
        this.state = 'exited';
        this.settleExit({ reason: 'normal' });
      },
      fail: (error) => this.crash(error),
    };
  }

  private async supervise(self: Actor, spec: SupervisorSpec): Promise<Supervisor> {
    const supervisor = new Supervisor(spec, {
      name: `${this.params.name}/supervisor`,
      spawner: spawnerFor(self),
      log: this.log,
      logLevel: this.params.logLevel,
      onFailure: (error) => this.crash(error),
      ...(this.params.messaging ? { messaging: { transport: this.transport, settings: this.params.messaging } } : {}),
    });
    this.supervisors.push(supervisor);
    await supervisor.start();
    return supervisor;
  }

  private stopBehaviour(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'running' || this.state === 'stopping') this.state = 'stopped';
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
  }
}
