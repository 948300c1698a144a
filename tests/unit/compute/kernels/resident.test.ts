/**
 * Datasets resident in WebAssembly memory (compute/kernels/resident.ts): the in-place kernels give
 * the copying paths' bits, the loaders leave datasets resident, and nothing resident leaks into
 * hosts or settings that cannot have it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../../../compute/core/args';
import { makeDataset, type Dataset } from '../../../../compute/core/dataset';
import { quietContext, type SelectorDef } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { loadDataset } from '../../../../compute/cli/dataset';
import { decodeDataset, encodeDataset } from '../../../../compute/io/binary';
import { LinearModel } from '../../../../compute/linear/model';
import {
  inPlaceOf,
  IN_PLACE_MAX_BYTES,
  residentCopy,
  residentDataset,
  residentOf,
} from '../../../../compute/kernels/resident';
import { foldChange } from '../../../../compute/selectors/fold_change';
import { hdg } from '../../../../compute/selectors/hdg';
import { heg } from '../../../../compute/selectors/heg';
import { columnSums, sum8 } from '../../../../compute/stats/simd_colsums';
import { residentMoments, sum4 } from '../../../../compute/stats/simd_moments';
import { groupMask, groupSums, shiftedSums } from '../../../../compute/stats/simd_sums';

/** Mixed data: continuous values, count columns (every third) and one missing value. */
function matrix(n: number, p: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const d = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) {
      d[j * n + i] = j % 3 === 0 ? Math.floor(rng.random() * 6) : rng.normal() * 2 + 5;
    }
  }
  if (n * p > 20) d[17] = NaN;
  return d;
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  const diff: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff.push(i);
  expect(diff).toEqual([]);
}

/**
 * A three-sums-per-column kernel over column ranges (all, from 1, all but the last): the
 * resident matrix read in place gives the copying path's bits.
 */
function sameOnRanges(
  p: number,
  run: (resident: boolean, j0: number, j1: number, out: Float64Array) => boolean,
): void {
  for (const [j0, j1] of [
    [0, p],
    [1, p],
    [0, Math.max(1, p - 1)],
  ] as const) {
    if (j1 <= j0) continue;
    const viaCopy = new Float64Array(3 * (j1 - j0));
    const inPlace = new Float64Array(3 * (j1 - j0));
    expect(run(false, j0, j1, viaCopy)).toBe(true);
    expect(run(true, j0, j1, inPlace)).toBe(true);
    sameBits(inPlace, viaCopy);
  }
}

const SHAPES: [number, number][] = [
  [200, 2000],
  [201, 2001],
  [7, 3],
  [64, 9],
  [3, 2],
  [5, 1],
];

