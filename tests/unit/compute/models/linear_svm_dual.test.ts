/**
 * linear_svm's dual solver (compute/models/linear_svm_dual.ts, used when n < p): the same optimum
 * as the primal solver of compute/linear/svm.ts (both converged tightly: the l2 problem is
 * strictly convex, so weights agree to 1e-6 × max(1, |w|)), deterministic for a seed, and abortable.
 * (On the K = 3 case at C = 1 the primal needed 49,574 sweeps, the dual 436: finding F7.)
 * Data: small random p > n problems (binary and 3 classes), seeded.
 *
 * The row kernels under it (compute/kernels/row-dot-axpy.ts):
 * - the wasm kernels (dot, fused axpy + dot, transpose, column sds) give the same bits as their
 *   JavaScript fallback (OMICSELECTOR_NO_SIMD=1) and as the loops they stand for, on shapes that
 *   hit every tail (odd n, p mod 8 ≠ 0, p across the 64-column staging blocks);
 * - the fitted weights are the same bits on both paths, and within 1e-10 of the solver before the
 *   kernels (scalar sequential dot / axpy; fixture from that code): the iterates are the same in
 *   exact arithmetic — only the summation order of x_iᵀw changed — so only rounding separates them;
 * - the model's column sds (taken during the row copy) equal columnSd, and NaN still stops the fit.
 */
import { parseArgs } from '../../../../compute/core/args';
import { makeDataset } from '../../../../compute/core/dataset';
import { quietContext } from '../../../../compute/core/method';
import { Rng } from '../../../../compute/core/rng';
import { dotJs, RowWorkspace } from '../../../../compute/kernels/row-dot-axpy';
import { columnSd, type LinearModel } from '../../../../compute/linear/model';
import { fitLinearSvc } from '../../../../compute/linear/svm';
import { linearSvm, type LinearSvmArgs } from '../../../../compute/models/linear_svm';
import { fitDualSvc } from '../../../../compute/models/linear_svm_dual';
import sequential from '../../../fixtures/linear_svm_dual_sequential.json';

function problem(n: number, p: number, K: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float64Array(n * p);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % K;
  for (let j = 0; j < p; j++) {
    const scale = 1 + 10 * rng.random(); // unequal column scales, as raw omics data
    for (let i = 0; i < n; i++) {
      data[j * n + i] = scale * (rng.normal() + (j < 3 && labels[i] === j % K ? 1 : 0));
    }
  }
  return { data, labels };
}

