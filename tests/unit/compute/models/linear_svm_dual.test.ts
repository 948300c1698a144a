/**
 * linear_svm's dual solver (compute/models/linear_svm_dual.ts, used when n < p): the same optimum
 * as the primal solver of compute/linear/svm.ts (both converged tightly: the l2 problem is
 * strictly convex, so weights agree to 1e-6 × max(1, |w|)), deterministic for a seed, and abortable.
 * (On the K = 3 case at C = 1 the primal needed 49,574 sweeps, the dual 436: finding F7.)
 * Data: small random p > n problems (binary and 3 classes), seeded.
 */
import { Rng } from '../../../../compute/core/rng';
import { fitLinearSvc } from '../../../../compute/linear/svm';
import { fitDualSvc } from '../../../../compute/models/linear_svm_dual';

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
