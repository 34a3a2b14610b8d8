import { expect } from 'chai';
import {
  assembleStepTree,
  collectSubtreeIds,
  findParentStep,
  findRootStep,
  findTreeProblem,
  flattenNestedStep,
  isNestedDeeperThan,
  type NestedStep,
  type StepLinks,
  type StepNode,
} from '../../../http/core/plan-steps.js';

interface Step extends StepLinks {
  type: string;
}
interface Option {
  product_deployment_plan_step_id: number;
  name: string;
}

/** `[id, on_success, on_failure]` */
const steps = (...rows: Array<[number, number | null, number | null]>): Step[] =>
  rows.map(([id, s, f]) => ({ id, on_success_step_id: s, on_failure_step_id: f, type: `t${id}` }));

/** A tree as `id(success,failure)`, `-` for none: easy to read in a table. */
function shape(node: StepNode<Step, Option> | null): string {
  if (node === null) return '-';
  const children = node.on_success_step === null && node.on_failure_step === null ? '' : `(${shape(node.on_success_step)},${shape(node.on_failure_step)})`;
  return `${node.id}${children}`;
}

describe('findRootStep', () => {
  const cases: Array<[string, Step[], number | undefined]> = [
    ['no steps', [], undefined],
    ['one step', steps([5, null, null]), 5],
    ['the step nobody points to', steps([2, null, null], [1, 2, null]), 1],
    ['a child created before its parent', steps([1, null, null], [2, 1, null]), 2],
    ['two unreferenced: the oldest', steps([4, null, null], [3, null, null]), 3],
    ['a cycle has no root: the lowest id, so rows still show', steps([1, 2, null], [2, 1, null]), 1],
  ];
  for (const [title, rows, expected] of cases) it(title, () => expect(findRootStep(rows)?.id).to.equal(expected));
});

describe('assembleStepTree (reference §3.5 GET …/steps)', () => {
  const cases: Array<[string, Step[], string | undefined]> = [
    ['no steps: nothing (the route answers 204)', [], undefined],
    ['a single step', steps([1, null, null]), '1'],
    ['success and failure branches', steps([1, 2, 3], [2, null, null], [3, null, null]), '1(2,3)'],
    ['a chain of successes', steps([1, 2, null], [2, 3, null], [3, null, null]), '1(2(3,-),-)'],
    ['deep failure branch', steps([1, null, 2], [2, 3, 4], [3, null, null], [4, null, null]), '1(-,2(3,4))'],
    ['rows in any order', steps([3, null, null], [2, null, null], [1, 2, 3]), '1(2,3)'],
    ['a link to a step of no row shows as null', steps([1, 99, null]), '1'],
    ['a cycle is cut', steps([1, 2, null], [2, 1, null]), '1(2,-)'],
    ['a step linked twice is shown once', steps([1, 2, 2], [2, null, null]), '1(2,-)'],
  ];
  for (const [title, rows, expected] of cases) {
    it(title, () => {
      const tree = assembleStepTree<Step, Option>(rows, []);
      expect(tree === undefined ? undefined : shape(tree)).to.equal(expected);
    });
  }

  it('keeps each row, its link ids and its own options', () => {
    const options: Option[] = [
      { product_deployment_plan_step_id: 2, name: 'b' },
      { product_deployment_plan_step_id: 1, name: 'a1' },
      { product_deployment_plan_step_id: 1, name: 'a2' },
    ];
    const tree = assembleStepTree(steps([1, 2, null], [2, null, 77]), options)!;
    expect(tree).to.deep.include({ id: 1, type: 't1', on_success_step_id: 2, on_failure_step_id: null, on_failure_step: null });
    expect(tree.options.map((o) => o.name)).to.deep.equal(['a1', 'a2']);
    expect(tree.on_success_step).to.deep.include({ id: 2, on_failure_step_id: 77, on_failure_step: null, on_success_step: null });
    expect(tree.on_success_step!.options.map((o) => o.name)).to.deep.equal(['b']);
  });
});

