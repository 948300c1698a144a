/**
 * The ridge model's mixed-precision dual solve (compute/linear/ridge_dual.ts) and its float64
 * kernels (compute/kernels/centred-ops.ts):
 * - the column statistics taken in WebAssembly memory have columnMeanSd's bits (NaN columns,
 *   row counts with every tail length);
 * - K·v and Xcᵀv equal a JavaScript float64 reference to rounding, with the same bits on one
 *   thread and on two, and in place on a resident matrix (two columns per step);
 * - the wasm Cholesky equals the JavaScript one to rounding and refuses an indefinite matrix;
 * - the solve gives the float64 Cholesky path's coefficients to 1e-10 (relative), and gives up
 *   (null: the caller takes the float64 path) when α is far below the screen's error on
 *   nearly collinear samples — while leastSquares still returns the float64 answer there;
 * - the ridge model above the switch-over size gives the float64 path's coefficients.
 */
import { type Dataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { parseArgs } from '../../../../compute/core/args';
import { CentredColumns } from '../../../../compute/kernels/centred-ops';
import { simdGemmAvailable } from '../../../../compute/kernels/simd-gemm';
import {
  choleskyFactor,
  choleskyFactorJs,
  choleskySolveFactor,
  choleskySolver,
} from '../../../../compute/linear/dense';
import { leastSquares } from '../../../../compute/linear/least_squares';
import { columnMeanSd, type LinearModel } from '../../../../compute/linear/model';
import { ridgeDualMixed } from '../../../../compute/linear/ridge_dual';
import { residentCopy, residentDataset, residentOf } from '../../../../compute/kernels/resident';
import { logisticRegression } from '../../../../compute/models/logistic_regression';
import { type RidgeArgs, ridgeModel } from '../../../../compute/models/ridge';
import { maxRel } from '../../../helpers/numeric';

const simd = simdGemmAvailable();
const maybe = simd ? it : it.skip;

function matrix(n: number, p: number, seed: number, scale = 1): Float64Array {
  const rng = new Rng(seed);
  // Columns with very different means and spreads, as raw omics intensities.
  const x = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const m = 10 * rng.random();
    const s = scale * (0.1 + 3 * rng.random());
    for (let i = 0; i < n; i++) x[j * n + i] = m + s * rng.normal();
  }
  return x;
}

maybe('column statistics in wasm memory have columnMeanSd’s bits, on 1 and 2 threads', async () => {
  for (const [n, p] of [
    [1, 3],
    [5, 17],
    [6, 9],
    [7, 40],
    [64, 33],
    [203, 150],
  ] as const) {
    const x = matrix(n, p, n + p);
    x[2 * n] = NaN; // column 2 holds a missing value
    const want = columnMeanSd(x, n, p);
    for (const threads of [1, 2]) {
      const cols = CentredColumns.create(x, n, p)!;
      const got = await cols.meanSd({ threads, minThreadEntries: 0 });
      cols.release();
      for (let j = 0; j < p; j++) {
        expect(Object.is(got.mean[j], want.mean[j])).toBe(true);
        expect(Object.is(got.sd[j], want.sd[j])).toBe(true);
      }
      expect(Number.isNaN(got.mean[2])).toBe(true);
    }
  }
});

maybe('K·v and Xcᵀv match float64 JavaScript, with the same bits on 1 and 2 threads', async () => {
  const [n, p] = [67, 301];
  const x = matrix(n, p, 3);
  const { mean } = columnMeanSd(x, n, p);
  const rng = new Rng(4);
  const v = Float64Array.from({ length: n }, () => rng.normal());
  // Reference: s = Xcᵀv, then Xc·s, column by column.
  const s = new Float64Array(p);
  const kv = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) s[j] = s[j]! + (x[j * n + i]! - mean[j]!) * v[i]!;
    for (let i = 0; i < n; i++) kv[i] = kv[i]! + s[j]! * (x[j * n + i]! - mean[j]!);
  }
  const runs = [];
  for (const threads of [1, 2]) {
    const cols = CentredColumns.create(x, n, p)!;
    cols.setCenter(mean);
    runs.push(await cols.times(v, true, { threads, minThreadEntries: 0 }));
    const only = await cols.times(v, false, { threads, minThreadEntries: 0 });
    expect(only.kv).toBeNull();
    expect(Array.from(only.xtv)).toEqual(Array.from(runs.at(-1)!.xtv));
    cols.release();
  }
  expect(maxRel(runs[0]!.xtv, s)).toBeLessThan(1e-13);
  expect(maxRel(runs[0]!.kv!, kv)).toBeLessThan(1e-13);
  expect(Array.from(runs[1]!.kv!)).toEqual(Array.from(runs[0]!.kv!));
  expect(Array.from(runs[1]!.xtv)).toEqual(Array.from(runs[0]!.xtv));
  // in place on a resident matrix (the module that takes two columns per step; odd slices and a
  // row tail here): the same bits as the copy's one column at a time
  const home = residentCopy(x, n, p)!;
  const inPlace = CentredColumns.create(home, n, p)!;
  expect(inPlace.inPlace).toBe(true);
  inPlace.setCenter(mean);
  const r = await inPlace.times(v, true);
  inPlace.release();
  expect(Array.from(r.kv!)).toEqual(Array.from(runs[0]!.kv!));
  expect(Array.from(r.xtv)).toEqual(Array.from(runs[0]!.xtv));
});

