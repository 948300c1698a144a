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
import { type KktAccel, makeKktAccel } from './accel';
import { absDotAll, axpyCol, type Design, dotCol } from './design';
import { type CdControl, GLMNET, lambdaSequence, type PathFit } from './path';
import { type CdWork, cdWork } from './simd';

/**
 * Penalties to fit: an automatic path (nLambda values down to eps·λ_max), given values (largest
 * first), or `warmTo`: one target penalty reached by a short warm-start path from λ_max in
 * geometric steps of ratio ≥ `ratio` (the last point is exactly `warmTo`). glmnet advises against
 * a single cold λ: from β = 0 at a small λ the strong set is large and every sweep over it costs
 * O(n) per feature; a few warm steps keep it small (measured 2–3× faster for a Gaussian lasso
 * fit at 10% of λ_max on 100 × 2,000). The optimum is the same; only the route to it changes.
 */
export type LambdaSpec =
  | { nLambda: number; eps: number }
  | { values: ArrayLike<number> }
  | { warmTo: number; ratio: number };

/**
 * Convergence threshold factor for the intermediate points of a warm-start route (the target
 * itself is solved to `tol`). They only supply the warm start and the strong set; solving them
 * fully was a third of the CD passes of a stability-selection fit (100 × 2,000, 0.1·λ_max: 91 →
 * 60 passes), and the target's own stopping rule decides its accuracy: its distance to the exact
 * optimum (tol 1e-16) was the same either way (max |Δβ| 1.96e-2 vs 1.93e-2 on that
 * ill-conditioned p ≫ n fit, where glmnet's rule itself stops that far away).
 */
export const ROUTE_TOL_FACTOR = 1000;

/** Steps of the warm-start route to a fixed penalty (see LambdaSpec). */
export function warmLambdas(lmax: number, target: number, ratio: number): Float64Array {
  if (!(target < lmax) || !(ratio > 0 && ratio < 1)) return Float64Array.of(target);
  const m = Math.max(1, Math.ceil(Math.log(lmax / target) / -Math.log(ratio) - 1e-9));
  const out = new Float64Array(m);
  for (let i = 1; i < m; i++) out[i - 1] = lmax * Math.pow(target / lmax, i / m);
  out[m - 1] = target;
  return out;
}

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
  // The residual in the design's wasm memory when it has one: the strong sweeps then run in wasm
  // SIMD (cd-kernel.ts, bit-identical to the JavaScript sweep).
  const work = cdWork(x, n, p);
  const r = work ? work.r : new Float64Array(n);
  let vary = 0;
  for (let i = 0; i < n; i++) {
    r[i] = y[i]! - ym;
    vary += r[i]! * r[i]!;
  }
  vary /= n;
  const s = new GaussState(x, n, p, xv, usable, r, work);
  const thr = ctl.tol * (vary > 0 ? vary : 1);
  const g = s.g;
  absDotAll(x, n, p, r, s.invN, g);
  const accel = ctl.accel === false ? null : makeKktAccel(x, n, p);
  try {
    const auto = 'nLambda' in spec;
    const warm = 'warmTo' in spec;
    let lambdas: Float64Array;
    let alm0 = 0;
    if ('values' in spec) {
      lambdas = Float64Array.from(spec.values);
    } else {
      let gmax = 0;
      for (let j = 0; j < p; j++) if (usable[j] && g[j]! > gmax) gmax = g[j]!;
      const lmax = gmax / Math.max(l1Ratio, GLMNET.minL1Ratio);
      if (auto) {
        lambdas = lambdaSequence(lmax, spec.nLambda, spec.eps);
      } else {
        lambdas = warmLambdas(lmax, spec.warmTo, spec.ratio);
        // β = 0 is the solution at λ_max: the first strong rule is the sequential one from there.
        if (spec.warmTo < lmax) alm0 = lmax;
      }
    }
    const nLam = lambdas.length;
    const { a, order } = s;
    let converged = true;
    const coefs: Float64Array[] = [];
    const devRatio: number[] = [];
    const fitted: number[] = [];

    for (let m = 0; m < nLam; m++) {
      checkAbort(ctl.signal);
      const alm = lambdas[m]!;
      const rsq0 = s.rsq;
      // glmnet reports λ_max as the first point of an automatic path with the all-zero solution
      // (it fits at "infinity"), which is exact for l1_ratio > 0.
      if (!(auto && m === 0)) {
        // Sequential strong rule, but never below the penalty itself: on a warm-start route with
        // big steps (λ/λ_prev = 0.5) 2λ − λ_prev is ≤ 0 and every feature would be "strong",
        // making each sweep a full pass (measured 2.5× slower on 250 × 20,000). Features the
        // rule leaves out are still caught by the KKT check. On glmnet's path (ratio 0.93) this
        // drops the rule's 7 % margin below λ: same number of passes on 200 × 2,000.
        markStrong(s, l1Ratio * Math.max(2 * alm - alm0, alm));
        // Points of a warm-start route only lead to the target: solved to a looser tolerance.
        const tol = warm && m < nLam - 1 ? thr * ROUTE_TOL_FACTOR : thr;
        if (!solvePenalty(s, alm * l1Ratio, alm * (1 - l1Ratio), tol, ctl, accel)) {
          converged = false;
          break;
        }
      }
      const nin = s.nin;
      const c = new Float64Array(nin);
      let me = 0;
      for (let l = 0; l < nin; l++) {
        c[l] = a[order[l]!]!;
        if (c[l] !== 0) me++;
      }
      coefs.push(c);
      fitted.push(alm);
      const rsq = s.rsq;
      const dr = vary > 0 ? rsq / vary : 0;
      devRatio.push(dr);
      if (ctl.onLambda) ctl.onLambda(m + 1, nLam);
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
      order: order.slice(0, s.nin),
      coefs,
      intercepts: coefs.map(() => Float64Array.of(ym)),
      devRatio: Float64Array.from(devRatio),
      nullDev: vary,
      passes: s.passes,
      converged,
    };
  } finally {
    accel?.dispose();
  }
}

