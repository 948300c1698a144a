/**
 * compute/stats/simd_sums.ts against a plain loop. Tolerance: 1e-12 relative to Σ|terms|
 * (the lanes add in a different order than one running sum).
 */
import { Rng } from '../../../../compute/core/rng';
import { groupMask, groupSum4, groupSums, shiftedSums } from '../../../../compute/stats/simd_sums';

function plain(data: Float64Array, n: number, j: number, a: Float64Array, b: Float64Array) {
  const c = data[j * n]!;
  const s = [0, 0, 0];
  const abs = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const d = data[j * n + i]! - c;
    const t = [d * a[i]!, d * b[i]!, d * d];
    for (let k = 0; k < 3; k++) {
      s[k]! += t[k]!;
      abs[k]! += Math.abs(t[k]!);
    }
  }
  return { s, abs };
}

describe('shiftedSums (wasm SIMD)', () => {
  // the kernel is off under OMICSELECTOR_NO_SIMD=1 (callers then run their loops, tested there)
  (process.env.OMICSELECTOR_NO_SIMD === '1' ? it.skip : it).each([
    [7, 3],
    [8, 5],
    [33, 1],
    [200, 301],
    [5000, 9],
  ])('n = %i, p = %i: the three sums of every column, NaN for a missing value', (n, p) => {
    const rng = new Rng(n * 7 + p);
    const data = new Float64Array(n * p);
    for (let i = 0; i < data.length; i++) data[i] = 50 + rng.normal() * 3;
    if (p > 2) data[2 * n + (n >> 1)] = NaN;
    const a = Float64Array.from({ length: n }, () => rng.normal());
    const b = Float64Array.from({ length: n }, (_, i) => i % 2);
    const out = new Float64Array(3 * p);
    expect(shiftedSums(data, n, 0, p, a, b, out)).toBe(true);
    for (let j = 0; j < p; j++) {
      const ref = plain(data, n, j, a, b);
      for (let k = 0; k < 3; k++) {
        if (j === 2 && p > 2) expect(out[3 * j + k]).toBeNaN();
        else expect(Math.abs(out[3 * j + k]! - ref.s[k]!)).toBeLessThanOrEqual(1e-12 * ref.abs[k]!);
      }
    }
    // a sub-range lands at the start of out
    const part = new Float64Array(3);
    expect(shiftedSums(data, n, p - 1, p, a, b, part)).toBe(true);
    expect(Array.from(part)).toEqual(Array.from(out.subarray(3 * (p - 1))));
  });
  it('declines when disabled, leaving the caller its loop', () => {
    process.env.OMICSELECTOR_NO_SIMD = '1';
    try {
      expect(
        shiftedSums(
          new Float64Array(4),
          2,
          0,
          2,
          new Float64Array(2),
          new Float64Array(2),
          new Float64Array(6),
        ),
      ).toBe(false);
    } finally {
      delete process.env.OMICSELECTOR_NO_SIMD;
    }
  });
});

describe('groupSums (wasm SIMD)', () => {
  const simd = process.env.OMICSELECTOR_NO_SIMD === '1' ? it.skip : it;
  simd.each([
    [1, 3],
    [2, 2],
    [3, 5],
    [4, 4],
    [7, 6],
    [200, 301],
    [203, 64],
  ])('n = %i, p = %i: each group sum is groupSum4, bit for bit', (n, p) => {
    const rng = new Rng(n * 13 + p);
    const data = new Float64Array(n * p);
    // magnitudes from 1 to 1e6: another order of additions would round differently
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 10 ** rng.int(7) + 3;
    if (p > 3) {
      data[2 * n] = NaN; // a missing value in the first row's group only
      data[3 * n + n - 1] = Infinity;
    }
    const w = Float64Array.from({ length: n }, (_, i) => ((i * 7 + 3) % 3 === 0 ? 1 : 0));
    const out = new Float64Array(3 * p);
    expect(groupSums(data, n, 0, p, groupMask(w), out)).toBe(true);
    const differ: number[] = [];
    for (let j = 0; j < p; j++) {
      const [s0, s1] = groupSum4(data, j * n, n, w);
      if (!Object.is(out[3 * j], s0) || !Object.is(out[3 * j + 1], s1) || out[3 * j + 2] !== 0) {
        differ.push(j);
      }
    }
    expect(differ).toEqual([]);
    if (p > 3) {
      // the NaN reaches only its own group's sum (row 0 is in group w[0])
      expect(Number.isNaN(out[6 + w[0]!])).toBe(true);
      expect(Number.isNaN(out[6 + 1 - w[0]!])).toBe(false);
    }
    // each group sums only its own rows
    const [g0, g1] = groupSum4(data, 0, n, w);
    let e0 = 0;
    let e1 = 0;
    for (let i = 0; i < n; i++)
      if (w[i]) e1 += Math.abs(data[i]!);
      else e0 += Math.abs(data[i]!);
    const own = (g: number, sum: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) if (w[i] === g) s += data[i]!;
      return Math.abs(sum - s);
    };
    expect(own(0, g0)).toBeLessThanOrEqual(1e-12 * e0);
    expect(own(1, g1)).toBeLessThanOrEqual(1e-12 * e1);
  });

  it('groupMask sets all 64 bits where w ≠ 0 and none elsewhere', () => {
    const words = new Uint32Array(groupMask([0, 1, 2, 0]).buffer);
    expect(Array.from(words)).toEqual([
      0,
      0,
      2 ** 32 - 1,
      2 ** 32 - 1,
      2 ** 32 - 1,
      2 ** 32 - 1,
      0,
      0,
    ]);
  });
});
