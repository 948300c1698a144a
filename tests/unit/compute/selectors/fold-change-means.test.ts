/**
 * fold_change's class means (compute/selectors/fold_change.ts classMeans, which takes each
 * column's shift from the wasm kernel's output) must be the same bits as stats/columns.ts
 * groupMeans, with missing values, odd n and odd p, and without wasm SIMD.
 */
import { Rng } from '../../../../compute/core/rng';
import { classMeans } from '../../../../compute/selectors/fold_change';
import { groupMeans } from '../../../../compute/stats/columns';

function data(n: number, p: number, seed: number): { x: Float64Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n * p);
  // mixed magnitudes so that another order of additions would round differently
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * 10 ** rng.int(5) + 3;
  if (p > 3) {
    x[3 * n + 1] = NaN; // one missing value
    for (let i = 0; i < n; i++) if (i % 2) x[2 * n + i] = NaN; // one class nearly all missing
  }
  const labels = Int32Array.from({ length: n }, (_, i) => ((i * 7 + 3) % 3 === 0 ? 1 : 0));
  return { x, labels };
}

function mismatches(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) m++;
  return m;
}

describe('fold_change classMeans', () => {
  it.each([
    [2, 1],
    [5, 3],
    [9, 8],
    [200, 301],
    [201, 64],
  ])('n = %i, p = %i: the same bits as groupMeans', (n, p) => {
    const { x, labels } = data(n, p, n * 31 + p);
    const want = groupMeans(x, n, p, labels, 2).mean;
    const got = classMeans(x, n, p, labels);
    expect(got).toHaveLength(2 * p);
    expect(mismatches(got, want)).toBe(0);
    if (p > 3) expect(Number.isFinite(got[2 * 3])).toBe(true);
  });

  it('the same bits with OMICSELECTOR_NO_SIMD=1 and with an empty class', () => {
    const { x, labels } = data(40, 9, 5);
    const saved = process.env.OMICSELECTOR_NO_SIMD;
    process.env.OMICSELECTOR_NO_SIMD = '1';
    try {
      expect(mismatches(classMeans(x, 40, 9, labels), groupMeans(x, 40, 9, labels, 2).mean)).toBe(
        0,
      );
    } finally {
      if (saved === undefined) delete process.env.OMICSELECTOR_NO_SIMD;
      else process.env.OMICSELECTOR_NO_SIMD = saved;
    }
    const none = new Int32Array(40);
    const got = classMeans(x, 40, 9, none);
    expect(mismatches(got, groupMeans(x, 40, 9, none, 2).mean)).toBe(0);
    expect(got[1]).toBeNaN();
  });
});