/**
 * Everything one Gaussian fit mutates, in one object of a fixed shape. The solver is split into
 * small phase functions over it (instead of one 300-line function): V8 compiles each in a few
 * milliseconds, and a phase reached for the first time (a KKT check, an active cycle) no longer
 * throws away — and recompiles — the optimised code of the whole solver ("insufficient type
 * feedback" deopts). The monolithic version spent ≈ 0.5–1 s of CPU in optimising compiles during
 * the first 100 stability-selection fits, more than the fits themselves.
 */
class GaussState {
  readonly invN: number;
  /** Coefficients on the working scale. */
  readonly a: Float64Array;
  readonly strong: Uint8Array;
  /** 1 + index in `order`, 0 = never active. */
  readonly pos: Int32Array;
  /** Features in order of entry. */
  readonly order: Int32Array;
  /** |x_jᵀr₀|/n at the reference residual r₀ = rRef (exact for the KKT screening). */
  readonly g: Float64Array;
  readonly rRef: Float64Array;
  /** ‖x_j‖ = √(n·xv_j). */
  readonly xnorm: Float64Array;
  /** Active-set gradients and pending coefficient changes of the covariance cycles. */
  readonly gA: Float64Array;
  readonly dA: Float64Array;
  gram: ActiveGram = { cap: 0, size: 0, m: new Float64Array(0) };
  nin = 0;
  passes = 0;
  rsq = 0;

  constructor(
    readonly x: Float64Array,
    readonly n: number,
    readonly p: number,
    readonly xv: Float64Array,
    readonly usable: Uint8Array,
    readonly r: Float64Array,
    readonly work: CdWork | null,
  ) {
    this.invN = 1 / n;
    this.a = new Float64Array(p);
    this.strong = new Uint8Array(p);
    this.pos = new Int32Array(p);
    this.order = new Int32Array(p);
    this.g = new Float64Array(p);
    this.rRef = Float64Array.from(r);
    this.xnorm = new Float64Array(p);
    for (let j = 0; j < p; j++) this.xnorm[j] = Math.sqrt(n * xv[j]!);
    this.gA = new Float64Array(Math.min(p, GRAM_MAX));
    this.dA = new Float64Array(Math.min(p, GRAM_MAX));
  }
}

/** Add every usable feature with g_j above `tlam` to the strong set. */
function markStrong(s: GaussState, tlam: number): void {
  const { p, strong, usable, g } = s;
  for (let k = 0; k < p; k++) if (!strong[k] && usable[k] && g[k]! > tlam) strong[k] = 1;
}

/**
 * Solve at one penalty (l1 part ab, l2 part dem) from the current state: sweeps over the strong
 * set, active-set cycles until converged, then the KKT check; violators join and it repeats.
 * False when `maxIter` passes were exceeded.
 */
