/**
 * compute/stats/sort.ts selectKth (branch-free Lomuto quickselect with tie and Hoare fallbacks)
 * against a full sort: exact value and the partition contract, on shapes that stress each path —
 * distinct values, few distinct values, mostly zeros (single-cell), all equal, sorted, reversed,
 * organ pipe, and sub-ranges.
 */
import { Rng } from '../../../../compute/core/rng';
import { selectKth } from '../../../../compute/stats/sort';

type Shape = (n: number, rng: Rng) => Float64Array;

const shapes: Record<string, Shape> = {
  normal: (n, rng) => Float64Array.from({ length: n }, () => rng.normal()),
  fewDistinct: (n, rng) => Float64Array.from({ length: n }, () => rng.int(4)),
  mostlyZeros: (n, rng) =>
    Float64Array.from({ length: n }, () => (rng.random() < 0.8 ? 0 : 1 + rng.int(6))),
  allEqual: n => new Float64Array(n).fill(2.5),
  sorted: n => Float64Array.from({ length: n }, (_, i) => i),
  reversed: n => Float64Array.from({ length: n }, (_, i) => n - i),
  organPipe: n => Float64Array.from({ length: n }, (_, i) => Math.min(i, n - 1 - i)),
  signedZeros: (n, rng) => Float64Array.from({ length: n }, () => (rng.random() < 0.5 ? -0 : 0)),
};

describe('selectKth', () => {
  for (const [name, make] of Object.entries(shapes)) {
    it(`${name}: the k-th smallest, smaller ones before it, larger after`, () => {
      const rng = new Rng(name.length * 31);
      for (const n of [1, 2, 16, 17, 18, 40, 199, 200, 1001]) {
        const a = make(n, rng);
        const sorted = Float64Array.from(a).sort();
        for (const k of new Set([0, 1, n >> 2, (n >> 1) - 1, n >> 1, n - 2, n - 1])) {
          if (k < 0 || k >= n) continue;
          const s = Float64Array.from(a);
          const v = selectKth(s, 0, n, k);
          // toBe on numbers is Object.is: -0 and 0 differ, so compare with ===
          expect(v === sorted[k]).toBe(true);
          expect(s[k] === v).toBe(true);
          let bad = 0;
          for (let i = 0; i < k; i++) if (!(s[i]! <= v)) bad++;
          for (let i = k + 1; i < n; i++) if (!(s[i]! >= v)) bad++;
          expect(bad).toBe(0);
          // a permutation of the input
          expect(Array.from(Float64Array.from(s).sort())).toEqual(Array.from(sorted));
        }
      }
    });
  }

  it('works on a sub-range and leaves the rest untouched', () => {
    const rng = new Rng(5);
    const a = Float64Array.from({ length: 300 }, () => rng.normal());
    const copy = Float64Array.from(a);
    const lo = 37;
    const hi = 263;
    const sorted = Float64Array.from(a.subarray(lo, hi)).sort();
    for (const k of [0, 57, 113, hi - lo - 1]) {
      const s = Float64Array.from(copy);
      expect(selectKth(s, lo, hi, k)).toBe(sorted[k]);
      expect(Array.from(s.subarray(0, lo))).toEqual(Array.from(copy.subarray(0, lo)));
      expect(Array.from(s.subarray(hi))).toEqual(Array.from(copy.subarray(hi)));
      for (let i = lo; i < lo + k; i++) expect(s[i]).toBeLessThanOrEqual(sorted[k]!);
      for (let i = lo + k + 1; i < hi; i++) expect(s[i]).toBeGreaterThanOrEqual(sorted[k]!);
    }
  });
});
