import { Writable } from 'node:stream';
import { startActorSystem, type ActorSystem } from '../../runtime/actors/system.js';
import type { SupervisorRef } from '../../runtime/actors/protocol.js';
import { DEFAULT_BACKOFF, type ChildSpec, type SupervisorSpec } from '../../runtime/actors/supervisor-spec.js';
import { createLogger, type LogLevel } from '../../runtime/logger.js';

export interface LogLine {
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A running actor tree for a test, with what its root reported and every log line of this process. */
export interface TestTree {
  readonly system: ActorSystem;
  readonly root: SupervisorRef;
  readonly failures: Error[];
  readonly logs: LogLine[];
  stop(): Promise<void>;
}

/** Set OA_TEST_LOG_LEVEL=debug to see the tree's logs on stderr while a test runs. */
const echoLevel = process.env.OA_TEST_LOG_LEVEL as LogLevel | undefined;

export async function startTree(spec: Partial<SupervisorSpec> & { children: readonly ChildSpec[] }): Promise<TestTree> {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        logs.push(JSON.parse(line) as LogLine);
        if (echoLevel) process.stderr.write(`${line}\n`);
      }
      done();
    },
  });
  const failures: Error[] = [];
  const system = await startActorSystem({
    spec: {
      strategy: 'one_for_one',
      intensity: { maxRestarts: 10, withinMs: 10_000 },
      backoff: { ...DEFAULT_BACKOFF, initialMs: 20 },
      watchdog: { intervalMs: 200, timeoutMs: 500 },
      ...spec,
    },
    log: createLogger({ level: 'debug', destination }),
    logLevel: echoLevel ?? 'silent',
    askTimeoutMs: 10_000,
    onFailure: (err) => failures.push(err),
  });
  return { system, root: system.root, failures, logs, stop: () => system.shutdown(2_000) };
}
