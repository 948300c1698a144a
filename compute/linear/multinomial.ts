/**
 * Multinomial elastic net, glmnet's `lognetn` (type.multinomial = "ungrouped", Newton weights):
 *
 *     −1/n·Σᵢ log softmax(ηᵢ)[yᵢ] + λ·Σ_k ( l1_ratio·‖β_k‖₁ + (1 − l1_ratio)/2·‖β_k‖² )
 *
 * with one coefficient vector and intercept per class (the symmetric parametrisation, as glmnet
 * and scikit-learn's multinomial LogisticRegression). Classes are cycled: each class gets a
 * partial Newton step with the other classes fixed (weights p_ik(1 − p_ik)/n), then intercepts
 * are centred to sum 0 and every coefficient row is shifted by the constant that minimises its
 * penalty (the loss is invariant to that shift: glmnet's `elc`).
 */
import { checkAbort } from '../core/method';
import { makeKktAccel } from './accel';
import { type Design, dotCol, glmSweep, glmSweepWasm, newActiveSet, wssCol } from './design';
import { type CdWork, cdWork } from './simd';
import { type LambdaSpec } from './gaussian';
import { type CdControl, GLMNET, lambdaSequence, type PathFit } from './path';

export function multinomialPath(
  d: Design,
  labels: ArrayLike<number>,
  nc: number,
  l1Ratio: number,
  spec: LambdaSpec,
  ctl: CdControl,
): PathFit {
  const { n, p, x, usable } = d;
  const w = 1 / n;
  const pmin = GLMNET.pMin;
  const pmax = 1 - pmin;
  const emin = pmin / pmax;
  const emax = 1 / emin;
  const pfm = (1 + pmin) * pmin;
  const pfx = (1 - pmin) * pmax;
  const vmin = pfm * pmax;
  const exmx = GLMNET.maxExp;

  // b: (p + 1) × nc, column ic holds [intercept, β_1..β_p] of class ic.
  const b0 = new Float64Array(nc);
  const b = new Float64Array(p * nc);
  const bs = new Float64Array(p * nc);
  const bs0 = new Float64Array(nc);
  let dev1 = 0;
  const counts = new Float64Array(nc);
  for (let i = 0; i < n; i++) counts[labels[i]!]!++;
  for (let ic = 0; ic < nc; ic++) {
    const q0 = counts[ic]! * w;
    if (q0 <= pmin || q0 >= 1 - pmin) {
      throw new Error(`multinomial fit needs every class in the training rows (class ${ic})`);
    }
    if (d.intercept) {
      b0[ic] = Math.log(q0);
      dev1 -= q0 * b0[ic]!;
    }
  }
  if (!d.intercept) dev1 = Math.log(nc);
  let mean0 = 0;
  for (let ic = 0; ic < nc; ic++) mean0 += b0[ic]!;
  mean0 /= nc;
  for (let ic = 0; ic < nc; ic++) b0[ic] = b0[ic]! - mean0;
  // q(i, ic) = exp(η_ic) unnormalised; sxp(i) = Σ_ic q(i, ic).
  const q = new Float64Array(n * nc);
  const sxp = new Float64Array(n);
  for (let ic = 0; ic < nc; ic++) {
    const e = Math.exp(b0[ic]!);
    q.fill(e, ic * n, (ic + 1) * n);
    for (let i = 0; i < n; i++) sxp[i] = sxp[i]! + e;
  }
  const dev0 = dev1; // one-hot y: the saturated log-likelihood is 0
  const shr = ctl.tol * dev0;

  // r, v and η in the design's wasm memory when it has one: the class sweeps, curvatures and
  // linear predictors then run in wasm SIMD (bit-identical to the JavaScript loops).
  const work = cdWork(x, n, p);
  const r = work ? work.r : new Float64Array(n);
  const v = work ? work.v : new Float64Array(n);
  const ga = new Float64Array(p);
  const residual = (ic: number): void => {
    for (let i = 0; i < n; i++) {
      r[i] = w * ((labels[i] === ic ? 1 : 0) - q[ic * n + i]! / sxp[i]!);
    }
  };
  for (let ic = 0; ic < nc; ic++) {
    residual(ic);
    for (let j = 0; j < p; j++) {
      if (usable[j]) ga[j] = Math.max(ga[j]!, Math.abs(dotCol(x, j * n, r, n)));
    }
  }
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
  const rAll = new Float64Array(nc * n);
  const accel = ctl.accel === false ? null : makeKktAccel(x, n, p);
  try {
    const xv = new Float64Array(p * nc);
    const strong = new Uint8Array(p);
    const active = newActiveSet(p);
    const order = active.order;
    const di = new Float64Array(n);
    const eta = work ? work.eta : new Float64Array(n);
    const rowBuf = new Float64Array(nc);
    const sortBuf = new Float64Array(nc);
    let passes = 0;
    let converged = true;
    const coefs: Float64Array[] = [];
    const intercepts: Float64Array[] = [];
    const devRatio: number[] = [];
    const fitted: number[] = [];
    let al0 = 0;
    let xmz: number;

    path: for (let m = 0; m < nLam; m++) {
      checkAbort(ctl.signal);
      const al = lambdas[m]!;
      let anyClass = true;
      if (!(auto && m === 0)) {
        const al1 = al * l1Ratio;
        const al2 = al * (1 - l1Ratio);
        const tlam = l1Ratio * (2 * al - al0);
        for (let k = 0; k < p; k++) if (!strong[k] && usable[k] && ga[k]! > tlam) strong[k] = 1;
        for (;;) {
          if (passes > ctl.maxIter) {
            converged = false;
            break path;
          }
          checkAbort(ctl.signal);
          let moved = false;
          anyClass = false;
          for (let ic = 0; ic < nc; ic++) {
            bs0[ic] = b0[ic]!;
            for (let l = 0; l < active.nin; l++) bs[ic * p + order[l]!] = b[ic * p + order[l]!]!;
            xmz = 0;
            for (let i = 0; i < n; i++) {
              let pic = q[ic * n + i]! / sxp[i]!;
              if (pic < pfm) {
                pic = 0;
                v[i] = 0;
              } else if (pic > pfx) {
                pic = 1;
                v[i] = 0;
              } else {
                v[i] = w * pic * (1 - pic);
                xmz += v[i]!;
              }
              r[i] = w * ((labels[i] === ic ? 1 : 0) - pic);
            }
            if (xmz <= vmin) continue;
            anyClass = true;
            if (work) strongCurvatures(work, p, strong, xv, ic * p);
            else for (let j = 0; j < p; j++) if (strong[j]) xv[ic * p + j] = wssCol(x, j * n, v, n);
            for (;;) {
              passes++;
              const dlx = work
                ? glmSweepWasm(
                    work,
                    n,
                    p,
                    b,
                    xv,
                    ic * p,
                    strong,
                    active,
                    false,
                    al1,
                    al2,
                    b0,
                    ic,
                    xmz,
                    d.intercept,
                  )
                : glmSweep(
                    x,
                    n,
                    p,
                    r,
                    v,
                    b,
                    xv,
                    ic * p,
                    strong,
                    active,
                    false,
                    al1,
                    al2,
                    b0,
                    ic,
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
                const dla = work
                  ? glmSweepWasm(
                      work,
                      n,
                      p,
                      b,
                      xv,
                      ic * p,
                      strong,
                      active,
                      true,
                      al1,
                      al2,
                      b0,
                      ic,
                      xmz,
                      d.intercept,
                    )
                  : glmSweep(
                      x,
                      n,
                      p,
                      r,
                      v,
                      b,
                      xv,
                      ic * p,
                      strong,
                      active,
                      true,
                      al1,
                      al2,
                      b0,
                      ic,
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
            if (xmz * (b0[ic]! - bs0[ic]!) ** 2 > shr) moved = true;
            if (!moved) {
              for (let l = 0; l < active.nin; l++) {
                const k = ic * p + order[l]!;
                if (xv[k]! * (b[k]! - bs[k]!) ** 2 > shr) {
                  moved = true;
                  break;
                }
              }
            }
            // Update class ic's unnormalised probabilities.
            eta.fill(b0[ic]!);
            if (work) activePredictor(work, b, ic * p, active.nin, order);
            else {
              for (let l = 0; l < active.nin; l++) {
                const k = order[l]!;
                const bk = b[ic * p + k]!;
                if (bk === 0) continue;
                const off = k * n;
                for (let i = 0; i < n; i++) eta[i] = eta[i]! + bk * x[off + i]!;
              }
            }
            for (let i = 0; i < n; i++) {
              const fi = Math.min(Math.max(-exmx, eta[i]!), exmx);
              const s = sxp[i]! - q[ic * n + i]!;
              const qi = Math.min(Math.max(emin * s, Math.exp(fi)), emax * s);
              q[ic * n + i] = qi;
              sxp[i] = s + qi;
            }
          }
          // Centre intercepts and shift each coefficient row to its penalty minimiser.
          let s0 = 0;
          for (let ic = 0; ic < nc; ic++) s0 += b0[ic]!;
          s0 = -s0 / nc;
          for (let ic = 0; ic < nc; ic++) b0[ic] = b0[ic]! + s0;
          di.fill(s0);
          for (let l = 0; l < active.nin; l++) {
            const k = order[l]!;
            for (let ic = 0; ic < nc; ic++) rowBuf[ic] = b[ic * p + k]!;
            const s = penaltyCentre(rowBuf, l1Ratio, sortBuf);
            if (s === 0) continue;
            for (let ic = 0; ic < nc; ic++) b[ic * p + k] = b[ic * p + k]! - s;
            const off = k * n;
            for (let i = 0; i < n; i++) di[i] = di[i]! - s * x[off + i]!;
          }
          for (let i = 0; i < n; i++) {
            const e = Math.exp(di[i]!);
            sxp[i] = sxp[i]! * e;
            for (let ic = 0; ic < nc; ic++) q[ic * n + i] = q[ic * n + i]! * e;
          }
          if (!anyClass) break;
          if (moved) continue;
          // Converged for every class: KKT check outside the strong set (max over classes).
          if (accel) {
            // Upper bounds from the tensor backend; exact max over classes only where they reach al1.
            for (let ic = 0; ic < nc; ic++) {
              residual(ic);
              rAll.set(r, ic * n);
            }
            accel.absXtrUpper(rAll, nc, 1, xnorm, ga);
            for (let k = 0; k < p; k++) {
              if (strong[k] || !usable[k] || ga[k]! <= al1) continue;
              let gk = 0;
              for (let ic = 0; ic < nc; ic++) {
                gk = Math.max(
                  gk,
                  Math.abs(dotCol(x, k * n, rAll.subarray(ic * n, (ic + 1) * n), n)),
                );
              }
              ga[k] = gk;
            }
          } else {
            for (let k = 0; k < p; k++) if (!strong[k] && usable[k]) ga[k] = 0;
            for (let ic = 0; ic < nc; ic++) {
              residual(ic);
              if (work) {
                outsideDots(work, p, strong, usable, ga);
                continue;
              }
              for (let k = 0; k < p; k++) {
                if (strong[k] || !usable[k]) continue;
                const gk = Math.abs(dotCol(x, k * n, r, n));
                if (gk > ga[k]!) ga[k] = gk;
              }
            }
          }
          let violated = false;
          for (let k = 0; k < p; k++) {
            if (strong[k] || !usable[k]) continue;
            if (ga[k]! > al1) {
              strong[k] = 1;
              violated = true;
            }
          }
          if (!violated) break;
        }
      }
      const c = new Float64Array(active.nin * nc);
      let me = 0;
      for (let l = 0; l < active.nin; l++) {
        let nz = false;
        for (let ic = 0; ic < nc; ic++) {
          const val = b[ic * p + order[l]!]!;
          c[ic * active.nin + l] = val;
          if (val !== 0) nz = true;
        }
        if (nz) me++;
      }
      coefs.push(c);
      intercepts.push(Float64Array.from(b0));
      fitted.push(al);
      let devi = 0;
      for (let i = 0; i < n; i++) devi -= w * Math.log(q[labels[i]! * n + i]! / sxp[i]!);
      const dr = (dev1 - devi) / dev0;
      devRatio.push(dr);
      ctl.onLambda?.(m + 1, nLam);
      al0 = al;
      if (!anyClass) break;
      if (me > ctl.dfMax) break;
      if (auto && ctl.earlyStop && m + 1 >= Math.min(GLMNET.minLambdas, nLam)) {
        if (dr > GLMNET.devMax) break;
        if (devRatio.length > 1 && dr - devRatio[devRatio.length - 2]! < GLMNET.sml) break;
      }
    }
    return {
      family: 'multinomial',
      nClasses: nc,
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

/** xv[off + j] = Σ v_i·x_ij² for the strong set, in wasm (bit-identical to wssCol). */
function strongCurvatures(
  work: CdWork,
  p: number,
  strong: Uint8Array,
  xv: Float64Array,
  off: number,
): void {
  const list = work.list;
  let t = 0;
  for (let j = 0; j < p; j++) if (strong[j]) list[t++] = j;
  work.wss(t);
  const out = work.bc;
  for (let u = 0; u < t; u++) xv[off + list[u]!] = out[u]!;
}

/** work.eta += Σ_l b[off + k_l]·x_{k_l} over the active list in entry order (wasm). */
function activePredictor(
  work: CdWork,
  b: Float64Array,
  off: number,
  nin: number,
  order: Int32Array,
): void {
  const { list, bc } = work;
  for (let l = 0; l < nin; l++) {
    const k = order[l]!;
    list[l] = k;
    bc[l] = b[off + k]!;
  }
  work.axpyEta(nin);
}

/** ga_k = max(ga_k, |x_kᵀr|) outside the strong set, r = work.r (wasm, same bits as |dotCol|). */
function outsideDots(
  work: CdWork,
  p: number,
  strong: Uint8Array,
  usable: Uint8Array,
  ga: Float64Array,
): void {
  const list = work.list;
  let t = 0;
  for (let k = 0; k < p; k++) if (!strong[k] && usable[k]) list[t++] = k;
  work.dots(t);
  const out = work.bc;
  for (let u = 0; u < t; u++) {
    const k = list[u]!;
    if (out[u]! > ga[k]!) ga[k] = out[u]!;
  }
}

/**
 * The shift c minimising Σ_k [α·|a_k − c| + (1 − α)/2·(a_k − c)²] (glmnet `elc`): the mean for
 * ridge, the median for the lasso (mean of the middle two for an even count), in between
 * otherwise. Two classes: the mean (the l1 part is flat between them). `scratch` (length ≥ k)
 * avoids an allocation per call in the solver's outer loop.
 */
export function penaltyCentre(
  a: Float64Array,
  alpha: number,
  scratch: Float64Array = new Float64Array(a.length),
): number {
  const k = a.length;
  let mean = 0;
  for (let i = 0; i < k; i++) mean += a[i]!;
  mean /= k;
  if (alpha === 0 || k === 2) return mean;
  const s = scratch.subarray(0, k);
  s.set(a);
  s.sort();
  if (s[0] === s[k - 1]) return s[0]!;
  const median = k % 2 === 1 ? s[(k - 1) / 2]! : 0.5 * (s[k / 2]! + s[k / 2 - 1]!);
  if (alpha === 1) return median;
  // Stationarity: c = mean + α/((1 − α)k)·Σ sign(a_k − c). Try each open interval between sorted
  // values (m of them below c), then each breakpoint, and keep the smallest penalty.
  const ratio = alpha / ((1 - alpha) * k);
  let best = median;
  let bestF = centrePenalty(a, median, alpha);
  for (let m = 0; m <= k; m++) {
    const c = mean - ratio * (m - (k - m));
    const lo = m === 0 ? -Infinity : s[m - 1]!;
    const hi = m === k ? Infinity : s[m]!;
    if (c > lo && c < hi) {
      const fc = centrePenalty(a, c, alpha);
      if (fc < bestF) {
        best = c;
        bestF = fc;
      }
    }
  }
  for (let i = 0; i < k; i++) {
    const fc = centrePenalty(a, s[i]!, alpha);
    if (fc < bestF) {
      best = s[i]!;
      bestF = fc;
    }
  }
  return best;
}

function centrePenalty(a: Float64Array, c: number, alpha: number): number {
  let t = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - c;
    t += alpha * Math.abs(d) + 0.5 * (1 - alpha) * d * d;
  }
  return t;
}
