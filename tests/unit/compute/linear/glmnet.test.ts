/**
 * Float64 coordinate-descent paths against R glmnet 4.1 (scripts/fixtures/linear_glmnet.R).
 *
 * Tolerances:
 * - coefficients (original scale, incl. intercept) at fixed λ: |Δ| ≤ 1e-4 (observed ≤ 2e-5;
 *   binomial / multinomial agree to ~1e-13 because both run the same naive algorithm);
 * - automatic path: same λ values (relative 1e-10) and same length (glmnet's early end);
 *   coefficients at stored path points |Δ| ≤ 1e-4, except the Gaussian p ≫ n tail (deviance ratio
 *   > 0.99, nearly interpolating) where the solution is ill-conditioned and glmnet's covariance
 *   algorithm stops at thresh 1e-12: there our penalised objective must be ≤ glmnet's (+1e-8
 *   relative) instead;
 * - CV (same foldid): lambda.min identical, lambda.1se identical for the lasso, and the selected
 *   sets at both rules Jaccard ≥ 0.8 with cv.glmnet's. Gaussian elastic net (l1_ratio < 1) is
 *   not compared point by point: glmnet rescales each fold's y to unit variance, which changes its
 *   elastic-net objective per fold (documented in the README).
 */
import { cvElnet } from '../../../../compute/linear/cv';
import { fitElnet, type Target } from '../../../../compute/linear/elnet';
import { DEFAULT_CONTROL, originalScale, workingScale } from '../../../../compute/linear/path';
import { columnMajor, type GlmnetCase, jaccard, loadGolden } from './golden';

const COEF_TOL = 1e-4;
const LAMBDA_RTOL = 1e-10;
const OBJ_RTOL = 1e-8;
const JACCARD_MIN = 0.8;
/** glmnet ran with thresh 1e-12; CV uses 1e-9 (selections only) to keep the suite fast. */
const CONTROL = { ...DEFAULT_CONTROL, tol: 1e-12, maxIter: 1e7 };
const CV_CONTROL = { ...CONTROL, tol: 1e-9 };
const CASES = [
  'gaussian',
  'gaussian_wide',
  'binomial',
  'binomial_wide',
  'multinomial',
  'multinomial_wide',
];

function setup(name: string) {
  const g = loadGolden<GlmnetCase>(`glmnet_${name}.json`);
  const n = g.n[0]!;
  const p = g.p[0]!;
  const data = columnMajor(g.x);
  const target = (
    g.family === 'multinomial'
      ? { family: 'multinomial', y: g.y, nClasses: g.classes!.length }
      : { family: g.family, y: g.y }
  ) as Target;
  return { g, n, p, data, target };
}

/** Penalised Gaussian objective on the original scale (population-sd standardisation). */
function gaussianObjective(
  data: Float64Array,
  y: number[],
  n: number,
  p: number,
  beta: (j: number) => number,
  b0: number,
  lambda: number,
  l1Ratio: number,
): number {
  let loss = 0;
  const eta = new Float64Array(n).fill(b0);
  let pen = 0;
  for (let j = 0; j < p; j++) {
    const b = beta(j);
    let m = 0;
    for (let i = 0; i < n; i++) m += data[j * n + i]!;
    m /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      eta[i] += b * data[j * n + i]!;
      ss += (data[j * n + i]! - m) ** 2;
    }
    const bs = b * Math.sqrt(ss / n);
    pen += l1Ratio * Math.abs(bs) + ((1 - l1Ratio) / 2) * bs * bs;
  }
  for (let i = 0; i < n; i++) loss += (y[i]! - eta[i]!) ** 2;
  return loss / (2 * n) + lambda * pen;
}