/** BBᵀ + I for a k × k matrix B of standard normals: symmetric positive definite. */
function spdMatrix(k: number, rng: Rng): Float64Array {
  const b = Float64Array.from({ length: k * k }, () => rng.normal());
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let t = i === j ? 1 : 0;
      for (let m = 0; m < k; m++) t += b[i * k + m]! * b[j * k + m]!;
      a[i * k + j] = t;
    }
  return a;
}

maybe('the wasm Cholesky equals the JavaScript loop and refuses an indefinite matrix', () => {
  // every k mod 4 (the kernel goes by blocks of four rows; the last block may be partial)
  for (const k of [48, 49, 50, 131]) {
    const a = spdMatrix(k, new Rng(k));
    const l = choleskyFactor(a, k, 0)!;
    const ref = choleskyFactorJs(a, k, 0)!;
    expect(maxRel(l, ref)).toBeLessThan(1e-12);
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) expect(l[i * k + j]).toBe(0);
    // a non-positive pivot inside a block, and at the last row
    for (const r of [k >> 1, k - 1]) {
      const b = Float64Array.from(a);
      b[r * k + r] = -1;
      expect(choleskyFactor(b, k, 0)).toBeNull();
    }
  }
});

maybe('choleskySolver: the wasm solves agree with the JavaScript ones, repeatedly', () => {
  for (const k of [1, 2, 5, 48, 49, 200, 201]) {
    const rng = new Rng(3 * k + 1);
    const a = spdMatrix(k, rng);
    const solver = choleskySolver(a, k, 0)!;
    const ref = choleskyFactorJs(a, k, 0)!;
    for (let rep = 0; rep < 3; rep++) {
      const rhs = Float64Array.from({ length: k }, () => rng.normal());
      const z = solver.solve(rhs);
      expect(maxRel(z, choleskySolveFactor(ref, k, rhs))).toBeLessThan(1e-10);
      // the residual of A z = rhs at rounding level
      let worst = 0;
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += a[i * k + j]! * z[j]!;
        worst = Math.max(worst, Math.abs(s - rhs[i]!));
      }
      expect(worst).toBeLessThan(1e-9 * k);
    }
    solver.release();
    a[(k - 1) * k + (k - 1)] = -1;
    expect(choleskySolver(a, k, 0)).toBeNull();
  }
});

function response(x: Float64Array, n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, (_, i) => 3 * x[i]! - 2 * x[n + i]! + rng.normal());
}

maybe('the mixed-precision dual solve gives the float64 coefficients', async () => {
  const [n, p] = [90, 1200];
  const x = matrix(n, p, 5);
  const y = response(x, n, 6);
  for (const alpha of [1, 0.01]) {
    for (const intercept of [true, false]) {
      const exact = await leastSquares(x, n, p, y, alpha, intercept);
      const mixed = await leastSquares(x, n, p, y, alpha, intercept, { mixedFromWork: 0 });
      expect(maxRel(mixed.coef, exact.coef)).toBeLessThan(1e-10);
      expect(Math.abs(mixed.intercept - exact.intercept)).toBeLessThan(
        1e-10 * Math.max(1, Math.abs(exact.intercept)),
      );
    }
  }
  // It really ran (not the fallback), in a few passes.
  const { mean } = columnMeanSd(x, n, p);
  let ym = 0;
  for (const v of y) ym += v / n;
  const yc = Float64Array.from(y, v => v - ym);
  const r = await ridgeDualMixed(x, n, p, mean, yc, 1);
  expect(r).not.toBeNull();
  expect(r!.iterations).toBeLessThanOrEqual(6);
});

maybe(
  'tiny α on nearly collinear samples: the mixed solve gives up, the fit stays exact',
  async () => {
    const [n, p] = [40, 600];
    const base = matrix(n, p, 7);
    // Every sample is one of four profiles plus 1e-6 noise: the Gram's small eigenvalues (~p·1e-12)
    // sit far below its float32 screening error (~1e-7 of the large ones).
    const rng = new Rng(8);
    const x = new Float64Array(n * p);
    for (let j = 0; j < p; j++)
      for (let i = 0; i < n; i++) x[j * n + i] = base[j * n + (i % 4)]! + 1e-6 * rng.normal();
    const y = response(x, n, 9);
    const alpha = 1e-12;
    const { mean } = columnMeanSd(x, n, p);
    let ym = 0;
    for (const v of y) ym += v / n;
    const yc = Float64Array.from(y, v => v - ym);
    expect(await ridgeDualMixed(x, n, p, mean, yc, alpha)).toBeNull();
    const exact = await leastSquares(x, n, p, y, alpha, true);
    const viaMixed = await leastSquares(x, n, p, y, alpha, true, { mixedFromWork: 0 });
    expect(Array.from(viaMixed.coef)).toEqual(Array.from(exact.coef));
  },
);

