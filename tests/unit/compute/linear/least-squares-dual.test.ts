/**
 * OLS with p > n takes the dual Cholesky route (G + c·11ᵀ) when the centred sample Gram has its
 * generic rank n − 1, and the eigendecomposition otherwise: both must give the minimum-norm
 * solution (as scikit-learn's lstsq). The reference here is the pseudo-inverse route itself.
 */
import { Rng } from '../../../../compute/core/rng';
import {
  centreColumns,
  gramRows,
  gramRowsJs,
  gramRowsParallel,
  pinvSolve,
  xtv,
} from '../../../../compute/linear/dense';
import { leastSquares } from '../../../../compute/linear/least_squares';
import { maxRel } from '../../../helpers/numeric';

function design(n: number, p: number, seed: number): { x: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n * p);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = 2 * x[i]! - x[n + i]! + 0.1 * rng.normal();
  return { x, y };
}

function pinvReference(
  x0: Float64Array,
  n: number,
  p: number,
  y: Float64Array,
  intercept: boolean,
) {
  const x = Float64Array.from(x0);
  centreColumns(x, n, p, intercept);
  let ym = 0;
  if (intercept) ym = y.reduce((s, v) => s + v, 0) / n;
  const yc = Float64Array.from(y, v => v - ym);
  const z = pinvSolve(gramRowsJs(x, n, p), n, yc, Number.EPSILON * p);
  return xtv(x, n, p, z);
}

it('gramRows (SIMD kernel) equals the JavaScript loop to rounding', () => {
  const { x } = design(37, 301, 1);
  const a = gramRows(x, 37, 301);
  const b = gramRowsJs(x, 37, 301);
  expect(maxRel(a, b)).toBeLessThan(1e-13);
  for (let i = 0; i < 37; i++)
    for (let k = 0; k < i; k++) expect(a[i * 37 + k]).toBe(a[k * 37 + i]);
});

it('gramRowsParallel on two threads gives the same entries as gramRows', async () => {
  const { x } = design(41, 3001, 4);
  const sync = gramRows(x, 41, 3001);
  const threaded = await gramRowsParallel(x, 41, 3001, { threads: 2, minThreadWork: 0 });
  expect(Array.from(threaded)).toEqual(Array.from(sync));
});

it.each([true, false])('p > n OLS (intercept %s) is the minimum-norm solution', async intercept => {
  const n = 30;
  const p = 200;
  const { x, y } = design(n, p, 2);
  const r = await leastSquares(x, n, p, y, 0, intercept);
  expect(maxRel(r.coef, pinvReference(x, n, p, y, intercept))).toBeLessThan(1e-9);
  expect(r.rankDeficient).toBe(true); // XᵀX is singular whenever p > n
});

it('duplicate samples (rank below n − 1) fall back to the pseudo-inverse', async () => {
  const n = 30;
  const p = 200;
  const { x, y } = design(n, p, 3);
  for (let j = 0; j < p; j++) x[j * n + 1] = x[j * n]!; // sample 1 = sample 0
  y[1] = y[0]! + 0.5;
  const r = await leastSquares(x, n, p, y, 0, true);
  expect(r.rankDeficient).toBe(true);
  expect(maxRel(r.coef, pinvReference(x, n, p, y, true))).toBeLessThan(1e-9);
  expect(r.coef.every(Number.isFinite)).toBe(true);
});
