import { expect } from 'chai';
import { allocatePort, planAllocation, planReconcile, type PortRow, type ReconcileAsk } from '../../../http/core/ports.js';

const RANGE = { start: 20_000, end: 29_999 };

const allocations: Array<[string, Array<number | null>, number | undefined]> = [
  ['none used', [], 20_000],
  ['the first taken', [20_000], 20_001],
  ['a gap is filled first', [20_000, 20_001, 20_003], 20_002],
  ['unsorted input', [20_002, 20_000, 20_001], 20_003],
  ['duplicates', [20_000, 20_000, 20_001], 20_002],
  ['rows without a port', [null, 20_000, null], 20_001],
  ['ports outside the range are ignored', [80, 8080, 19_999, 45_000], 20_000],
  ['a gap before the used ports', [20_005, 20_006], 20_000],
];

let nextId = 1;
const row = (port: number, holder: string | null, more: Partial<PortRow> = {}): PortRow => ({
  id: nextId++,
  port,
  holder,
  host: 'h1',
  container_port: 8080,
  workflow_id: 'w-old',
  ...more,
});

describe('allocatePort', () => {
  for (const [title, used, expected] of allocations) {
    it(`${title}: ${expected ?? 'none'}`, () => expect(allocatePort(used, RANGE)).to.equal(expected));
  }

  it('fills the whole range before giving up', () => {
    const all = Array.from({ length: RANGE.end - RANGE.start + 1 }, (_, i) => RANGE.start + i);
    expect(allocatePort(all, RANGE)).to.equal(undefined);
    expect(allocatePort(all.filter((p) => p !== 25_000), RANGE)).to.equal(25_000);
    expect(allocatePort([], { start: 61_000, end: 61_000 })).to.equal(61_000);
  });
});

describe('planAllocation', () => {
  const ask = (holder: string, containerPorts: number[], avoid: number[] = []) => ({ holder, containerPorts, avoid });

  it('gives each container port the lowest free host port', () => {
    const rows = [row(20_000, 'a'), row(20_002, 'b')];
    expect(planAllocation(rows, ask('c', [8080, 9090]), RANGE)).to.deep.equal({ ok: true, drop: [], add: [{ container_port: 8080, port: 20_001 }, { container_port: 9090, port: 20_003 }] });
  });

  it('a holder asking again gets what it holds: nothing added', () => {
    const rows = [row(20_000, 'a'), row(20_001, 'c')];
    expect(planAllocation(rows, ask('c', [8080]), RANGE)).to.deep.equal({ ok: true, drop: [], add: [] });
  });

  it('skips busy ports, and a holder holding a busy one gives it up for the next free one', () => {
    const held = row(20_000, 'c');
    expect(planAllocation([held], ask('c', [8080], [20_000, 20_001]), RANGE)).to.deep.equal({ ok: true, drop: [held.id], add: [{ container_port: 8080, port: 20_002 }] });
    expect(planAllocation([], ask('d', [8080], [20_000]), RANGE)).to.deep.equal({ ok: true, drop: [], add: [{ container_port: 8080, port: 20_001 }] });
  });

  it('refuses when the range is full, saying how full', () => {
    const plan = planAllocation([row(20_000, 'a')], ask('c', [8080], [20_001]), { start: 20_000, end: 20_001 });
    expect(plan).to.deep.equal({ ok: false, reason: 'no free host port left in 20000-20001 (1 allocated, 1 busy on the host)' });
  });
});

describe('planReconcile', () => {
  const finished = new Set(['w-old']);
  const base: ReconcileAsk = { workflowId: 'w-now', hosts: ['h1', 'h2'], live: [], registeredHosts: ['h1', 'h2', 'h3'], isFinished: (id) => id === null || finished.has(id) };

  it("releases a gone container's rows of a finished workflow or of this one, never of another that is running", () => {
    const gone = row(20_000, 'gone');
    const mine = row(20_001, 'mine-crashed', { workflow_id: 'w-now' });
    const running = row(20_002, 'being-started', { workflow_id: 'w-running' });
    const alive = row(20_003, 'alive');
    const plan = planReconcile([gone, mine, running, alive], { ...base, live: [{ holder: 'alive', host: 'h1', ports: { 8080: 20_003 } }] });
    expect(plan).to.deep.equal({ release: [gone.id, mine.id], adopt: [] });
  });

  it('keeps rows on hosts it did not list (unreachable), releases rows on hosts gone from the cluster, leaves rows without a holder', () => {
    const unlisted = row(20_000, 'x', { host: 'h3' });
    const removedHost = row(20_001, 'y', { host: 'h9' });
    const legacy = row(20_002, null);
    expect(planReconcile([unlisted, removedHost, legacy], base)).to.deep.equal({ release: [removedHost.id], adopt: [] });
  });

  it('adopts ports live containers publish that no row records, unless another row holds the port', () => {
    const other = row(45_001, 'other');
    const live = [
      { holder: 'old-web', host: 'h1', ports: { 8080: 45_000, 9090: 45_001 } },
      { holder: 'other', host: 'h2', ports: { 8080: 45_001 } },
    ];
    expect(planReconcile([other], { ...base, live })).to.deep.equal({ release: [], adopt: [{ holder: 'old-web', host: 'h1', container_port: 8080, port: 45_000 }] });
  });
});
