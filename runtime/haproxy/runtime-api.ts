/**
 * HAProxy's Runtime API (the worker's stats socket) and master CLI, over a unix socket.
 *
 * One command per connection: HAProxy answers and closes, so the end of an answer is the end of the stream, with no
 * prompt to parse and no state shared between commands; a connection to a local socket costs well under a millisecond.
 */
import { connect } from 'node:net';
import { failureOf, parseInfoPid, parseProcessList, parseServerStats, type ProcessList, type ServerStats } from './core/answers.js';

/** A command HAProxy refused, or a socket that did not answer. */
export class RuntimeApiError extends Error {
  override readonly name = 'RuntimeApiError';
  constructor(
    message: string,
    readonly command: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Sends one command and resolves with the whole answer. */
export function sendCommand(socketPath: string, command: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  // A newline or a `;` would make HAProxy run a second command.
  if (/[\n\r;]/.test(command)) return Promise.reject(new RuntimeApiError(`command holds a newline or ';': ${JSON.stringify(command)}`, command, false));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(socketPath, () => socket.end(`${command}\n`));
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new RuntimeApiError(`${socketPath} did not answer "${command}" within ${timeoutMs} ms`, command, true)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) =>
      reject(err instanceof RuntimeApiError ? err : new RuntimeApiError(`${socketPath}: ${err.message} (sending "${command}")`, command, true, { cause: err })),
    );
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The worker's Runtime API: the stats socket of the config, at level admin. */
export class RuntimeApi {
  constructor(readonly socketPath: string) {}

  /** Runs a command that changes state; throws RuntimeApiError with HAProxy's own words when it refuses. */
  async execute(command: string): Promise<void> {
    const answer = await sendCommand(this.socketPath, command);
    const failure = failureOf(command, answer);
    if (failure !== undefined) throw new RuntimeApiError(`haproxy refused "${command}": ${failure}`, command, false);
  }

  /** Every server's counters (`show stat` restricted to servers). */
  async serverStats(): Promise<ServerStats[]> {
    return parseServerStats(await sendCommand(this.socketPath, 'show stat -1 4 -1'));
  }

  /** The pid of the worker answering on this socket. */
  async workerPid(): Promise<number> {
    return parseInfoPid(await sendCommand(this.socketPath, 'show info'));
  }
}

/** The master CLI (`-S <socket>`): the process list, which says whether a reload took. */
export const fetchProcessList = async (masterSocket: string): Promise<ProcessList> => parseProcessList(await sendCommand(masterSocket, 'show proc'));
