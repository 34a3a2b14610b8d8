import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../runtime/core/promises.js';
import { descendantsOf, isUnder, stillRuns } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { INVARIANTS, type Verdicts } from './invariants.js';
import { chaosSeed, DEFAULT_COUNTS, planTrials, trialCount } from './plan.js';
import { failures, trialTable } from './table.js';
import type { TrialResult } from './trial.js';
import { registryLog } from './world.js';

/** The chaos suite's own parts, without a platform: the plan, the registry log's reading, orphans, the table. */
describe('chaos suite parts', () => {
  describe('the plan', () => {
    it('is the same for the same seed, and another for another seed', () => {
      expect(planTrials(42)).to.deep.equal(planTrials(42));
      expect(planTrials(42)).to.not.deep.equal(planTrials(43));
    });

    it('has every fault as often as the counts say, at least 30 trials, and builds first', () => {
      for (const seed of [1, 2, 3, 12345]) {
        const plan = planTrials(seed);
        expect(plan.length).to.be.at.least(30);
        for (const [fault, n] of Object.entries(DEFAULT_COUNTS)) expect(plan.filter((p) => p.fault === fault), fault).to.have.length(n);
        expect(plan[0]!.milestones[0]).to.equal('build');
        for (const p of plan) {
          expect(p.milestones).to.include(p.milestone);
          expect(p.at).to.be.within(0, 1);
        }
      }
    });

    it('takes its seed from OA_CHAOS_SEED, or a fresh one, and its length from OA_CHAOS_TRIALS, refusing what they cannot mean', () => {
      expect(chaosSeed({ OA_CHAOS_SEED: '12345' }, () => 7)).to.equal(12345);
      expect(chaosSeed({}, () => 7)).to.equal(7);
      expect(() => chaosSeed({ OA_CHAOS_SEED: 'soon' }, () => 7)).to.throw(/OA_CHAOS_SEED: expected an integer/);
      expect(trialCount({})).to.equal(undefined);
      expect(trialCount({ OA_CHAOS_TRIALS: '4' })).to.equal(4);
      expect(() => trialCount({ OA_CHAOS_TRIALS: 'all' })).to.throw(/OA_CHAOS_TRIALS: expected a whole number/);
    });
  });

  it('counts the manifests a registry accepted for one repository after an offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oa-chaos-log-'));
    const path = join(dir, 'registry.log');
    const access = (uri: string, status: number) => `127.0.0.1 - - [03/Dec/2026:05:40:46 +0000] "PUT ${uri} HTTP/1.1" ${status} 0 "" "docker/20.10.24"\n`;
    try {
      writeFileSync(path, access('/v2/oa-chaos-x/hello/manifests/old', 201));
      const log = registryLog(path);
      const offset = log.offset()!;
      appendFileSync(path, access('/v2/oa-chaos-x/hello/blobs/uploads/1?digest=sha256%3Aab', 201));
      appendFileSync(path, access('/v2/oa-chaos-x/hello/manifests/abc-123', 201));
      appendFileSync(path, access('/v2/oa-chaos-x/hello/manifests/abc-123', 400));
      appendFileSync(path, access('/v2/other/hello/manifests/abc-123', 201));
      appendFileSync(path, 'time="2026-12-03T05:40:46Z" level=info msg="response completed" http.request.method=PUT http.request.uri="/v2/oa-chaos-x/hello/manifests/abc-123"\n');
      appendFileSync(path, access('/v2/oa-chaos-x/hello/manifests/abc-123', 201));
      expect(log.manifestPuts('oa-chaos-x/hello', offset)).to.deep.equal(['abc-123', 'abc-123']);
      expect(log.manifestPuts('oa-chaos-x/hello', 0)).to.deep.equal(['old', 'abc-123', 'abc-123']);
      expect(registryLog(join(dir, 'none')).offset()).to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells an orphan (a child that outlived its killed parent) from a process still under a live one', async () => {
    const parent = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    try {
      const [child] = await waitFor('the sleep under sh', () => {
        const found = descendantsOf(parent.pid!);
        return found.length > 0 ? found : undefined;
      });
      expect(child!.command).to.match(/^sleep 30/);
      expect(stillRuns(child!) && isUnder(child!.pid, process.pid)).to.equal(true);
      parent.kill('SIGKILL');
      await waitFor('sh to be reaped', () => parent.exitCode !== null || parent.signalCode !== null);
      await sleep(50);
      expect(stillRuns(child!), 'the sleep outlives sh').to.equal(true);
      expect(isUnder(child!.pid, process.pid), 'and is no longer under this process').to.equal(false);
      process.kill(child!.pid, 'SIGKILL');
      await waitFor('the sleep to be gone', () => !stillRuns(child!));
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('prints a row per trial with ✓ or ✗ per invariant, and names the trial and invariant of each ✗', () => {
    const verdicts = Object.fromEntries(INVARIANTS.map((i) => [i, { ok: i !== 'one commit', detail: i === 'one commit' ? '2 commits' : 'fine' }])) as Verdicts;
    const result: TrialResult = {
      plan: { n: 7, fault: 'kill build', milestones: ['build', 'deploy'], milestone: 'build', at: 0.5, downMs: 0 },
      workflowId: 'w-1',
      point: 'build +2.1s (in build)',
      injected: 'SIGKILL pid 1',
      outcome: 'completed',
      verdicts,
      ms: 12_300,
      phases: { point: 0, inject: 0, end: 0, rest: 0, check: 0 },
      waitedFor: [],
      durations: [],
    };
    const [header, rule, row] = trialTable([result]).split('\n');
    expect(header).to.match(/^\| # \| fault +\| workflow +\| point +\| outcome +\| ends once \| one commit \| one push \|/);
    expect(rule).to.match(/^\| - \| -+ \|/);
    expect(row).to.match(/^\| 7 \| kill build \| build,deploy \| build \+2\.1s \(in build\) \| completed \| ✓ +\| ✗ +\| ✓ +\|/);
    expect(failures([result])).to.deep.equal(['trial 7 (kill build at build +2.1s (in build), workflow w-1): one commit: 2 commits']);
  });
});
