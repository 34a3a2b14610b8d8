import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/drain-process.ts', import.meta.url));

interface Run {
  readonly lines: Array<Record<string, unknown>>;
  readonly code: number | null;
}

/** Starts the fixture, sends SIGTERM once it has asks in flight, and collects what it printed. */
function runAndSignal(mode: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Array<Record<string, unknown>> = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        if (line.ready === true) child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ lines, code }));
  });
}

for (const mode of ['in-memory', 'forked']) {
  describe(`shutdown on SIGTERM (${mode})`, function () {
    this.timeout(30_000);

    it('stops intake, drains in-flight asks, runs stop hooks, and exits 0', async () => {
      const { lines, code } = await runAndSignal(mode);
      expect(code).to.equal(0);
      expect(lines.filter((l) => 'done' in l).map((l) => l.done)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(lines.filter((l) => 'failed' in l)).to.deep.equal([]);
      expect(lines.find((l) => 'late' in l)?.late).to.equal('ActorUnavailable');
      const msgs = lines.map((l) => l.msg).filter((m) => m !== undefined);
      expect(msgs).to.include.members(['shutting down', 'stopped']);
      expect(lines.some((l) => l.note === 'stop hook ran')).to.equal(true);
    });
  });
}

describe('signals held while a process starts', function () {
  this.timeout(30_000);
  const fixture = fileURLToPath(new URL('./fixtures/held-signals.ts', import.meta.url));
  const run = (mode: string) =>
    new Promise<{ out: string; code: number | null }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ out, code }));
    });

  for (const mode of ['pending', 'dispatched']) {
    it(`reach the lasting handler when handed over (${mode} when the handover came)`, async () => {
      expect(await run(mode)).to.deep.equal({ out: 'handled\n', code: 0 });
    });
  }
});
