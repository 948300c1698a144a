/**
 * The wasm SIMD coordinate-descent sweeps and screened KKT products (compute/linear/cd-kernel.ts,
 * simd.ts `cdWork`) against the JavaScript loops: binomial paths must be bit-identical (same
 * coefficients, intercepts, entry order, deviance ratios and pass counts), because the kernels
 * perform the same IEEE operations in the same order; Gaussian paths agree to 1e-6 (their
 * active-set cycles take another route in wasm, see expectCloseFit). Odd n exercises the kernels' tails.
 * OMICSELECTOR_NO_WASM_CD=1 switches the sweeps back to JavaScript with the design still in wasm
 * memory (a plain-array design would also change λ_max's summation order through the KKT product).
 */
import { Rng } from '../../../../compute/core/rng';
import { type ElnetOptions, fitElnet, type Target } from '../../../../compute/linear/elnet';
import { DEFAULT_CONTROL, type PathFit, workingScale } from '../../../../compute/linear/path';
import { cdWork, wasmDesignBuffer } from '../../../../compute/linear/simd';

function data(n: number, p: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float64Array(n * p);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const lp = new Float64Array(n);
  for (let j = 0; j < 6; j++)
    for (let i = 0; i < n; i++) lp[i]! += (j % 2 ? -1 : 1) * x[j * n + i]!;
  const yc = Float64Array.from(lp, v => v + rng.normal());
  const yb = Float64Array.from(lp, v => (v + 0.5 * rng.normal() > 0 ? 1 : 0));
  return { x, yc, yb };
}

function expectSameFit(a: PathFit, b: PathFit): void {
  expect(a.passes).toBe(b.passes);
  expect(Array.from(a.lambdas)).toEqual(Array.from(b.lambdas));
  expect(Array.from(a.order)).toEqual(Array.from(b.order));
  expect(Array.from(a.devRatio)).toEqual(Array.from(b.devRatio));
  expect(a.coefs.length).toBe(b.coefs.length);
  for (let m = 0; m < a.coefs.length; m++) {
    // toEqual on arrays of numbers compares with Object.is: bit-level equality up to NaN payloads.
    expect(Array.from(a.coefs[m]!)).toEqual(Array.from(b.coefs[m]!));
    expect(Array.from(a.intercepts[m]!)).toEqual(Array.from(b.intercepts[m]!));
  }
}

/**
 * Gaussian: with wasm the active-set cycles are naive (residual) updates, in JavaScript they use
 * the Gram block, so the two routes differ at the solver's tolerance: same penalties, same path
 * length, coefficients within 1e-6 (tol 1e-10 here).
 */
function expectCloseFit(a: PathFit, b: PathFit): void {
  expect(Array.from(a.lambdas)).toEqual(Array.from(b.lambdas));
  const pa = Math.max(...a.order) + 1;
  for (let m = 0; m < a.coefs.length; m++) {
    const wa = workingScale(a, pa, m);
    const wb = workingScale(b, pa, m);
    for (let j = 0; j < pa; j++) expect(Math.abs(wa[j]! - wb[j]!)).toBeLessThanOrEqual(1e-6);
  }
}

function jsSweeps<T>(f: () => T): T {
  process.env.OMICSELECTOR_NO_WASM_CD = '1';
  try {
    return f();
  } finally {
    delete process.env.OMICSELECTOR_NO_WASM_CD;
  }
}

describe('wasm coordinate-descent sweeps', () => {
  it('lives in the design memory (Node 20 has wasm SIMD)', () => {
    const x = wasmDesignBuffer(30 * 7, 37)!;
    expect(x).not.toBeNull();
    const w = cdWork(x, 30, 7);
    expect(w).not.toBeNull();
    expect(w!.r.buffer).toBe(x.buffer);
    expect(cdWork(new Float64Array(210), 30, 7)).toBeNull();
    expect(jsSweeps(() => cdWork(x, 30, 7))).toBeNull();
  });

  it.each([
    ['gaussian', 1, 41, 120, true],
    ['gaussian', 0.5, 40, 60, true],
    ['gaussian', 1, 37, 90, false],
    ['binomial', 1, 43, 150, true],
    ['binomial', 0.3, 40, 80, true],
    ['binomial', 1, 39, 70, false],
  ] as const)(
    '%s l1_ratio %s, n = %i, p = %i, standardize %s: matches the JavaScript sweeps',
    (family, l1, n, p, std) => {
      const { x, yc, yb } = data(n, p, n * p);
      const target: Target = family === 'gaussian' ? { family, y: yc } : { family, y: yb };
      const opts: ElnetOptions = {
        l1Ratio: l1,
        nLambda: 100,
        eps: 1e-3,
        standardize: std,
        intercept: true,
        control: { ...DEFAULT_CONTROL, tol: 1e-10 },
      };
      // One wasm design buffer for every fit here: a plain-array design would sum λ_max's
      // products (the KKT product) in another order.
      const buf = wasmDesignBuffer(n * p, n + p)!;
      const fast = fitElnet(x, n, p, null, target, opts, buf).fit;
      const plain = jsSweeps(() => fitElnet(x, n, p, null, target, opts, buf).fit);
      expect(fast.lambdas.length).toBeGreaterThan(5);
      expect(fast.order.length).toBeGreaterThan(3);
      const check = family === 'binomial' ? expectSameFit : expectCloseFit;
      check(fast, plain);
      // fixed penalties (the warm-start route for the Gaussian) too
      const fixed = { ...opts, warmTo: 0.05 };
      check(
        fitElnet(x, n, p, null, target, fixed, buf).fit,
        jsSweeps(() => fitElnet(x, n, p, null, target, fixed, buf).fit),
      );
    },
  );

  // Multinomial: class sweeps, curvatures, linear predictors and KKT products in wasm, the same
  // IEEE operations in the same order, so the path is bit-identical too.
  it.each([
    [1, 45, 50, true],
    [0.5, 41, 40, false],
  ] as const)(
    'multinomial l1_ratio %s, n = %i, p = %i, standardize %s: matches the JavaScript sweeps',
    (l1, n, p, std) => {
      const { x, yc } = data(n, p, n * p + 1);
      // three classes from the continuous score's terciles
      const sorted = Float64Array.from(yc).sort();
      const cut1 = sorted[Math.floor(n / 3)]!;
      const cut2 = sorted[Math.floor((2 * n) / 3)]!;
      const y = Float64Array.from(yc, v => (v < cut1 ? 0 : v < cut2 ? 1 : 2));
      const target: Target = { family: 'multinomial', y, nClasses: 3 };
      const opts: ElnetOptions = {
        l1Ratio: l1,
        nLambda: 100,
        eps: 1e-3,
        standardize: std,
        intercept: true,
        control: { ...DEFAULT_CONTROL, tol: 1e-8 },
      };
      const buf = wasmDesignBuffer(n * p, n + p)!;
      const fast = fitElnet(x, n, p, null, target, opts, buf).fit;
      const plain = jsSweeps(() => fitElnet(x, n, p, null, target, opts, buf).fit);
      expect(fast.lambdas.length).toBeGreaterThan(5);
      expect(fast.order.length).toBeGreaterThan(3);
      expectSameFit(fast, plain);
      const fixed = { ...opts, lambdas: [0.08, 0.04] };
      expectSameFit(
        fitElnet(x, n, p, null, target, fixed, buf).fit,
        jsSweeps(() => fitElnet(x, n, p, null, target, fixed, buf).fit),
      );
    },
  );
});