describe.each(CASES)('glmnet %s', name => {
  const { g, n, p, data, target } = setup(name);

  test.each(g.fits.map(f => [f.l1_ratio[0]!, f] as const))(
    'coefficients at fixed lambdas, l1_ratio %s',
    (l1Ratio, f) => {
      const res = fitElnet(data, n, p, null, target, {
        l1Ratio,
        lambdas: f.fixed_lambda,
        nLambda: 100,
        eps: 1e-3,
        standardize: true,
        intercept: true,
        control: CONTROL,
      });
      expect(res.fit.lambdas.length).toBe(f.fixed_lambda.length);
      for (let m = 0; m < f.fixed_lambda.length; m++) {
        const { beta, intercept } = originalScale(res.fit, res.scale, m);
        f.fixed_coef.forEach((ref, c) => {
          expect(Math.abs(intercept[c]! - ref[0]![m]!)).toBeLessThanOrEqual(COEF_TOL);
          for (let j = 0; j < p; j++) {
            expect(Math.abs(beta[c * p + j]! - ref[j + 1]![m]!)).toBeLessThanOrEqual(COEF_TOL);
          }
        });
      }
    },
  );

  test.each(g.fits.map(f => [f.l1_ratio[0]!, f] as const))(
    'automatic path, l1_ratio %s',
    (l1Ratio, f) => {
      const res = fitElnet(data, n, p, null, target, {
        l1Ratio,
        nLambda: 100,
        eps: 1e-3,
        standardize: true,
        intercept: true,
        control: CONTROL,
      });
      expect(res.fit.converged).toBe(true);
      expect(res.fit.lambdas.length).toBe(f.path_lambda.length);
      f.path_lambda.forEach((l, m) => {
        expect(Math.abs(res.fit.lambdas[m]! - l)).toBeLessThanOrEqual(LAMBDA_RTOL * l);
      });
      f.path_index.forEach((m, col) => {
        const { beta, intercept } = originalScale(res.fit, res.scale, m);
        const tail = g.family === 'gaussian' && f.path_dev_ratio[m]! > 0.99;
        if (tail) {
          const ours = gaussianObjective(
            data,
            g.y,
            n,
            p,
            j => beta[j]!,
            intercept[0]!,
            f.path_lambda[m]!,
            l1Ratio,
          );
          const ref = gaussianObjective(
            data,
            g.y,
            n,
            p,
            j => f.path_coef[0]![j + 1]![col]!,
            f.path_coef[0]![0]![col]!,
            f.path_lambda[m]!,
            l1Ratio,
          );
          expect(ours).toBeLessThanOrEqual(ref * (1 + OBJ_RTOL));
          return;
        }
        f.path_coef.forEach((ref, c) => {
          expect(Math.abs(intercept[c]! - ref[0]![col]!)).toBeLessThanOrEqual(COEF_TOL);
          for (let j = 0; j < p; j++) {
            expect(Math.abs(beta[c * p + j]! - ref[j + 1]![col]!)).toBeLessThanOrEqual(COEF_TOL);
          }
        });
      });
    },
  );

  test.each(g.fits.map(f => [f.l1_ratio[0]!, f] as const))(
    'cv.glmnet selections with the same folds, l1_ratio %s',
    async (l1Ratio, f) => {
      const { full, curve } = await cvElnet(
        data,
        n,
        p,
        target,
        {
          l1Ratio,
          nLambda: 100,
          eps: 1e-3,
          standardize: true,
          intercept: true,
          control: CV_CONTROL,
        },
        Int32Array.from(g.foldid),
      );
      const selected = (m: number): number[] => {
        const b = workingScale(full.fit, p, m);
        const out: number[] = [];
        for (let j = 0; j < p; j++) {
          for (let c = 0; c < full.fit.nClasses; c++) {
            if (b[c * p + j] !== 0) {
              out.push(j);
              break;
            }
          }
        }
        return out;
      };
      const lmin = curve.lambdas[curve.indexMin]!;
      expect(Math.abs(lmin - f.lambda_min[0]!)).toBeLessThanOrEqual(LAMBDA_RTOL * lmin);
      if (l1Ratio === 1 || g.family !== 'gaussian') {
        const l1se = curve.lambdas[curve.index1se]!;
        expect(Math.abs(l1se - f.lambda_1se[0]!)).toBeLessThanOrEqual(LAMBDA_RTOL * l1se);
      }
      expect(jaccard(selected(curve.indexMin), f.selected_min)).toBeGreaterThanOrEqual(JACCARD_MIN);
      expect(jaccard(selected(curve.index1se), f.selected_1se)).toBeGreaterThanOrEqual(JACCARD_MIN);
    },
  );
});