function solvePenalty(
  s: GaussState,
  ab: number,
  dem: number,
  thr: number,
  ctl: CdControl,
  accel: KktAccel | null,
): boolean {
  for (;;) {
    // Sweep the strong set (features may enter the active list here).
    if (++s.passes > ctl.maxIter) return false;
    if (strongSweep(s, ab, dem) < thr) {
      if (!kktViolated(s, ab, accel)) return true;
      continue;
    }
    // Cycle over the active set only until it converges, then sweep the strong set again.
    const ok = s.work
      ? naiveCyclesWasm(s, s.work, ab, dem, thr, ctl)
      : s.nin <= GRAM_MAX
        ? gramCycles(s, ab, dem, thr, ctl)
        : naiveCycles(s, ab, dem, thr, ctl);
    if (!ok) return false;
  }
}

/** One pass over the strong set with naive (residual) updates; returns max_k xv_k·Δβ_k². */
function strongSweep(s: GaussState, ab: number, dem: number): number {
  if (s.work) return strongSweepWasm(s, s.work, ab, dem);
  const { x, n, p, xv, r, a, strong, pos, order } = s;
  const invN = s.invN;
  let nin = s.nin;
  let rsq = s.rsq;
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
  s.nin = nin;
  s.rsq = rsq;
  return dlx;
}

/** `strongSweep` in wasm SIMD: same order, same arithmetic, same entry order (see glmSweepWasm). */
function strongSweepWasm(s: GaussState, work: CdWork, ab: number, dem: number): number {
  const { p, xv, a, strong, pos, order } = s;
  const { list, bc, xvc } = work;
  let cnt = 0;
  for (let k = 0; k < p; k++) {
    if (strong[k] === 0) continue;
    list[cnt] = k;
    bc[cnt] = a[k]!;
    xvc[cnt] = xv[k]!;
    cnt++;
  }
  work.rsq[0] = s.rsq;
  const dlx = work.sweep(false, cnt, ab, dem, s.invN);
  s.rsq = work.rsq[0]!;
  let nin = s.nin;
  for (let t = 0; t < cnt; t++) {
    const k = list[t]!;
    const an = bc[t]!;
    a[k] = an;
    if (an !== 0 && pos[k] === 0) {
      order[nin] = k;
      pos[k] = ++nin;
    }
  }
  s.nin = nin;
  return dlx;
}

/**
 * KKT check of every feature outside the strong set; violators join it. Screening: with g_j
 * exact at a reference residual r₀, |x_jᵀr|/n ≤ g_j + ‖x_j‖·‖r − r₀‖/n, so features whose bound
 * is ≤ the penalty cannot violate and are skipped; when too many need the exact product the
 * reference is refreshed (a full pass, as glmnet does every time).
 */
function kktViolated(s: GaussState, ab: number, accel: KktAccel | null): boolean {
  const { x, n, p, r, rRef, g, xnorm, strong, usable } = s;
  const invN = s.invN;
  let violated = false;
  let dr = 0;
  for (let i = 0; i < n; i++) dr += (r[i]! - rRef[i]!) ** 2;
  dr = Math.sqrt(dr) * invN;
  let candidates = 0;
  for (let k = 0; k < p; k++) {
    if (!strong[k] && usable[k] && g[k]! + xnorm[k]! * dr > ab) candidates++;
  }
  const refresh = candidates > p >> 3;
  if (refresh) {
    rRef.set(r);
    // With the tensor backend g holds exact upper bounds: recheck those reaching ab.
    if (accel) accel.absXtrUpper(r, 1, invN, xnorm, g);
    else absDotAll(x, n, p, r, invN, g);
  }
  const exact = refresh && !accel;
  const slack = refresh ? 0 : dr;
  for (let k = 0; k < p; k++) {
    if (strong[k] || !usable[k]) continue;
    let gk = g[k]!;
    if (!exact) {
      if (gk + xnorm[k]! * slack <= ab) continue;
      gk = Math.abs(dotCol(x, k * n, r, n)) * invN;
    }
    if (gk > ab) {
      strong[k] = 1;
      violated = true;
    }
  }
  return violated;
}

/**
 * Active-set cycles with covariance updates (glmnet's "covariance" mode restricted to the active
 * set): with the Gram block of the active features, a coefficient change costs O(nin) instead of
 * O(n) for the residual update plus O(n) per visit for the gradient. The residual is brought up
 * to date once at the end. False when `maxIter` was exceeded.
 */