describe('collectSubtreeIds and findParentStep', () => {
  const tree = steps([1, 2, 3], [2, 4, null], [3, null, null], [4, null, null]);
  const cases: Array<[number, number[]]> = [
    [1, [1, 2, 3, 4]],
    [2, [2, 4]],
    [3, [3]],
    [42, []],
  ];
  for (const [root, expected] of cases) it(`subtree of ${root}`, () => expect(collectSubtreeIds(tree, root).sort()).to.deep.equal(expected));
  it('cuts cycles', () => expect(collectSubtreeIds(steps([1, 2, null], [2, 1, null]), 1).sort()).to.deep.equal([1, 2]));

  const parents: Array<[number, [number, string] | undefined]> = [
    [1, undefined],
    [2, [1, 'success']],
    [3, [1, 'failure']],
    [4, [2, 'success']],
  ];
  for (const [id, expected] of parents) {
    it(`parent of ${id}`, () => {
      const found = findParentStep(tree, id);
      expect(found === undefined ? undefined : [found.parent.id, found.stepCase]).to.deep.equal(expected);
    });
  }
});

describe('findTreeProblem', () => {
  const cases: Array<[string, Step[], string | undefined]> = [
    ['empty', [], undefined],
    ['a tree', steps([1, 2, 3], [2, null, null], [3, null, null]), undefined],
    ['a forest (a detached subtree)', steps([1, null, null], [2, 3, null], [3, null, null]), undefined],
    ['a link out of the plan', steps([1, 9, null]), 'step 9 is not a step of this plan'],
    ['a step following itself', steps([1, 1, null]), 'step 1 cannot follow itself'],
    ['two parents', steps([1, 3, null], [2, null, 3], [3, null, null]), 'step 3 already follows step 1'],
    ['both links to one step', steps([1, 2, 2], [2, null, null]), 'step 2 already follows step 1'],
    ['a cycle', steps([1, 2, null], [2, 3, null], [3, 1, null]), 'the links would form a cycle through step 1'],
  ];
  for (const [title, rows, expected] of cases) it(title, () => expect(findTreeProblem(rows)).to.equal(expected));
});

describe('flattenNestedStep (POST …/steps)', () => {
  it('puts parents first and records where each link goes', () => {
    const nested: NestedStep<string> = {
      type: 'build_component',
      options: ['o1'],
      on_success_step: { type: 'deploy_component', on_failure_step: { type: 'deploy_script' } },
      on_failure_step: { type: 'component_script', on_success_step: null },
    };
    expect(flattenNestedStep(nested)).to.deep.equal([
      { type: 'build_component', options: ['o1'], onSuccess: 1, onFailure: 3 },
      { type: 'deploy_component', options: [], onSuccess: null, onFailure: 2 },
      { type: 'deploy_script', options: [], onSuccess: null, onFailure: null },
      { type: 'component_script', options: [], onSuccess: null, onFailure: null },
    ]);
  });
});

describe('isNestedDeeperThan', () => {
  const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { on_success_step: nest(depth - 1) });
  const cases: Array<[string, unknown, number, boolean]> = [
    ['a scalar', 'x', 0, false],
    ['null', null, 0, false],
    ['an object at 0', {}, 0, true],
    ['3 objects deep within 3', nest(3), 3, false],
    ['4 objects deep over 3', nest(4), 3, true],
    ['arrays count as levels', { options: [{ name: 'x' }] }, 2, true],
    ['a deep branch anywhere', { a: 1, b: [1, 2, nest(5)] }, 4, true],
  ];
  for (const [title, value, max, expected] of cases) it(title, () => expect(isNestedDeeperThan(value, max)).to.equal(expected));

  it('stops early on a very deep value (no stack overflow)', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i += 1) deep = { on_success_step: deep };
    expect(isNestedDeeperThan(deep, 34)).to.equal(true);
  });
});
