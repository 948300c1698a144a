/**
 * TickBatcher: calls of one tick share a batch; with a window, calls within it share one; a
 * failing batch rejects exactly its own callers.
 */
import { TickBatcher } from '../../../src/queue/batch';

test('calls of the same tick form one batch; the next tick starts another', async () => {
  const batches: number[][] = [];
  const b = new TickBatcher<number>(async items => {
    batches.push(items);
  });
  await Promise.all([b.add(1), b.add(2), b.add(3)]);
  await b.add(4);
  expect(batches).toEqual([[1, 2, 3], [4]]);
});

test('with a window, calls made across several ticks inside it share one batch', async () => {
  const batches: number[][] = [];
  const b = new TickBatcher<number>(
    async items => {
      batches.push(items);
    },
    500,
    50,
  );
  const first = b.add(1);
  await new Promise(r => setImmediate(r)); // a later tick, still inside the window
  const second = b.add(2);
  await Promise.all([first, second]);
  expect(batches).toEqual([[1, 2]]);
});

test('a failed batch rejects its callers; max splits a backlog', async () => {
  const batches: number[][] = [];
  const b = new TickBatcher<number>(async items => {
    batches.push(items);
    if (items.includes(3)) throw new Error('boom');
  }, 2);
  const results = await Promise.allSettled([b.add(1), b.add(2), b.add(3)]);
  expect(batches).toEqual([[1, 2], [3]]);
  expect(results.map(r => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
});