function gramCycles(s: GaussState, ab: number, dem: number, thr: number, ctl: CdControl): boolean {
  const { x, n, xv, a, order, gA, dA, r } = s;
  const invN = s.invN;
  const nin = s.nin;
  const gram = growGram(s.gram, x, n, order, nin, invN);
  s.gram = gram;
  const G = gram.m;
  const cap = gram.cap;
  for (let l = 0; l < nin; l++) {
    gA[l] = dotCol(x, order[l]! * n, r, n) * invN;
    dA[l] = 0;
  }
  let rsq = s.rsq;
  let ok = true;
  for (;;) {
    if (++s.passes > ctl.maxIter) {
      ok = false;
      break;
    }
    if ((s.passes & 255) === 0) checkAbort(ctl.signal);
    let dla = 0;
    for (let l = 0; l < nin; l++) {
      const k = order[l]!;
      const gk = gA[l]!;
      const ak = a[k]!;
      const xk = xv[k]!;
      const u = gk + ak * xk;
      const v = Math.abs(u) - ab;
      const anew = v > 0 ? (u > 0 ? v : -v) / (xk + dem) : 0;
      if (anew === ak) continue;
      a[k] = anew;
      const del = anew - ak;
      rsq += del * (2 * gk - del * xk);
      dA[l] = dA[l]! + del;
      const row = l * cap;
      for (let m = 0; m < nin; m++) gA[m] = gA[m]! - G[row + m]! * del;
      const dd = xk * del * del;
      if (dd > dla) dla = dd;
    }
    if (dla < thr) break;
  }
  s.rsq = rsq;
  flushActive(x, n, order, nin, dA, r);
  return ok;
}

/**
 * Active-set cycles with naive updates in wasm SIMD (same arithmetic as naiveCycles), used
 * instead of the covariance cycles whenever the residual lives in the design's wasm memory: a
 * SIMD dot product and residual update per visit beat the scalar O(nin) Gram-row update per
 * change plus building the Gram block (200 × 2,000 Gaussian path 70 → 32–37 ms CPU; 500 ×
 * 20,000: 737 → 671 ms, load average ≈ 25).
 */
function naiveCyclesWasm(
  s: GaussState,
  work: CdWork,
  ab: number,
  dem: number,
  thr: number,
  ctl: CdControl,
): boolean {
  const { xv, a, order } = s;
  const { list, bc, xvc } = work;
  const nin = s.nin;
  for (let l = 0; l < nin; l++) {
    const k = order[l]!;
    list[l] = k;
    xvc[l] = xv[k]!;
    bc[l] = a[k]!;
  }
  work.rsq[0] = s.rsq;
  let ok = true;
  for (;;) {
    if (++s.passes > ctl.maxIter) {
      ok = false;
      break;
    }
    if ((s.passes & 255) === 0) checkAbort(ctl.signal);
    if (work.sweep(false, nin, ab, dem, s.invN) < thr) break;
  }
  s.rsq = work.rsq[0]!;
  for (let l = 0; l < nin; l++) a[order[l]!] = bc[l]!;
  return ok;
}

