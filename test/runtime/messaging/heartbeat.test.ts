import { expect } from 'chai';
import { sleep } from '../../../runtime/core/promises.js';
import { createLogger } from '../../../runtime/logger.js';
import { HeartbeatPayload, MODULE_STATUS_REPORTED } from '../../../runtime/messaging/core/heartbeat.js';
import { startHeartbeat, type Heartbeat, type HeartbeatOptions } from '../../../runtime/messaging/heartbeat.js';
import { PublishError, type Destination, type Transport } from '../../../runtime/messaging/transport.js';
import { waitFor } from '../../helpers/wait.js';

const INTERVAL_MS = 20;

interface Published {
  readonly to: Destination;
  readonly type: string;
  readonly payload: HeartbeatPayload;
}

/** A recording double of our own Transport's `publish`; `next` decides how each publish settles (default: at once). */
function recordingTransport() {
  const published: Published[] = [];
  const next: Array<() => Promise<void>> = [];
  const transport: Pick<Transport, 'publish'> = {
    publish(to, type, payload) {
      published.push({ to, type, payload: HeartbeatPayload.parse(payload) }); // what the Overseer will check
      return (next.shift() ?? (() => Promise.resolve()))();
    },
  };
  return { transport, published, next };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string };
}

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('startHeartbeat (reference §8.1)', () => {
  let lines: LogLine[] = [];
  let running: Heartbeat | undefined;
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) } });
  const start = (opts: Partial<HeartbeatOptions> & Pick<HeartbeatOptions, 'transport'>): Heartbeat => {
    running = startHeartbeat({ exchangeId: 3, intervalMs: INTERVAL_MS, hostname: 'builder-7f3a', type: 'builder', log, ...opts });
    return running;
  };

  beforeEach(() => {
    lines = [];
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).to.deep.equal([]);
  });

  it('beats at once, to system_modules in its own exchange, with the reference payload', () => {
    const { transport, published } = recordingTransport();
    start({ transport, intervalMs: 60_000 });
    expect(published).to.deep.equal([
      {
        to: { exchangeId: 3, queue: 'system_modules' },
        type: MODULE_STATUS_REPORTED,
        payload: { status: 'active', workload: [], hostname: 'builder-7f3a', type: 'builder', event_type: 'status' },
      },
    ]);
  });

  it('beats again every interval, reading status and workload at each beat', async () => {
    const { transport, published } = recordingTransport();
    let beat = 0;
    start({ transport, status: () => 'active', workload: () => [`job-${++beat}`] });
    await waitFor('four beats', () => published.length >= 4);
    expect(published.slice(0, 4).map((p) => p.payload.workload)).to.deep.equal([['job-1'], ['job-2'], ['job-3'], ['job-4']]);
  });

  it('skips ticks while a publish is pending, then carries on', async () => {
    const { transport, published, next } = recordingTransport();
    const hung = deferred();
    next.push(() => hung.promise);
    start({ transport });
    await sleep(INTERVAL_MS * 5);
    expect(published).to.have.length(1);
    expect(lines.filter((l) => l.msg.includes('skipping'))).to.have.length.of.at.least(3);
    hung.resolve();
    await waitFor('beats after the pending one settled', () => published.length >= 3);
  });

  it('logs a failed publish as a warning with the error, and the next beat succeeds', async () => {
    const { transport, published, next } = recordingTransport();
    const to = { exchangeId: 3, queue: 'system_modules' };
    next.push(() => Promise.reject(new PublishError(to, 'broker unreachable')));
    start({ transport });
    await waitFor('a beat after the failure', () => published.length >= 2);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).to.have.length(1);
    expect(warnings[0]?.err?.message).to.contain('broker unreachable');
  });

  it('treats a throwing status() like a failed beat', async () => {
    const { transport, published } = recordingTransport();
    let calls = 0;
    start({
      transport,
      status: () => {
        if (++calls === 1) throw new Error('status unavailable');
        return 'active';
      },
    });
    await waitFor('a beat after the failure', () => published.length >= 1);
    expect(lines.find((l) => l.level === 40)?.err?.message).to.equal('status unavailable');
  });

  it('stop waits for the beat in flight, then no beat starts and no timer is left', async () => {
    await sleep(1); // mocha arms its own timeout timer only once the test has yielded
    const before = timeouts();
    const { transport, published, next } = recordingTransport();
    const hung = deferred();
    next.push(() => hung.promise);
    const heartbeat = start({ transport });
    let stopped = false;
    const stopping = heartbeat.stop().then(() => {
      stopped = true;
    });
    await sleep(INTERVAL_MS * 3);
    expect(stopped).to.equal(false);
    hung.resolve();
    await stopping;
    expect(timeouts()).to.equal(before);
    await sleep(INTERVAL_MS * 3);
    expect(published).to.have.length(1);
    await heartbeat.stop(); // a second stop is harmless
  });

  const invalid: Array<[string, Partial<HeartbeatOptions>]> = [
    ['a zero interval', { intervalMs: 0 }],
    ['a fractional interval', { intervalMs: 1.5 }],
    ['an empty hostname', { hostname: '' }],
    ['an empty type', { type: '' }],
  ];
  for (const [title, opts] of invalid) {
    it(`refuses ${title} before publishing anything`, () => {
      const { transport, published } = recordingTransport();
      expect(() => start({ transport, ...opts })).to.throw(RangeError);
      expect(published).to.deep.equal([]);
    });
  }
});
