/**
 * DatasetPageCache (src/modules/datasets/dataset.version.ts): a page is served only at the
 * version it was read at and within its TTL; concurrent misses share one read; failed reads are
 * not cached; the byte bound evicts oldest pages first and never keeps an oversized one.
 */
import { DatasetPageCache } from '../../../src/modules/datasets/dataset.version';
import { newVersionToken } from '../../../src/util/version-token';

function counter(values: string[]) {
  let calls = 0;
  return {
    load: async () => values[Math.min(calls++, values.length - 1)]!,
    get calls() {
      return calls;
    },
  };
}

const size = (v: string) => v.length;

it('serves a page only at the version it was read at', async () => {
  const c = new DatasetPageCache<string>(5_000, 1_000);
  const src = counter(['v1 page', 'v2 page']);
  expect(await c.get('k', 'v1', src.load, size)).toBe('v1 page');
  expect(await c.get('k', 'v1', src.load, size)).toBe('v1 page');
  expect(src.calls).toBe(1);
  expect(await c.get('k', 'v2', src.load, size)).toBe('v2 page');
  expect(src.calls).toBe(2);
  // Back to an older version: a re-read, not the newer page.
  expect(await c.get('k', 'v1', src.load, size)).toBe('v2 page');
  expect(src.calls).toBe(3);
});

it('re-reads after the TTL even at the same version', async () => {
  let now = 0;
  const c = new DatasetPageCache<string>(100, 1_000, () => now);
  const src = counter(['a', 'b']);
  expect(await c.get('k', 'v', src.load, size)).toBe('a');
  now = 99;
  expect(await c.get('k', 'v', src.load, size)).toBe('a');
  now = 100;
  expect(await c.get('k', 'v', src.load, size)).toBe('b');
  expect(src.calls).toBe(2);
});

it('shares one read between concurrent misses and does not cache failures', async () => {
  const c = new DatasetPageCache<string>(5_000, 1_000);
  let release!: (v: string) => void;
  let calls = 0;
  const load = () => {
    calls++;
    return new Promise<string>(r => (release = r));
  };
  const both = Promise.all([c.get('k', 'v', load, size), c.get('k', 'v', load, size)]);
  release('page');
  expect(await both).toEqual(['page', 'page']);
  expect(calls).toBe(1);

  const failing = () => Promise.reject(new Error('boom'));
  await expect(c.get('x', 'v', failing, size)).rejects.toThrow('boom');
  expect(await c.get('x', 'v', async () => 'ok', size)).toBe('ok');
});

it('keeps within its byte bound, oldest out first', async () => {
  const c = new DatasetPageCache<string>(5_000, 10);
  await c.get('a', 'v', async () => 'aaaa', size);
  await c.get('b', 'v', async () => 'bbbb', size);
  expect(c.size).toBe(2);
  await c.get('c', 'v', async () => 'cccc', size); // 12 > 10: 'a' goes
  expect(c.size).toBe(2);
  let reread = 0;
  await c.get('a', 'v', async () => (reread++, 'aaaa'), size);
  expect(reread).toBe(1);
  // A page larger than the whole bound is served but not kept.
  const big = 'x'.repeat(11);
  expect(await c.get('big', 'v', async () => big, size)).toBe(big);
  let again = 0;
  await c.get('big', 'v', async () => (again++, big), size);
  expect(again).toBe(1);
});

it('makes version tokens that never repeat', () => {
  const seen = new Set(Array.from({ length: 1000 }, () => newVersionToken()));
  expect(seen.size).toBe(1000);
});
