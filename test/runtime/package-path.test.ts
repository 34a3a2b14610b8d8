import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { packagePath } from '../../runtime/package-path.js';

describe('packagePath', () => {
  it("finds the platform's own files from the sources (test/e2e/compiled.test.ts runs it from dist/)", () => {
    expect((JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { name: string }).name).to.equal('openaperture');
    expect(readFileSync(packagePath('deploy', 'topologies', 'all-in-one.json'), 'utf8')).to.include('"name": "all-in-one"');
  });
});
