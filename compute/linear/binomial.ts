/**
 * Binomial (logistic) elastic net, glmnet's `lognet2n` with Newton (exact IRLS) weights:
 *
 *     −1/n·Σ [yᵢ·ηᵢ − log(1 + e^ηᵢ)] + λ·( l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖² ),  η = β0 + X̃β
 *
 * Outer loop: quadratic approximation at the current fit (weights vᵢ = pᵢ(1 − pᵢ)/n, working
 * residual rᵢ = (yᵢ − pᵢ)/n). Inner loop: weighted CD with the intercept updated after each
 * sweep, the same strong-set / active-set / KKT structure as the Gaussian solver. Convergence:
 * max xv_j·Δβ_j² < tol × null deviance, both within a quadratic approximation and between
 * successive approximations (glmnet's `shr`).
 */
import { checkAbort } from '../core/method';
import { makeKktAccel } from './accel';
import { absDotAll, type Design, dotCol, glmSweep, newActiveSet, wssCol } from './design';
import { type LambdaSpec } from './gaussian';
import { type CdControl, GLMNET, lambdaSequence, type PathFit } from './path';

export function binomialPath(
  d: Design,
  y: ArrayLike<number>,
  l1Ratio: number,
  spec: LambdaSpec,
  ctl: CdControl,
): PathFit {
  const { n, p, x, usable } = d;
  const w = 1 / n;
  const pmin = GLMNET.pMin;
  const fmax = Math.log(1 / pmin - 1);
  const fmin = -fmax;
  const vmin = (1 + pmin) * pmin * (1 - pmin);
  let q0 = 0;
  for (let i = 0; i < n; i++) q0 += y[i]!;
  q0 *= w;
  if (q0 <= pmin || q0 >= 1 - pmin) {
    throw new Error('binomial fit needs both classes in the training rows');
  }
  if (!d.intercept) q0 = 0.5;
  const bz = d.intercept ? Math.log(q0 / (1 - q0)) : 0;
  const vi = q0 * (1 - q0);
  const v = new Float64Array(n).fill(vi * w);
  const r = new Float64Array(n);
  const q = new Float64Array(n).fill(q0);
  const eta = new Float64Array(n).fill(bz);
  for (let i = 0; i < n; i++) r[i] = w * (y[i]! - q0);
  let xmz = vi;
  const dev1 = -(bz * q0 + Math.log(1 - q0));
  const dev0 = dev1; // y ∈ {0, 1}: the saturated log-likelihood is 0
  const shr = ctl.tol * dev0;

  const ga = new Float64Array(p);
  for (let j = 0; j < p; j++) if (usable[j]) ga[j] = Math.abs(dotCol(x, j * n, r, n));
  const auto = 'nLambda' in spec;
  let lambdas: Float64Array;
  if (auto) {
    let gmax = 0;
    for (let j = 0; j < p; j++) if (usable[j] && ga[j]! > gmax) gmax = ga[j]!;
    lambdas = lambdaSequence(gmax / Math.max(l1Ratio, GLMNET.minL1Ratio), spec.nLambda, spec.eps);
  } else {
    // A `warmTo` target is fitted cold here: warm steps did not pay off for the GLM families
    // (measured on the stability-selection workload), unlike the Gaussian.
    lambdas = 'values' in spec ? Float64Array.from(spec.values) : Float64Array.of(spec.warmTo);
  }
  const nLam = lambdas.length;

  const xnorm = new Float64Array(p);
  for (let j = 0; j < p; j++) xnorm[j] = Math.sqrt(n * d.xv[j]!);
  const accel = ctl.accel === false ? null : makeKktAccel(x, n, p);
  try {
    const b = new Float64Array(p);
    const b0 = Float64Array.of(bz);
    const bs = new Float64Array(p);
    const xv = new Float64Array(p);
    const strong = new Uint8Array(p);
    const active = newActiveSet(p);
    const order = active.order;
    let passes = 0;
    let converged = true;
    const coefs: Float64Array[] = [];
    const intercepts: Float64Array[] = [];
    const devRatio: number[] = [];
    const fitted: number[] = [];
    let al0 = 0;

    path: for (let m = 0; m < nLam; m++) {
      checkAbort(ctl.signal);
      const al = lambdas[m]!;
      let saturated = false;
      if (!(auto && m === 0)) {
        const al1 = al * l1Ratio;
        const al2 = al * (1 - l1Ratio);
        const tlam = l1Ratio * (2 * al - al0);
        for (let k = 0; k < p; k++) if (!strong[k] && usable[k] && ga[k]! > tlam) strong[k] = 1;
        outer: for (;;) {
          // New quadratic approximation.
          if (passes > ctl.maxIter) {
            converged = false;
            break path;
          }
          checkAbort(ctl.signal);
          const bs0 = b0[0]!;
          for (let l = 0; l < active.nin; l++) bs[order[l]!] = b[order[l]!]!;
          for (let j = 0; j < p; j++) if (strong[j]) xv[j] = wssCol(x, j * n, v, n);
          for (;;) {
            passes++;
            const dlx = glmSweep(
              x,
              n,
              p,
              r,
              v,
              b,
              xv,
              0,
              strong,
              active,
              false,
              al1,
              al2,
              b0,
              0,
              xmz,
              d.intercept,
            );
            if (dlx < shr) break;
            if (passes > ctl.maxIter) {
              converged = false;
              break path;
            }
            for (;;) {
              passes++;
              const dla = glmSweep(
                x,
                n,
                p,
                r,
                v,
                b,
                xv,
                0,
                strong,
                active,
                true,
                al1,
                al2,
                b0,
                0,
                xmz,
                d.intercept,
              );
              if (dla < shr) break;
              if (passes > ctl.maxIter) {
                converged = false;
                break path;
              }
            }
          }
          // Refresh probabilities, weights and residuals at the new coefficients.
          eta.fill(b0[0]!);
          for (let l = 0; l < active.nin; l++) {
            const k = order[l]!;
            const bk = b[k]!;
            if (bk === 0) continue;
            const off = k * n;
            for (let i = 0; i < n; i++) eta[i] = eta[i]! + bk * x[off + i]!;
          }
          xmz = 0;
          for (let i = 0; i < n; i++) {
            const fi = eta[i]!;
            const qi = fi < fmin ? 0 : fi > fmax ? 1 : 1 / (1 + Math.exp(-fi));
            q[i] = qi;
            v[i] = w * qi * (1 - qi);
            xmz += v[i]!;
            r[i] = w * (y[i]! - qi);
          }
          if (xmz <= vmin) {
            saturated = true;
            break outer;
          }
          if (xmz * (b0[0]! - bs0) * (b0[0]! - bs0) >= shr) continue;
          let moved = false;
          for (let l = 0; l < active.nin; l++) {
            const k = order[l]!;
            const dk = b[k]! - bs[k]!;
            if (xv[k]! * dk * dk >= shr) {
              moved = true;
              break;
            }
          }
          if (moved) continue;
          // Converged: KKT check of the features outside the strong set.
          let violated = false;
          // One blocked product over all columns (wasm SIMD when the design lives in wasm memory)
          // is cheaper than a dot product per feature outside the strong set.
          if (accel) accel.absXtrUpper(r, 1, 1, xnorm, ga);
          else absDotAll(x, n, p, r, 1, ga);
          for (let k = 0; k < p; k++) {
            if (strong[k] || !usable[k]) continue;
            // With the tensor backend ga holds exact upper bounds: recheck those above al1.
            if (accel) {
              if (ga[k]! <= al1) continue;
              ga[k] = Math.abs(dotCol(x, k * n, r, n));
            }
            if (ga[k]! > al1) {
              strong[k] = 1;
              violated = true;
            }
          }
          if (!violated) break;
        }
      }
      const c = new Float64Array(active.nin);
      let me = 0;
      for (let l = 0; l < active.nin; l++) {
        c[l] = b[order[l]!]!;
        if (c[l] !== 0) me++;
      }
      coefs.push(c);
      intercepts.push(Float64Array.from(b0));
      fitted.push(al);
      const devi = binomialDeviance(y, q, w, pmin);
      const dr = (dev1 - devi) / dev0;
      devRatio.push(dr);
      ctl.onLambda?.(m + 1, nLam);
      al0 = al;
      if (saturated) break;
      if (me > ctl.dfMax) break;
      if (auto && ctl.earlyStop && m + 1 >= Math.min(GLMNET.minLambdas, nLam)) {
        if (dr > GLMNET.devMax) break;
        if (devRatio.length > 1 && dr - devRatio[devRatio.length - 2]! < GLMNET.sml) break;
      }
    }
    return {
      family: 'binomial',
      nClasses: 1,
      lambdas: Float64Array.from(fitted),
      order: order.slice(0, active.nin),
      coefs,
      intercepts,
      devRatio: Float64Array.from(devRatio),
      nullDev: dev0,
      passes,
      converged,
    };
  } finally {
    accel?.dispose();
  }
}

/** Mean negative log-likelihood with probabilities clipped to [pmin, 1 − pmin] (glmnet dev2). */
function binomialDeviance(y: ArrayLike<number>, q: Float64Array, w: number, pmin: number): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) {
    const pi = Math.min(Math.max(pmin, q[i]!), 1 - pmin);
    s -= w * (y[i]! * Math.log(pi) + (1 - y[i]!) * Math.log(1 - pi));
  }
  return s;
}
