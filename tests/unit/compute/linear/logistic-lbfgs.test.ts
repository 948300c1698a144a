/**
 * The L-BFGS solver behind l2 `logistic_regression`: it reaches the optimum the coordinate-descent
 * path reaches (both minimise the same objective; CD converged very tightly is the reference),
 * stops on abort, and is deterministic. scikit-learn agreement is in sklearn.test.ts.
 */
import { Rng } from '../../../../compute/core/rng';
import { fitElnet } from '../../../../compute/linear/elnet';
import { logisticLbfgs } from '../../../../compute/linear/logistic_lbfgs';
import { DEFAULT_CONTROL, originalScale } from '../../../../compute/linear/path';

function data(n: number, p: number, K: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float64Array(n * p);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % K;
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < n; i++) x[j * n + i] = rng.normal() * (1 + j / p) + (j < 4 ? y[i]! : 0);
  }
  return { x, y };
}

function cdReference(
  x: Float64Array,
  n: number,
  p: number,
  y: Int32Array,
  K: number,
  lambda: number,
) {
  const f = fitElnet(
    x,
    n,
    p,
    null,
    K > 2 ? { family: 'multinomial', y, nClasses: K } : { family: 'binomial', y },
    {
      l1Ratio: 0,
      lambdas: [lambda],
      nLambda: 1,
      eps: 1,
      standardize: false,
      intercept: true,
      control: { ...DEFAULT_CONTROL, tol: 1e-14, maxIter: 1e7 },
    },
  );
  return originalScale(f.fit, f.scale, 0);
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

it.each([
  ['binary, p > n', 30, 120, 2],
  ['multinomial, p > n', 36, 90, 3],
  ['binary, n > p', 80, 10, 2],
])('%s: the same optimum as tightly converged coordinate descent', (_, n, p, K) => {
  const { x, y } = data(n, p, K, 7);
  const lambda = 1 / (0.5 * n); // C = 0.5
  const r = logisticLbfgs({
    x,
    n,
    p,
    y,
    nClasses: K,
    lambda,
    intercept: true,
    gtol: 1e-12,
    maxIter: 10000,
  });
  expect(r.converged).toBe(true);
  const ref = cdReference(x, n, p, y, K, lambda);
  expect(maxAbs(r.coef, ref.beta)).toBeLessThan(1e-7);
  expect(maxAbs(r.intercept, ref.intercept)).toBeLessThan(1e-7);
});

it('is deterministic and honours max_iter and abort', () => {
  const { x, y } = data(30, 120, 2, 3);
  const inp = {
    x,
    n: 30,
    p: 120,
    y,
    nClasses: 2,
    lambda: 0.05,
    intercept: true,
    gtol: 1e-10,
    maxIter: 10000,
  };
  const a = logisticLbfgs(inp);
  const b = logisticLbfgs(inp);
  expect(Array.from(a.coef)).toEqual(Array.from(b.coef));
  const capped = logisticLbfgs({ ...inp, maxIter: 2 });
  expect(capped.iterations).toBe(2);
  expect(capped.converged).toBe(false);
  const ctl = new AbortController();
  ctl.abort();
  expect(() => logisticLbfgs({ ...inp, signal: ctl.signal })).toThrow(/cancelled/);
});

it.each([2, 3])('row-space and primal iterations reach the same optimum (%i classes)', K => {
  const n = 24;
  const p = 150;
  const { x, y } = data(n, p, K, 11);
  const base = {
    x,
    n,
    p,
    y,
    nClasses: K,
    lambda: 0.02,
    intercept: true,
    gtol: 1e-11,
    maxIter: 10000,
  };
  const rows = logisticLbfgs({ ...base, space: 'rows' });
  const primal = logisticLbfgs({ ...base, space: 'primal' });
  expect(rows.space).toBe('rows');
  expect(primal.space).toBe('primal');
  expect(rows.converged && primal.converged).toBe(true);
  expect(maxAbs(rows.coef, primal.coef)).toBeLessThan(1e-8);
  expect(maxAbs(rows.intercept, primal.intercept)).toBeLessThan(1e-8);
});

it.each([2, 3])(
  'row space on offset columns: centred, it converges to the optimum (%i classes)',
  K => {
    // Log-intensity-like columns: offsets ~100 dwarf the spread. On the raw Gram the iteration
    // stopped after 855 iterations 1 % away from the optimum (binary); centred it converges.
    const n = 60;
    const p = 600;
    const { x: x0, y } = data(n, p, K, 12);
    const rng = new Rng(13);
    const offsets = Float64Array.from({ length: p }, () => 100 * (0.5 + rng.random()));
    const x = Float64Array.from(x0, (v, at) => v + offsets[Math.floor(at / n)]!);
    const center = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      for (let i = 0; i < n; i++) center[j] = center[j]! + x[j * n + i]! / n;
    }
    const base = {
      x,
      n,
      p,
      y,
      nClasses: K,
      lambda: 1 / n,
      intercept: true,
      gtol: 1e-9,
      maxIter: 1000,
    };
    const fit = logisticLbfgs({ ...base, center, space: 'rows' });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(200);
    // Reference: the primal iteration on the centred columns (no offsets to fight), intercept
    // moved back to the raw scale.
    const xc = Float64Array.from(x, (v, at) => v - center[Math.floor(at / n)]!);
    const ref = logisticLbfgs({ ...base, x: xc, space: 'primal', gtol: 1e-12, maxIter: 10000 });
    expect(ref.converged).toBe(true);
    const scale = Math.max(...Array.from(ref.coef, Math.abs));
    expect(maxAbs(fit.coef, ref.coef) / scale).toBeLessThan(1e-6);
    for (let k = 0; k < ref.intercept.length; k++) {
      let shift = 0;
      for (let j = 0; j < p; j++) shift += center[j]! * ref.coef[k * p + j]!;
      ref.intercept[k] = ref.intercept[k]! - shift;
    }
    if (K > 2) {
      const m = ref.intercept.reduce((a, b) => a + b, 0) / K;
      for (let k = 0; k < K; k++) ref.intercept[k] = ref.intercept[k]! - m;
    }
    expect(maxAbs(fit.intercept, ref.intercept)).toBeLessThan(1e-5 * Math.max(1, scale * 100));
  },
);
