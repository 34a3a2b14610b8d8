/** Reads what HAProxy 2.6 answers on its Runtime API (worker) and master CLI. Text in, data out. */

/** One server's counters from `show stat`; counts since the worker started (a reload starts them again). */
export interface ServerStats {
  readonly backend: string;
  readonly server: string;
  /** `host:port`. */
  readonly address: string;
  /** UP, DOWN, DRAIN, MAINT, `no check`, or a transition such as `UP 1/2`. */
  readonly status: string;
  readonly weight: number;
  readonly currentSessions: number;
  readonly requests: number;
  readonly responses5xx: number;
  /**
   * Failed connection attempts to this server, whatever became of the request: failed (`econ`), tried again on it
   * (`wretr`) or moved to another server (`wredis`). With `option redispatch` a refused connection mostly shows as the
   * last two, and `econ` alone would miss it.
   */
  readonly connectionErrors: number;
  readonly responseErrors: number;
}

/** HAProxy's answer was not what the command gives on success. */
export class RuntimeAnswerError extends Error {
  override readonly name = 'RuntimeAnswerError';
  readonly retryable = false;
}

// The type column of `show stat`: 0 frontend, 1 backend, 2 server, 3 listener.
const SERVER_ROW = '2';
const COLUMNS = { backend: 'pxname', server: 'svname', address: 'addr', status: 'status' } as const;
const COUNTERS = {
  weight: 'weight',
  currentSessions: 'scur',
  requests: 'req_tot',
  responses5xx: 'hrsp_5xx',
  connectionErrors: 'econ',
  retries: 'wretr',
  redispatches: 'wredis',
  responseErrors: 'eresp',
} as const;

/** The server rows of `show stat` (CSV, header `# pxname,svname,...`); an empty counter reads as 0. */
export function parseServerStats(csv: string): ServerStats[] {
  const [header, ...rows] = csv.split('\n').filter((l) => l.trim() !== '');
  if (header === undefined || !header.startsWith('# ')) throw new RuntimeAnswerError(`show stat: no CSV header in ${JSON.stringify(csv.slice(0, 200))}`);
  const names = header.slice(2).split(',');
  const column = (name: string): number => {
    const at = names.indexOf(name);
    if (at < 0) throw new RuntimeAnswerError(`show stat: no column ${name}`);
    return at;
  };
  const type = column('type');
  const text = Object.fromEntries(Object.entries(COLUMNS).map(([k, c]) => [k, column(c)])) as Record<keyof typeof COLUMNS, number>;
  const counters = Object.fromEntries(Object.entries(COUNTERS).map(([k, c]) => [k, column(c)])) as Record<keyof typeof COUNTERS, number>;
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[type] === SERVER_ROW)
    .map((cells) => {
      const cell = (at: number): string => cells[at] ?? '';
      const count = (at: number): number => (cell(at) === '' ? 0 : Number(cell(at)));
      return {
        backend: cell(text.backend),
        server: cell(text.server),
        address: cell(text.address),
        status: cell(text.status),
        weight: count(counters.weight),
        currentSessions: count(counters.currentSessions),
        requests: count(counters.requests),
        responses5xx: count(counters.responses5xx),
        connectionErrors: count(counters.connectionErrors) + count(counters.retries) + count(counters.redispatches),
        responseErrors: count(counters.responseErrors),
      };
    });
}

/** The worker that answers, from `show info`. */
export function parseInfoPid(info: string): number {
  const pid = /^Pid: (\d+)$/m.exec(info)?.[1];
  if (pid === undefined) throw new RuntimeAnswerError(`show info: no Pid line in ${JSON.stringify(info.slice(0, 200))}`);
  return Number(pid);
}

/** The master's view from its `show proc`: how often it reloaded, how many reloads failed, its workers by pid. */
export interface ProcessList {
  readonly masterPid: number;
  readonly reloads: number;
  readonly failedReloads: number;
  /** The current workers, serving the latest config. */
  readonly workers: readonly number[];
  /** Workers of an earlier config, finishing their connections. */
  readonly oldWorkers: readonly number[];
}

export function parseProcessList(text: string): ProcessList {
  const master = /^(\d+)\s+master\s+(\d+) \[failed: (\d+)\]/m.exec(text);
  if (master === null) throw new RuntimeAnswerError(`show proc: no master line in ${JSON.stringify(text.slice(0, 300))}`);
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  let section: number[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) section = line === '# workers' ? workers : line === '# old workers' ? oldWorkers : undefined;
    const worker = /^(\d+)\s+worker\s/.exec(line);
    if (worker !== null && section !== undefined) section.push(Number(worker[1]));
  }
  return { masterPid: Number(master[1]), reloads: Number(master[2]), failedReloads: Number(master[3]), workers, oldWorkers };
}

// Most commands answer nothing on success and a sentence on failure; these two confirm.
const CONFIRMATIONS: ReadonlyArray<[string, string]> = [
  ['add server ', 'New server registered.'],
  ['del server ', 'Server deleted.'],
];

/** Why `answer` means `command` failed, or undefined when it succeeded. */
export function failureOf(command: string, answer: string): string | undefined {
  const said = answer.trim();
  const confirmation = CONFIRMATIONS.find(([prefix]) => command.startsWith(prefix))?.[1];
  if (confirmation !== undefined) return said === confirmation ? undefined : said || 'no answer';
  return said === '' ? undefined : said;
}