maybe('the ridge model above the switch-over size gives the float64 path’s fit', async () => {
  const [n, p] = [100, 2500]; // n²p/2 = 1.25e7 multiply-adds: the mixed solve
  const x = matrix(n, p, 10);
  const y = response(x, n, 11);
  const ds: Dataset = {
    data: x,
    nSamples: n,
    nFeatures: p,
    featureNames: Array.from({ length: p }, (_, j) => `f${j}`),
    sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
    outcome: { kind: 'continuous', values: y },
  };
  const fit = async () =>
    (await ridgeModel.fit(
      ds,
      parseArgs(ridgeModel.args, { alpha: 2 }) as unknown as RidgeArgs,
      quietContext(1),
    )) as LinearModel;
  const model = await fit();
  const exact = await leastSquares(x, n, p, y, 2, true);
  const state = model.state;
  expect(maxRel(state.coef, exact.coef)).toBeLessThan(1e-10);
  expect(Math.abs(state.intercept[0]! - exact.intercept)).toBeLessThan(1e-9);
  expect(state.sd).toEqual(Array.from(columnMeanSd(x, n, p).sd));
  // Same inputs → same bits.
  const again = await fit();
  expect(again.state.coef).toEqual(state.coef);
});

maybe(
  'on a resident matrix the mixed solves run in place: the same bits as on a copy',
  async () => {
    const [n, p] = [100, 2500]; // n·p below the threads' size: CentredColumns in place
    const x = matrix(n, p, 14);
    const y = response(x, n, 15);
    const labels = Int32Array.from(y, v => (v > 0 ? 1 : 0));
    const names = Array.from({ length: p }, (_, j) => `f${j}`);
    const sampleIds = Array.from({ length: n }, (_, i) => `s${i}`);
    const plain: Dataset = {
      data: x,
      nSamples: n,
      nFeatures: p,
      featureNames: names,
      sampleIds,
      outcome: { kind: 'continuous', values: y },
    };
    const resident = residentDataset(plain);
    expect(residentOf(resident.data)).not.toBeNull();
    const ridge = async (ds: Dataset) =>
      (
        (await ridgeModel.fit(
          ds,
          parseArgs(ridgeModel.args, { alpha: 2 }) as unknown as RidgeArgs,
          quietContext(1),
        )) as LinearModel
      ).state;
    const a = await ridge(plain);
    const b = await ridge(resident);
    expect(b.coef).toEqual(a.coef);
    expect(b.intercept).toEqual(a.intercept);
    expect(b.sd).toEqual(a.sd);
    // the l2 logistic row-space fit (n²p/2 ≥ 1e7: the mixed path) uses the same columns
    const binary = (ds: Dataset): Dataset => ({
      ...ds,
      outcome: { kind: 'binary', labels, classes: ['0', '1'] },
    });
    const logistic = async (ds: Dataset) =>
      (
        (await logisticRegression.fit(
          binary(ds),
          parseArgs(logisticRegression.args, { penalty: 'l2', C: 0.5 }) as never,
          quietContext(1),
        )) as LinearModel
      ).state;
    const la = await logistic(plain);
    const lb = await logistic(resident);
    expect(lb.coef).toEqual(la.coef);
    expect(lb.intercept).toEqual(la.intercept);
  },
);

maybe('an aborted signal stops the mixed-precision ridge solve', async () => {
  const [n, p] = [100, 2500];
  const x = matrix(n, p, 12);
  const y = response(x, n, 13);
  const controller = new AbortController();
  controller.abort();
  await expect(
    leastSquares(x, n, p, y, 1, true, { mixedFromWork: 0, signal: controller.signal }),
  ).rejects.toThrow(/cancel/i);
});

maybe('low-rank data (three factors, 1 % noise): the float64 coefficients to 1e-8', async () => {
  // Factor-model columns (as co-expressed genes): K has three large eigenvalues and the rest
  // ~1e-4 of them, so κ(K + αI) ~ 1e5–1e8 and the stopping rule, not the preconditioner, sets
  // the accuracy.
  const [n, p, r] = [80, 1200, 3];
  const rng = new Rng(14);
  const f = Float64Array.from({ length: n * r }, () => rng.normal());
  const l = Float64Array.from({ length: r * p }, () => rng.normal());
  const x = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const offset = 8 + 4 * rng.random();
    for (let i = 0; i < n; i++) {
      let v = offset + 0.01 * rng.normal();
      for (let k = 0; k < r; k++) v += f[i * r + k]! * l[k * p + j]!;
      x[j * n + i] = v;
    }
  }
  const y = response(x, n, 15);
  for (const alpha of [1, 1e-3]) {
    const exact = await leastSquares(x, n, p, y, alpha, true);
    const mixed = await leastSquares(x, n, p, y, alpha, true, { mixedFromWork: 0 });
    expect(maxRel(mixed.coef, exact.coef)).toBeLessThan(1e-8);
  }
});
