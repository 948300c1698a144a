/**
 * compute/stats/simd_colsums.ts against the eight-accumulator JavaScript loop it replaces:
 * bit-identical sums (Object.is), for n with every remainder mod 8, odd and even column counts,
 * a sub-range of columns, chunks of several columns, and NaN for a column with a missing value.
 */
import { Rng } from '../../../../compute/core/rng';
import { residentCopy } from '../../../../compute/kernels/resident';
import { columnSums, scaledColumnSums, sum8 } from '../../../../compute/stats/simd_colsums';

const simdOff = process.env.OMICSELECTOR_NO_SIMD === '1';

describe('columnSums (wasm SIMD)', () => {
  (simdOff ? it.skip : it).each([
    [1, 1],
    [2, 3],
    [3, 2],
    [4, 5],
    [5, 1],
    [6, 3],
    [7, 4],
    [8, 2],
    [9, 5],
    [15, 4],
    [200, 301],
    [201, 64],
    [203, 7],
    [204, 9],
    [206, 5],
    [40000, 3],
  ])('n = %i, p = %i: the same bits as the eight-accumulator loop', (n, p) => {
    const rng = new Rng(n * 13 + p);
    const data = new Float64Array(n * p);
    // mixed magnitudes so that a different order of additions would round differently
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 10 ** rng.int(6) + 0.1;
    if (p > 2) data[2 * n + (n >> 1)] = NaN;
    const out = new Float64Array(p);
    expect(columnSums(data, n, 0, p, out)).toBe(true);
    let mismatches = 0;
    for (let j = 0; j < p; j++) {
      if (!Object.is(out[j], sum8(data, j * n, (j + 1) * n))) mismatches++;
    }
    expect(mismatches).toBe(0);
    if (p > 2) expect(out[2]).toBeNaN();
  });

  (simdOff ? it.skip : it)('a sub-range of columns, written from out[0]', () => {
    const n = 9;
    const p = 50;
    const rng = new Rng(3);
    const data = Float64Array.from({ length: n * p }, () => rng.normal());
    const out = new Float64Array(p).fill(-1);
    expect(columnSums(data, n, 11, 36, out)).toBe(true);
    for (let j = 11; j < 36; j++) expect(out[j - 11]).toBe(sum8(data, j * n, (j + 1) * n));
    expect(out[25]).toBe(-1);
  });

  (simdOff ? it.skip : it).each([
    ['copied', false],
    ['resident', true],
  ])(
    'scaledColumnSums (%s): the bits of sum8 / divisor, and the count of NaN results',
    (_kind, resident) => {
      const rng = new Rng(resident ? 11 : 12);
      for (const [n, p] of [
        [200, 61],
        [13, 9],
        [7, 1],
      ] as const) {
        const plain = Float64Array.from({ length: n * p }, () => rng.normal() * 10 ** rng.int(5));
        const missing = [0, 5, 8].filter(j => j < p);
        for (const j of missing) plain[j * n + rng.int(n)] = NaN;
        const data = resident ? residentCopy(plain, n, p)! : plain;
        for (const divisor of [1, n, 3.7]) {
          const out = new Float64Array(p);
          expect(scaledColumnSums(data, n, 0, p, out, divisor)).toBe(missing.length);
          let mismatches = 0;
          for (let j = 0; j < p; j++) {
            if (!Object.is(out[j], sum8(plain, j * n, (j + 1) * n) / divisor)) mismatches++;
          }
          expect(mismatches).toBe(0);
        }
      }
    },
  );

  it('declines (returns false, out untouched) for an empty range or under OMICSELECTOR_NO_SIMD=1', () => {
    const out = new Float64Array(2).fill(7);
    expect(columnSums(new Float64Array(4), 2, 1, 1, out)).toBe(false);
    const saved = process.env.OMICSELECTOR_NO_SIMD;
    process.env.OMICSELECTOR_NO_SIMD = '1';
    try {
      expect(columnSums(new Float64Array(4), 2, 0, 2, out)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.OMICSELECTOR_NO_SIMD;
      else process.env.OMICSELECTOR_NO_SIMD = saved;
    }
    expect(Array.from(out)).toEqual([7, 7]);
  });
});