describe('resident matrices', () => {
  test('a resident copy holds the values; subarrays and the dataset are found', () => {
    const d = matrix(13, 7, 1);
    const r = residentCopy(d, 13, 7)!;
    expect(r).not.toBeNull();
    sameBits(r, d);
    const home = residentOf(r)!;
    expect(home).not.toBeNull();
    expect(residentOf(r.subarray(13, 26))).toBe(home);
    // the scratch region lies after the data, 16-byte aligned, and is not empty
    expect(home.scratchByte).toBeGreaterThanOrEqual(r.byteLength);
    expect(home.scratchByte % 16).toBe(0);
    expect(home.scratchBytes).toBeGreaterThanOrEqual(262144);
    expect(residentOf(d)).toBeNull();
    expect(residentCopy(d, 13, 6)).toBeNull(); // wrong shape
    const ds = makeDataset({ data: d, nSamples: 13, featureNames: 'abcdefg'.split('') });
    const rd = residentDataset(ds);
    expect(rd).not.toBe(ds);
    expect(residentDataset(rd)).toBe(rd);
  });

  test('above IN_PLACE_MAX_BYTES the streaming kernels copy, with the same bits', () => {
    const n = 64;
    const p = Math.ceil(IN_PLACE_MAX_BYTES / (8 * n)) + 3;
    const d = matrix(n, p, 9);
    const r = residentCopy(d, n, p)!;
    expect(residentOf(r)).not.toBeNull();
    expect(inPlaceOf(r)).toBeNull();
    expect(inPlaceOf(residentCopy(matrix(n, 5, 9), n, 5)!)).not.toBeNull();
    const viaCopy = new Float64Array(p);
    const resident = new Float64Array(p);
    expect(columnSums(d, n, 0, p, viaCopy)).toBe(true);
    expect(columnSums(r, n, 0, p, resident)).toBe(true);
    sameBits(resident, viaCopy);
  });

  test('OMICSELECTOR_NO_SIMD=1 keeps plain arrays', () => {
    const before = process.env.OMICSELECTOR_NO_SIMD;
    process.env.OMICSELECTOR_NO_SIMD = '1';
    try {
      expect(residentCopy(matrix(4, 4, 2), 4, 4)).toBeNull();
    } finally {
      if (before === undefined) delete process.env.OMICSELECTOR_NO_SIMD;
      else process.env.OMICSELECTOR_NO_SIMD = before;
    }
  });

  test.each(SHAPES)('in-place column sums = the copying kernel = sum8 (%i × %i)', (n, p) => {
    const d = matrix(n, p, n + p);
    const r = residentCopy(d, n, p)!;
    for (const [j0, j1] of [
      [0, p],
      [1, p],
      [p - 1, p],
    ] as const) {
      if (j1 <= j0) continue;
      const viaCopy = new Float64Array(j1 - j0);
      const inPlace = new Float64Array(j1 - j0);
      expect(columnSums(d, n, j0, j1, viaCopy)).toBe(true);
      expect(columnSums(r, n, j0, j1, inPlace)).toBe(true);
      sameBits(inPlace, viaCopy);
      sameBits(
        inPlace,
        Array.from({ length: j1 - j0 }, (_, c) => sum8(d, (j0 + c) * n, (j0 + c + 1) * n)),
      );
    }
  });

  test.each(SHAPES)('in-place shifted sums = the copying kernel (%i × %i)', (n, p) => {
    if (n < 2) return;
    const d = matrix(n, p, 3 * n + p);
    const r = residentCopy(d, n, p)!;
    const rng = new Rng(7);
    const a = Float64Array.from({ length: n }, () => rng.normal());
    const b = Float64Array.from({ length: n }, () => rng.normal());
    sameOnRanges(p, (resident, j0, j1, out) => shiftedSums(resident ? r : d, n, j0, j1, a, b, out));
  });

  test.each(SHAPES)('in-place group sums = the copying kernel (%i × %i)', (n, p) => {
    const d = matrix(n, p, 11 * n + p);
    const r = residentCopy(d, n, p)!;
    const mask = groupMask(Float64Array.from({ length: n }, (_, i) => ((i * 5) % 3 === 1 ? 1 : 0)));
    sameOnRanges(p, (resident, j0, j1, out) => groupSums(resident ? r : d, n, j0, j1, mask, out));
  });

  test.each(SHAPES)('in-place moments = the two JavaScript passes (%i × %i)', (n, p) => {
    const d = matrix(n, p, 5 * n + p);
    const r = residentCopy(d, n, p)!;
    const out = new Float64Array(2 * p);
    if (p < 2) {
      expect(residentMoments(r, n, 0, p, out)).toBe(false); // one column: the loop's job
      return;
    }
    expect(residentMoments(d, n, 0, p, out)).toBe(false); // not resident
    expect(residentMoments(r, n, 0, p, out)).toBe(true);
    const expected: number[] = [];
    for (let j = 0; j < p; j++) {
      const off = j * n;
      const s = sum4(d, off, off + n);
      const mean = s / n;
      const q = [0, 0, 0, 0];
      let i = off;
      for (; i + 3 < off + n; i += 4) {
        for (let r4 = 0; r4 < 4; r4++) {
          const dv = d[i + r4]! - mean;
          q[r4] = q[r4]! + dv * dv;
        }
      }
      for (; i < off + n; i++) q[0] = q[0]! + (d[i]! - mean) * (d[i]! - mean);
      expected.push(s, q[0]! + q[1]! + q[2]! + q[3]!);
    }
    sameBits(out, expected);
  });

  const selectors: [string, SelectorDef<never>, Record<string, unknown>, number | undefined][] = [
    ['hdg cv top 5', hdg as SelectorDef<never>, {}, 5],
    ['hdg variance, own rule', hdg as SelectorDef<never>, { metric: 'variance' }, undefined],
    ['heg mean top 5', heg as SelectorDef<never>, {}, 5],
    ['heg sum percentile', heg as SelectorDef<never>, { metric: 'sum', percentile: 50 }, undefined],
    ['fold_change', foldChange as SelectorDef<never>, {}, undefined],
  ];
  test.each(selectors)('%s: the same result on a resident dataset', async (_, sel, raw, k) => {
    for (const [n, p] of SHAPES) {
      const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
      const ds: Dataset = makeDataset({
        data: matrix(n, p, n * 7 + p),
        nSamples: n,
        featureNames: Array.from({ length: p }, (_, j) => `g${j}`),
        outcome: { kind: 'binary', labels, classes: ['a', 'b'] },
      });
      if (sel === (foldChange as SelectorDef<never>) && n < 2) continue;
      const rd = residentDataset(ds);
      expect(residentOf(rd.data)).not.toBeNull();
      const args = parseArgs(sel.args, raw) as never;
      const plain = await sel.run(ds, args, quietContext(1), k);
      const resident = await sel.run(rd, args, quietContext(1), k);
      expect(resident.selected).toEqual(plain.selected);
      const names = ds.featureNames;
      sameBits(
        names.map(f => resident.scores[f]!),
        names.map(f => plain.scores[f]!),
      );
    }
  });

  test.each([
    [1, 1],
    [7, 3],
    [201, 2001],
    [64, 9],
  ])('linear predictors on a resident matrix = addColumns (%i × %i, 1 and 3 outputs)', (n, p) => {
    const rng = new Rng(n * 3 + p);
    const ds = makeDataset({
      data: matrix(n, p, n + 2 * p).map(v => (v === v ? v : 0)),
      nSamples: n,
      featureNames: Array.from({ length: p }, (_, j) => `g${j}`),
    });
    const rd = residentDataset(ds);
    for (const K of [1, 3]) {
      // about a third of the coefficients zero (skipped), the rest of mixed sign and scale
      const coef = Array.from({ length: K * p }, () =>
        rng.random() < 0.3 ? 0 : rng.normal() * 10 ** Math.floor(rng.random() * 6 - 3),
      );
      const model = new LinearModel(
        'ridge',
        ds.featureNames,
        {},
        {
          link: 'identity',
          coef,
          intercept: Array.from({ length: K }, () => rng.normal()),
          classes: null,
          sd: new Array<number>(p).fill(1),
          info: {},
        },
      );
      sameBits(model.decision(rd), model.decision(ds));
    }
  });

  test('the CLI loader and the binary round trip leave the matrix resident', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resident-'));
    try {
      const file = join(dir, 'x.csv');
      writeFileSync(file, 'id,y,g1,g2\ns1,a,1.5,2\ns2,b,3,4.25\ns3,a,5,6\n');
      const { dataset } = await loadDataset({ input: file, target: 'y' });
      expect(residentOf(dataset.data)).not.toBeNull();
      sameBits(dataset.data, [1.5, 3, 5, 2, 4.25, 6]);
      // what the compute worker does with a stored matrix (src/workers/child-io.ts)
      const back = residentDataset(decodeDataset(encodeDataset(dataset)));
      expect(residentOf(back.data)).not.toBeNull();
      sameBits(back.data, dataset.data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
