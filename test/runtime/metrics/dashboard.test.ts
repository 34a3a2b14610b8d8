import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ProcessMetrics } from '../../../runtime/metrics/process-metrics.js';
import { packagePath } from '../../../runtime/package-path.js';

describe('deploy/grafana/openaperture.json', () => {
  it('queries only series a process registry has', async () => {
    const text = readFileSync(packagePath('deploy', 'grafana', 'openaperture.json'), 'utf8');
    const exprs = (JSON.parse(text) as { panels: Array<{ targets: Array<{ expr: string }> }> }).panels.flatMap((p) => p.targets.map((t) => t.expr));
    const known = new Set((await new ProcessMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:openaperture|process|nodejs)_[a-z_]+?)(?:_bucket|_count|_sum)?\{/g)].map((m) => m[1]!)));
    expect(used.size).to.be.above(10);
    expect([...used].filter((name) => !known.has(name))).to.deep.equal([]);
  });
});