/** Active-set cycles with naive updates (active sets above GRAM_MAX). */
function naiveCycles(s: GaussState, ab: number, dem: number, thr: number, ctl: CdControl): boolean {
  const { x, n, xv, a, order, r } = s;
  const invN = s.invN;
  const nin = s.nin;
  let rsq = s.rsq;
  let ok = true;
  for (;;) {
    if (++s.passes > ctl.maxIter) {
      ok = false;
      break;
    }
    if ((s.passes & 255) === 0) checkAbort(ctl.signal);
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
  s.rsq = rsq;
  return ok;
}

/** Active sets larger than this cycle with naive updates (the Gram block would exceed 32 MB). */
const GRAM_MAX = 2048;

/**
 * First row stride of the Gram block. Stability selection runs hundreds of small fits in a row:
 * growing the block 64 → 128 → 256 in each allocated (and zero-filled) ≈ 0.7 MB per fit
 * (100 × 2,000, 126 active features), so fits start at 256 and reuse the last fit's block.
 */
const GRAM_START = 256;
/** The most recently allocated Gram block (fits are synchronous: one user at a time). */
let gramPool: Float64Array = new Float64Array(0);

/** x_kᵀx_l / n among the active features in entry order, row-major with row stride `cap`. */
interface ActiveGram {
  cap: number;
  size: number;
  m: Float64Array;
}

/** Extend the Gram block to the first `nin` active features (new rows and columns only). */
function growGram(
  g: ActiveGram,
  x: Float64Array,
  n: number,
  order: Int32Array,
  nin: number,
  invN: number,
): ActiveGram {
  if (nin <= g.size) return g;
  let { cap, m } = g;
  if (nin > cap) {
    const nc = Math.min(GRAM_MAX, Math.max(nin, 2 * cap, GRAM_START));
    let nm: Float64Array;
    if (cap === 0 && gramPool.length >= nc * nc) {
      // A fresh fit reuses the block of the previous one (every entry it reads is rewritten).
      nm = gramPool;
    } else {
      nm = new Float64Array(nc * nc);
      for (let l = 0; l < g.size; l++) nm.set(m.subarray(l * cap, l * cap + g.size), l * nc);
      gramPool = nm;
    }
    cap = nc;
    m = nm;
  }
  // Register-blocked: two new columns against four earlier ones per pass over the rows, so six
  // loads serve eight multiply-adds (2× the plain dot products, measured at n = 500, 600 active).
  // The Gram block is the largest single cost of long Gaussian paths on wide data.
  let l = g.size;
  for (; l + 1 < nin; l += 2) {
    const oa = order[l]! * n;
    const ob = order[l + 1]! * n;
    const ra = l * cap;
    const rb = ra + cap;
    let q = 0;
    for (; q + 3 <= l; q += 4) {
      const o0 = order[q]! * n;
      const o1 = order[q + 1]! * n;
      const o2 = order[q + 2]! * n;
      const o3 = order[q + 3]! * n;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      for (let i = 0; i < n; i++) {
        const xa = x[oa + i]!;
        const xb = x[ob + i]!;
        const y0 = x[o0 + i]!;
        const y1 = x[o1 + i]!;
        const y2 = x[o2 + i]!;
        const y3 = x[o3 + i]!;
        a0 += y0 * xa;
        a1 += y1 * xa;
        a2 += y2 * xa;
        a3 += y3 * xa;
        b0 += y0 * xb;
        b1 += y1 * xb;
        b2 += y2 * xb;
        b3 += y3 * xb;
      }
      m[ra + q] = m[q * cap + l] = a0 * invN;
      m[ra + q + 1] = m[(q + 1) * cap + l] = a1 * invN;
      m[ra + q + 2] = m[(q + 2) * cap + l] = a2 * invN;
      m[ra + q + 3] = m[(q + 3) * cap + l] = a3 * invN;
      m[rb + q] = m[q * cap + l + 1] = b0 * invN;
      m[rb + q + 1] = m[(q + 1) * cap + l + 1] = b1 * invN;
      m[rb + q + 2] = m[(q + 2) * cap + l + 1] = b2 * invN;
      m[rb + q + 3] = m[(q + 3) * cap + l + 1] = b3 * invN;
    }
    for (; q <= l + 1; q++) {
      const oq = order[q]! * n;
      let sa = 0;
      let sb = 0;
      for (let i = 0; i < n; i++) {
        const y = x[oq + i]!;
        sa += y * x[oa + i]!;
        sb += y * x[ob + i]!;
      }
      if (q <= l) m[ra + q] = m[q * cap + l] = sa * invN;
      m[rb + q] = m[q * cap + l + 1] = sb * invN;
    }
  }
  for (; l < nin; l++) {
    const ol = order[l]! * n;
    for (let q = 0; q <= l; q++) {
      const oq = order[q]! * n;
      let s0 = 0;
      for (let i = 0; i < n; i++) s0 += x[oq + i]! * x[ol + i]!;
      m[l * cap + q] = m[q * cap + l] = s0 * invN;
    }
  }
  return { cap, size: nin, m };
}

/** Apply the accumulated active-set changes to the residual: r −= Σ_l dA_l·x_{order[l]}. */
function flushActive(
  x: Float64Array,
  n: number,
  order: Int32Array,
  nin: number,
  dA: Float64Array,
  r: Float64Array,
): void {
  for (let l = 0; l < nin; l++) {
    const d = dA[l]!;
    if (d !== 0) axpyCol(x, order[l]! * n, d, r, n);
    dA[l] = 0;
  }
}
