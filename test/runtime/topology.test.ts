import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { components } from '../../actors/system.js';
import counter from './actors/fixtures/counter.actor.js';
import { loadTopology, parseTopology, topologySpec, TopologyError, type Catalogue } from '../../runtime/topology.js';

const TOPOLOGIES = fileURLToPath(new URL('../../deploy/topologies/', import.meta.url));
const watchdog = { intervalMs: 1_000, timeoutMs: 3_000 };

function problemsOf(text: string): readonly string[] {
  try {
    parseTopology(text, 'bad.json');
  } catch (err) {
    if (err instanceof TopologyError) return err.problems;
    throw err;
  }
  throw new Error('expected a TopologyError');
}

describe('topology files', () => {
  it('loads every file in deploy/topologies by name, naming only components of the catalogue', async () => {
    for (const file of readdirSync(TOPOLOGIES).filter((f) => f.endsWith('.json'))) {
      const topology = await loadTopology(file.replace(/\.json$/, ''), TOPOLOGIES);
      expect(topology.name).to.equal(file.replace(/\.json$/, ''));
      expect(() => topologySpec(topology, components, watchdog, file)).to.not.throw();
    }
    expect((await loadTopology('all-in-one', TOPOLOGIES)).transport).to.equal('in-memory');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a threaded mode', '{"name":"x","components":[{"name":"a"},{"name":"b","mode":"threaded"}]}', /^components\[1\]\.mode: "threaded" is not a supported mode; use "in-memory" or "forked"/],
    ['a remote mode', '{"name":"x","components":[{"name":"a","mode":"remote"}]}', /^components\[0\]\.mode: "remote" is not a supported mode/],
    ['a missing name', '{"components":[]}', /^name: /],
    ['an unknown field', '{"name":"x","components":[],"extra":1}', /extra/],
    ['a duplicate component', '{"name":"x","components":[{"name":"a"},{"name":"a"}]}', /^components\[1\]\.name: duplicate component "a"/],
    ['a bad restart setting', '{"name":"x","components":[],"restarts":{"within_ms":0}}', /^restarts\.within_ms: /],
    ['broken JSON', '{"name":', /^not valid JSON: /],
  ];
  for (const [what, text, expected] of bad) {
    it(`names the field of ${what}`, () => {
      const problems = problemsOf(text);
      expect(problems.some((p) => expected.test(p)), problems.join('; ')).to.equal(true);
    });
  }

  it('refuses a component the catalogue does not know, naming the known ones', () => {
    const topology = parseTopology('{"name":"x","components":[{"name":"counter"},{"name":"nope"}]}', 'x.json');
    const catalogue: Catalogue = { counter: { actor: counter } };
    expect(() => topologySpec(topology, catalogue, watchdog, 'x.json')).to.throw(
      TopologyError,
      'components[1].name: unknown component "nope" (known: counter)',
    );
  });

  it('gives each component its own supervisor under a one_for_one root', () => {
    const topology = parseTopology('{"name":"x","components":[{"name":"counter","mode":"forked","args":{"start":3}}]}', 'x.json');
    const spec = topologySpec(topology, { counter: { actor: counter } }, watchdog);
    expect(spec.strategy).to.equal('one_for_one');
    expect(spec.children).to.have.length(1);
    const child = spec.children[0]!;
    expect(child.name).to.equal('counter');
    expect('supervisor' in child && child.supervisor.children[0]).to.deep.include({ name: 'counter', actor: counter, mode: 'forked', args: { start: 3 } });
  });
});
