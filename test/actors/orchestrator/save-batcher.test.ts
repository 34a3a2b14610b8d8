import { expect } from 'chai';
import { batchedSaves } from '../../../actors/orchestrator/save-batcher.js';
import type { SavedFields } from '../../../actors/orchestrator/core/state.js';
import type { UpdateManyOutcome } from '../../../http/client/workflows-api.js';
import { rejectionOf } from '../../helpers/wait.js';

/** A stand-in for the Manager's `PUT /workflows` that the test answers by hand, batch by batch. */
function manager(known: (id: string) => boolean = () => true) {
  const batches: Array<{ ids: string[]; answer(err?: Error): void }> = [];
  const updateMany = (updates: ReadonlyArray<{ readonly id: string }>) =>
    new Promise<UpdateManyOutcome>((resolve, reject) => {
      const ids = updates.map((u) => u.id);
      batches.push({
        ids,
        answer: (err) => (err ? reject(err) : resolve({ updated: ids.filter(known), not_found: ids.filter((id) => !known(id)) })),
      });
    });
  return { batches, updateMany };
}

const fields = (step: string) => ({ current_step: step }) as SavedFields;
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('orchestrator: batched saves', () => {
  it('sends a save at once while a slot is free, and gathers the others until one frees', async () => {
    const m = manager();
    const save = batchedSaves(m.updateMany, { inFlight: 2, maxBatch: 3 });
    const done: string[] = [];
    const saves = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => save(id, fields('build')).then(() => done.push(id)));
    expect(m.batches.map((b) => b.ids)).to.deep.equal([['a'], ['b']]);
    m.batches[0]!.answer();
    await settle();
    expect(done).to.deep.equal(['a']);
    expect(m.batches.map((b) => b.ids)).to.deep.equal([['a'], ['b'], ['c', 'd', 'e']]);
    m.batches[1]!.answer();
    m.batches[2]!.answer();
    await settle();
    expect(m.batches.slice(3).map((b) => b.ids)).to.deep.equal([['f', 'g']]);
    m.batches[3]!.answer();
    await Promise.all(saves);
    expect(done.sort()).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('gives each caller its own outcome: a workflow the Manager lacks gets a 404, the batch error reaches all', async () => {
    const m = manager((id) => id !== 'gone');
    const save = batchedSaves(m.updateMany, { inFlight: 1, maxBatch: 10 });
    const first = save('a', fields('build'));
    const [kept, gone] = [save('b', fields('deploy')), save('gone', fields('deploy'))];
    m.batches[0]!.answer();
    await first;
    await settle();
    m.batches[1]!.answer();
    await kept;
    const err = (await rejectionOf(gone)) as Error & { status?: number };
    expect([err.name, err.status, err.message]).to.deep.equal(['ManagerApiError', 404, 'PUT /workflows (/workflows) answered 404: Workflow gone was not found']);
    const failing = [save('c', fields('build')), save('d', fields('build'))];
    m.batches[2]!.answer(new Error('Manager unreachable'));
    await settle();
    m.batches[3]!.answer(new Error('Manager unreachable'));
    expect((await Promise.all(failing.map(rejectionOf))).map((e) => (e as Error).message)).to.deep.equal(['Manager unreachable', 'Manager unreachable']);
    await settle();
    const after = save('e', fields('build'));
    m.batches[4]!.answer();
    await after;
  });
});
