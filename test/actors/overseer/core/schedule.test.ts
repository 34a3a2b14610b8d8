import { expect } from 'chai';
import { hourlyDelayMs, planHourlyTimers } from '../../../../actors/overseer/core/schedule.js';

describe('overseer core: the hourly strategy (reference §8.3)', () => {
  it('the delay is the random value spread over the window', () => {
    expect([0, 0.25, 0.999_999].map((r) => hourlyDelayMs(r, 3_600_000))).to.deep.equal([0, 900_000, 3_599_996]);
    expect(() => hourlyDelayMs(1, 3_600_000)).to.throw(RangeError, /\[0, 1\)/);
    expect(() => hourlyDelayMs(-0.1, 3_600_000)).to.throw(RangeError);
  });

  const c = (type: string, upgrade_strategy: string, status: string | null = null) => ({ type, upgrade_strategy, status });
  const cases: ReadonlyArray<[string, ReturnType<typeof c>[], string[], { schedule: string[]; cancel: string[] }]> = [
    ['an hourly component without a timer gets one', [c('builder', 'hourly')], [], { schedule: ['builder'], cancel: [] }],
    ['an hourly component with a timer keeps it', [c('builder', 'hourly')], ['builder'], { schedule: [], cancel: [] }],
    ['a manual component gets none', [c('builder', 'manual')], [], { schedule: [], cancel: [] }],
    ['a component turned manual loses its timer', [c('builder', 'manual')], ['builder'], { schedule: [], cancel: ['builder'] }],
    ['a component removed loses its timer', [], ['builder'], { schedule: [], cancel: ['builder'] }],
    ['an hourly component being upgraded gets none until it is done', [c('builder', 'hourly', 'upgrade_in_progress')], [], { schedule: [], cancel: [] }],
  ];
  for (const [title, components, scheduled, expected] of cases) it(title, () => expect(planHourlyTimers(components, new Set(scheduled))).to.deep.equal(expected));
});
