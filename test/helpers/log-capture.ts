import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../runtime/logger.js';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A logger whose lines a test can read; set OA_TEST_LOG_LEVEL=debug to also see them on stderr. */
export function captureLogs(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const echo = process.env.OA_TEST_LOG_LEVEL !== undefined;
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        lines.push(JSON.parse(line) as LogLine);
        if (echo) process.stderr.write(`${line}\n`);
      }
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}
