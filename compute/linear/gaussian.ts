/**
 * Gaussian elastic net by coordinate descent, glmnet's "naive" algorithm (Friedman, Hastie &
 * Tibshirani 2010; Tibshirani et al. 2012 for the strong rules), minimising
 *
 *     1/(2n)·‖y − β0 − X̃β‖² + λ·( l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖² )
 *
 * over a decreasing λ sequence with warm starts. Per λ: sequential strong rule → sweeps over the
 * strong set → cycles over the active set until converged → full strong sweep → KKT check of the
 * remaining features (violators join the strong set and the loop repeats).
 *
 * Unlike glmnet we do not rescale y to unit variance: for l1_ratio < 1 glmnet's documented
 * objective only holds on standardised y, ours holds for any y (as scikit-learn's ElasticNet).
 */
import { checkAbort } from '../core/method';
import { axpyCol, type Design, dotCol } from './design';
import { type CdControl, GLMNET, lambdaSequence, type PathFit } from './path';

export type LambdaSpec = { nLambda: number; eps: number } | { values: ArrayLike<number> };

export function gaussianPath(
  d: Design,
  y: ArrayLike<number>,
  l1Ratio: number,
  spec: LambdaSpec,
  ctl: CdControl,
): PathFit {
  const { n, p, x, xv, usable } = d;
  let ym = 0;
  if (d.intercept) {
    for (let i = 0; i < n; i++) ym += y[i]!;
    ym /= n;
  }
  const r = new Float64Array(n);
  let vary = 0;
  for (let i = 0; i < n; i++) {
    r[i] = y[i]! - ym;
    vary += r[i]! * r[i]!;
  }
  vary /= n;
  const invN = 1 / n;
  const thr = ctl.tol * (vary > 0 ? vary : 1);
  const g = new Float64Array(p);
  for (let j = 0; j < p; j++) if (usable[j]) g[j] = Math.abs(dotCol(x, j * n, r, n)) * invN;

  const auto = 'nLambda' in spec;
  let lambdas: Float64Array;
  if (auto) {
    let gmax = 0;
    for (let j = 0; j < p; j++) if (usable[j] && g[j]! > gmax) gmax = g[j]!;
    const lmax = gmax / Math.max(l1Ratio, GLMNET.minL1Ratio);
    lambdas = lambdaSequence(lmax, spec.nLambda, spec.eps);
  } else {
    lambdas = Float64Array.from(spec.values);
  }
  const nLam = lambdas.length;

  const a = new Float64Array(p);
  const strong = new Uint8Array(p);
  const pos = new Int32Array(p); // 1 + index in `order`, 0 = never active
  const order = new Int32Array(p);
  let nin = 0;
  let passes = 0;
  let rsq = 0;
  let converged = true;
  const coefs: Float64Array[] = [];
  const devRatio: number[] = [];
  const fitted: number[] = [];
  let alm0 = 0;

  path: for (let m = 0; m < nLam; m++) {
    checkAbort(ctl.signal);
    const alm = lambdas[m]!;
    const rsq0 = rsq;
    // glmnet reports λ_max as the first point of an automatic path with the all-zero solution
    // (it fits at "infinity"), which is exact for l1_ratio > 0.
    if (!(auto && m === 0)) {
      const ab = alm * l1Ratio;
      const dem = alm * (1 - l1Ratio);
      const tlam = l1Ratio * (2 * alm - alm0);
      for (let k = 0; k < p; k++) if (!strong[k] && usable[k] && g[k]! > tlam) strong[k] = 1;
      for (;;) {
        // Sweep the strong set (features may enter the active list here).
        if (++passes > ctl.maxIter) {
          converged = false;
          break path;
        }
        let dlx = 0;
        for (let k = 0; k < p; k++) {
          if (!strong[k]) continue;
          const off = k * n;
          const gk = dotCol(x, off, r, n) * invN;
          const ak = a[k]!;
          const xk = xv[k]!;
          const u = gk + ak * xk;
          const v = Math.abs(u) - ab;
          const anew = v > 0 ? (u > 0 ? v : -v) / (xk + dem) : 0;
          if (anew === ak) continue;
          a[k] = anew;
          if (pos[k] === 0) {
            order[nin] = k;
            pos[k] = ++nin;
          }
          const del = anew - ak;
          rsq += del * (2 * gk - del * xk);
          axpyCol(x, off, del, r, n);
          const dd = xk * del * del;
          if (dd > dlx) dlx = dd;
        }
        if (dlx < thr) {
          // Converged on the strong set: KKT check of everything else.
          let violated = false;
          for (let k = 0; k < p; k++) {
            if (strong[k] || !usable[k]) continue;
            g[k] = Math.abs(dotCol(x, k * n, r, n)) * invN;
            if (g[k]! > ab) {
              strong[k] = 1;
              violated = true;
            }
          }
          if (!violated) break;
          continue;
        }
        // Cycle over the active set only until it converges, then sweep the strong set again.
        for (;;) {
          if (++passes > ctl.maxIter) {
            converged = false;
            break path;
          }
          if ((passes & 255) === 0) checkAbort(ctl.signal);
          let dla = 0;
          for (let l = 0; l < nin; l++) {
            const k = order[l]!;
            const off = k * n;
            const gk = dotCol(x, off, r, n) * invN;
            const ak = a[k]!;
            const xk = xv[k]!;
            const u = gk + ak * xk;
            const v = Math.abs(u) - ab;
            const anew = v > 0 ? (u > 0 ? v : -v) / (xk + dem) : 0;
            if (anew === ak) continue;
            a[k] = anew;
            const del = anew - ak;
            rsq += del * (2 * gk - del * xk);
            axpyCol(x, off, del, r, n);
            const dd = xk * del * del;
            if (dd > dla) dla = dd;
          }
          if (dla < thr) break;
        }
      }
    }
    const c = new Float64Array(nin);
    let me = 0;
    for (let l = 0; l < nin; l++) {
      c[l] = a[order[l]!]!;
      if (c[l] !== 0) me++;
    }
    coefs.push(c);
    fitted.push(alm);
    const dr = vary > 0 ? rsq / vary : 0;
    devRatio.push(dr);
    ctl.onLambda?.(m + 1, nLam);
    alm0 = alm;
    if (me > ctl.dfMax) break;
    if (auto && ctl.earlyStop && m + 1 >= Math.min(GLMNET.minLambdas, nLam)) {
      if (rsq - rsq0 < GLMNET.sml * rsq) break;
      if (dr > GLMNET.devMax) break;
    }
  }
  return {
    family: 'gaussian',
    nClasses: 1,
    lambdas: Float64Array.from(fitted),
    order: order.slice(0, nin),
    coefs,
    intercepts: coefs.map(() => Float64Array.of(ym)),
    devRatio: Float64Array.from(devRatio),
    nullDev: vary,
    passes,
    converged,
  };
}
