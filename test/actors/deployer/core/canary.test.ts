import { expect } from 'chai';
import { canaryWeights, judge, MAX_WEIGHT, MIN_REQUESTS_TO_ABORT_EARLY, observe, watchFrom, type CanarySample } from '../../../../actors/deployer/core/canary.js';
import { UnitRoute } from '../../../../actors/orchestrator/messages.js';

const share = (w: { canary: number; others: readonly number[] }) => w.canary / (w.canary + w.others.reduce((a, b) => a + b, 0));
const sample = (worker: number, requests: number, errors: number, authority: number, status = 'UP'): CanarySample => ({ worker, canary: { status, requests, errors }, requests: authority });
const spec = { weight: 10, duration_seconds: 20, max_error_rate: 0.05 };

describe('deployer core: canary weights', () => {
  for (const [others, percent] of [[[100, 100, 100, 100, 100, 100], 10], [[100], 10], [[100, 100, 100], 1], [[100, 100, 100, 100, 100, 100], 50], [[100], 99], [[30, 100, 250], 25]] as const) {
    it(`${percent}% beside ${others.length} backend(s) weighing ${others.join(', ')}: within half a point, every weight 1-${MAX_WEIGHT}`, () => {
      const w = canaryWeights(others, percent);
      expect(Math.abs(share(w) * 100 - percent)).to.be.below(0.5);
      for (const weight of [w.canary, ...w.others]) expect(weight).to.be.within(1, MAX_WEIGHT);
    });
  }

  it('leaves the others alone while the canary weight fits, and scales them down (never to 0) when it does not', () => {
    expect(canaryWeights([100, 100, 100, 100, 100, 100], 10)).to.deep.equal({ canary: 67, others: [100, 100, 100, 100, 100, 100] });
    expect(canaryWeights([100, 100, 100, 100, 100, 100], 50)).to.deep.equal({ canary: 256, others: [43, 43, 43, 43, 43, 43] });
    expect(canaryWeights([1, 100], 99).others[0]).to.equal(1);
  });
});

describe('deployer core: judging a canary by the router counters', () => {
  it('counts from the sample before it joined, and across a reload (a new worker counts from 0)', () => {
    let watch = watchFrom({ worker: 7, canary: undefined, requests: 500 });
    watch = observe(watch, sample(7, 10, 1, 600));
    watch = observe(watch, sample(7, 25, 2, 750));
    watch = observe(watch, sample(8, 5, 1, 40));
    expect(watch.tally).to.deep.equal({ requests: 30, errors: 3, authorityRequests: 290 });
  });

  it('watches through the window, then promotes with the figures', () => {
    const watch = observe(watchFrom(sample(1, 0, 0, 0)), sample(1, 200, 2, 2_000));
    expect(judge(spec, watch, 19_999)).to.deep.equal({ kind: 'watch' });
    expect(judge(spec, watch, 20_000)).to.deep.equal({ kind: 'promote', figures: "error rate 1.0% (2 of 200 requests), 10.0% of the route's 2000 requests, in 20.0 s" });
  });

  it('aborts early on an error rate above the maximum, once enough requests were seen', () => {
    const few = observe(watchFrom(sample(1, 0, 0, 0)), sample(1, MIN_REQUESTS_TO_ABORT_EARLY - 1, MIN_REQUESTS_TO_ABORT_EARLY - 1, 190));
    expect(judge(spec, few, 3_000).kind).to.equal('watch');
    expect(judge(spec, few, 20_000)).to.deep.include({ kind: 'abort', why: 'above the maximum 5.0%' });
    const many = observe(few, sample(1, 40, 40, 400));
    expect(judge(spec, many, 4_000)).to.deep.equal({ kind: 'abort', why: 'above the maximum 5.0%', figures: "error rate 100.0% (40 of 40 requests), 10.0% of the route's 400 requests, in 4.0 s" });
  });

  it('aborts at once when the router finds the canary down or no longer serves it', () => {
    const start = watchFrom(sample(1, 0, 0, 0));
    expect(judge(spec, observe(start, sample(1, 3, 0, 30, 'DOWN')), 1_000)).to.deep.include({ kind: 'abort', why: "the router's health check finds it DOWN" });
    expect(judge(spec, observe(start, { worker: 1, canary: undefined, requests: 30 }), 1_000)).to.deep.include({ kind: 'abort', why: 'the router no longer serves it' });
    expect(judge(spec, observe(start, sample(1, 3, 0, 30, 'UP 1/3')), 1_000).kind).to.equal('watch');
  });

  it('promotes a window that saw no request, saying it saw none', () => {
    expect(judge(spec, watchFrom(sample(1, 0, 0, 0)), 20_000)).to.deep.equal({ kind: 'promote', figures: "error rate 0.0% (0 of 0 requests), 0.0% of the route's 0 requests, in 20.0 s" });
  });

  it('units.json refuses a canary share, window or rate out of range, naming the field', () => {
    const refused = (canary: unknown) => UnitRoute.safeParse({ hostname: 'a.test', port: 80, canary }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(refused({ weight: 100, duration_seconds: 10, max_error_rate: 0.1 })).to.deep.equal(['canary.weight: Too big: expected number to be <=99']);
    expect(refused({ weight: 10, duration_seconds: 0, max_error_rate: 0.1 })).to.deep.equal(['canary.duration_seconds: Too small: expected number to be >=1']);
    expect(refused({ weight: 10, duration_seconds: 10, max_error_rate: 5 })).to.deep.equal(['canary.max_error_rate: Too big: expected number to be <=1']);
  });
});