describe('linear_svm dual solver', () => {
  it.each([
    [2, 0.05],
    [3, 0.2],
  ])('K = %s, C = %s: same optimum as the primal solver', (K, C) => {
    const n = 24;
    const p = 40;
    const { data, labels } = problem(n, p, K, 7);
    const dual = fitDualSvc(data, n, p, labels, K, {
      C,
      interceptScaling: 1,
      tol: 1e-10,
      maxIter: 1e5,
      rng: new Rng(1),
    });
    const primal = fitLinearSvc(data, n, p, labels, K, {
      C,
      penalty: 'l2',
      interceptScaling: 1,
      tol: 1e-10,
      maxIter: 1e5,
      standardize: false,
    });
    expect(dual.converged).toBe(true);
    expect(primal.converged).toBe(true);
    expect(dual.coef).toHaveLength(primal.coef.length);
    for (let q = 0; q < dual.coef.length; q++) {
      expect(Math.abs(dual.coef[q]! - primal.coef[q]!)).toBeLessThanOrEqual(
        1e-6 * Math.max(1, Math.abs(primal.coef[q]!)),
      );
    }
    for (let c = 0; c < dual.intercept.length; c++) {
      expect(Math.abs(dual.intercept[c]! - primal.intercept[c]!)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('same seed → identical weights; an aborted signal stops the fit', () => {
    const { data, labels } = problem(20, 30, 2, 3);
    const opts = { C: 1, interceptScaling: 1, tol: 1e-6, maxIter: 1e5 };
    const a = fitDualSvc(data, 20, 30, labels, 2, { ...opts, rng: new Rng(5) });
    const b = fitDualSvc(data, 20, 30, labels, 2, { ...opts, rng: new Rng(5) });
    expect(Array.from(a.coef)).toEqual(Array.from(b.coef));
    const ac = new AbortController();
    ac.abort();
    expect(() =>
      fitDualSvc(data, 20, 30, labels, 2, { ...opts, rng: new Rng(5), signal: ac.signal }),
    ).toThrow();
  });
});

/** Under OMICSELECTOR_NO_SIMD=1 both sides run the fallback (and still must agree). */
const simdOff = process.env.OMICSELECTOR_NO_SIMD === '1';

/** Runs f with the wasm kernels off (the JavaScript fallback). */
function withoutSimd<T>(f: () => T): T {
  const key = 'OMICSELECTOR_NO_SIMD';
  const prior = process.env[key];
  process.env[key] = '1';
  try {
    return f();
  } finally {
    if (prior === undefined) delete process.env[key];
    else process.env[key] = prior;
  }
}

const SHAPES: [number, number][] = [
  [1, 1],
  [7, 9],
  [8, 64],
  [13, 131],
  [30, 200],
];

/** What a workspace computes: rows, sds, dots, fused updates — compared across the two paths. */
function exercise(data: Float64Array, n: number, p: number) {
  const ws = new RowWorkspace(n, p);
  const sd = new Float64Array(p);
  const done = ws.fillRows(data, sd);
  const rows = Float64Array.from(ws.rows);
  const dots: number[] = [];
  for (let i = 0; i < n; i++) dots.push(ws.dotRows(i, i));
  for (let i = 0; i < n; i++) {
    dots.push(ws.axpyDotW(i, 0.37 * (i + 1), (i + 1) % n));
    ws.axpyW(i, -0.11);
    dots.push(ws.dotW(i));
  }
  return { simd: ws.simd, rows, sd: Array.from(sd.subarray(0, done)), dots, w: Array.from(ws.w) };
}

describe('row kernels of the dual SVM', () => {
  it.each(SHAPES)('n = %s, p = %s: wasm = JavaScript fallback = plain loops', (n, p) => {
    const { data } = problem(n, p, 2, 1);
    const fast = exercise(data, n, p);
    const slow = withoutSimd(() => exercise(data, n, p));
    expect(fast.simd).toBe(!simdOff);
    expect(slow.simd).toBe(false);
    expect(fast.rows).toEqual(slow.rows);
    expect(fast.dots).toEqual(slow.dots);
    expect(fast.w).toEqual(slow.w);
    // the transpose
    const t = Float64Array.from(
      { length: n * p },
      (_, k) => data[(k % p) * n + Math.floor(k / p)]!,
    );
    expect(fast.rows).toEqual(t);
    // sds of the leading p − p mod 8 columns, bit for bit columnSd; the fallback leaves them
    expect(fast.sd).toEqual(simdOff ? [] : columnSd(data, n, p).slice(0, p - (p % 8)));
    expect(slow.sd).toEqual([]);
    // the dot sums in another order than a sequential loop: equal up to rounding
    const z = Float64Array.from({ length: 2 * p }, (_, j) => Math.sin(j + 1));
    let seq = 0;
    for (let j = 0; j < p; j++) seq += z[j]! * z[p + j]!;
    expect(Math.abs(dotJs(z, 0, p, p) - seq)).toBeLessThanOrEqual(1e-13 * p);
  });

  it('a workspace after a larger one reuses the memory without stale weights', () => {
    const big = problem(40, 300, 2, 2);
    const small = problem(10, 50, 2, 3);
    const first = new RowWorkspace(40, 300);
    first.fillRows(big.data);
    first.axpyW(0, 1);
    const ws = new RowWorkspace(10, 50);
    expect(Array.from(ws.w)).toEqual(new Array<number>(50).fill(0));
    ws.fillRows(small.data);
    expect(ws.rows[49]).toBe(small.data[49 * 10]);
  });
});

describe('dual SVM on the row kernels', () => {
  it.each(sequential.cases.map(c => [c.n, c.p, c.K, c] as const))(
    'n = %s, p = %s, K = %s: same bits on both paths, ≤ 1e-10 from the sequential solver',
    (n, p, K, ref) => {
      const { data, labels } = problem(n, p, K, 11);
      const opts = { C: ref.C, interceptScaling: 1, tol: 1e-4, maxIter: 1000 };
      const fast = fitDualSvc(data, n, p, labels, K, { ...opts, rng: new Rng(2) });
      const slow = withoutSimd(() =>
        fitDualSvc(data, n, p, labels, K, { ...opts, rng: new Rng(2) }),
      );
      expect(Array.from(fast.coef)).toEqual(Array.from(slow.coef));
      expect(Array.from(fast.intercept)).toEqual(Array.from(slow.intercept));
      expect(fast.iterations).toBe(ref.iterations);
      expect(fast.coef).toHaveLength(ref.coef.length);
      ref.coef.forEach((c, q) => expect(Math.abs(fast.coef[q]! - c)).toBeLessThanOrEqual(1e-10));
      ref.intercept.forEach((b, c) =>
        expect(Math.abs(fast.intercept[c]! - b)).toBeLessThanOrEqual(1e-10),
      );
    },
  );

  it('the model keeps columnSd and still rejects NaN', async () => {
    const n = 12;
    const p = 75;
    const { data, labels } = problem(n, p, 2, 4);
    const names = Array.from({ length: p }, (_, j) => `f${j}`);
    const outcome = { kind: 'binary' as const, labels, classes: ['a', 'b'] as [string, string] };
    const dataset = (x: Float64Array) =>
      makeDataset({ data: x, nSamples: n, featureNames: names, outcome });
    const ds = dataset(data);
    const args = parseArgs(linearSvm.args, {}) as unknown as LinearSvmArgs;
    const model = (await linearSvm.fit(ds, args, quietContext(1))) as LinearModel;
    expect(model.state.info.solver).toBe('dual');
    expect(model.state.sd).toEqual(columnSd(data, n, p));
    const holed = Float64Array.from(data);
    holed[70 * n + 5] = NaN;
    await expect(linearSvm.fit(dataset(holed), args, quietContext(1))).rejects.toThrow(
      'feature "f70" has missing values',
    );
    // ±∞ is not missing (as before: no check rejects it)
    const inf = Float64Array.from(data);
    inf[3 * n] = Infinity;
    await expect(linearSvm.fit(dataset(inf), args, quietContext(1))).resolves.toBeDefined();
  });
});
