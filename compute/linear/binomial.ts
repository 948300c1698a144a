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
import { type KktAccel, makeKktAccel } from './accel';
import {
  absDotAll,
  type ActiveSet,
  type Design,
  dotCol,
  glmSweep,
  glmSweepWasm,
  newActiveSet,
  wssCol,
} from './design';
import { type CdWork, cdWork } from './simd';
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
  let q0 = 0;
  for (let i = 0; i < n; i++) q0 += y[i]!;
  q0 *= w;
  if (q0 <= pmin || q0 >= 1 - pmin) {
    throw new Error('binomial fit needs both classes in the training rows');
  }
  if (!d.intercept) q0 = 0.5;
  const bz = d.intercept ? Math.log(q0 / (1 - q0)) : 0;
  const vi = q0 * (1 - q0);
  // r and v in the design's wasm memory when it has one: the sweeps then run in wasm SIMD.
  const work = cdWork(x, n, p);
  const yv = new Float64Array(n);
  for (let i = 0; i < n; i++) yv[i] = y[i]!;
  const s = new BinomState(d, yv, work, ctl.maxIter);
  s.v.fill(vi * w);
  s.q.fill(q0);
  s.eta.fill(bz);
  s.b0[0] = bz;
  for (let i = 0; i < n; i++) s.r[i] = w * (yv[i]! - q0);
  s.xmz = vi;
  const dev1 = -(bz * q0 + Math.log(1 - q0));
  const dev0 = dev1; // y ∈ {0, 1}: the saturated log-likelihood is 0
  s.shr = ctl.tol * dev0;

  const ga = s.ga;
  for (let j = 0; j < p; j++) if (usable[j]) ga[j] = Math.abs(dotCol(x, j * n, s.r, n));
  s.scr = newScreen(ga, s.r, work);
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

  const accel = ctl.accel === false ? null : makeKktAccel(x, n, p);
  s.accel = accel;
  try {
    const active = s.active;
    const order = active.order;
    const coefs: Float64Array[] = [];
    const intercepts: Float64Array[] = [];
    const devRatio: number[] = [];
    const fitted: number[] = [];
    let al0 = 0;

    for (let m = 0; m < nLam; m++) {
      checkAbort(ctl.signal);
      const al = lambdas[m]!;
      let status = SOLVED;
      if (!(auto && m === 0)) {
        const al1 = al * l1Ratio;
        markStrong(s, l1Ratio * (2 * al - al0));
        // The next strong rule's threshold: below it ga must be exact only up to "≤ th".
        const th = m + 1 < nLam ? Math.min(al1, l1Ratio * (2 * lambdas[m + 1]! - al)) : al1;
        status = solvePenalty(s, al1, al * (1 - l1Ratio), th, ctl);
        if (status === OUT_OF_PASSES) {
          s.converged = false;
          break;
        }
      }
      const c = new Float64Array(active.nin);
      let me = 0;
      for (let l = 0; l < active.nin; l++) {
        c[l] = s.b[order[l]!]!;
        if (c[l] !== 0) me++;
      }
      coefs.push(c);
      intercepts.push(Float64Array.from(s.b0));
      fitted.push(al);
      const devi = binomialDeviance(yv, s.q, w, pmin);
      const dr = (dev1 - devi) / dev0;
      devRatio.push(dr);
      ctl.onLambda?.(m + 1, nLam);
      al0 = al;
      if (status === SATURATED) break;
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
      passes: s.passes,
      converged: s.converged,
    };
  } finally {
    accel?.dispose();
  }
}

/** solvePenalty outcomes. */
const SOLVED = 0;
const SATURATED = 1;
const OUT_OF_PASSES = 2;

/**
 * Everything the binomial path's phases share, in one object of a fixed shape. Why phases and
 * not one function: the solver used to be one 300-line function with the sweeps inlined twice;
 * V8 compiled it four times per process (on-stack replacement at the first fit, deopts on
 * branches it had not seen yet), each compile ≈ 0.1 s of CPU — a third of a cold 10-fold
 * cv.glmnet-sized run. Small functions compile fast, get type feedback from the first fit and
 * are optimised once.
 */
class BinomState {
  readonly n: number;
  readonly p: number;
  readonly x: Float64Array;
  readonly usable: Uint8Array;
  readonly y: Float64Array;
  readonly w: number;
  readonly intercept: boolean;
  readonly work: CdWork | null;
  readonly r: Float64Array;
  readonly v: Float64Array;
  readonly eta: Float64Array;
  readonly q: Float64Array;
  readonly b: Float64Array;
  readonly b0: Float64Array;
  readonly bs: Float64Array;
  readonly xv: Float64Array;
  readonly ga: Float64Array;
  readonly xnorm: Float64Array;
  readonly strong: Uint8Array;
  readonly active: ActiveSet;
  readonly fmin: number;
  readonly fmax: number;
  readonly vmin: number;
  readonly maxIter: number;
  xmz = 0;
  shr = 0;
  passes = 0;
  converged = true;
  scr: Screen | null = null;
  accel: KktAccel | null = null;

  constructor(d: Design, y: Float64Array, work: CdWork | null, maxIter: number) {
    const { n, p } = d;
    this.n = n;
    this.p = p;
    this.x = d.x;
    this.usable = d.usable;
    this.y = y;
    this.w = 1 / n;
    this.intercept = d.intercept;
    this.work = work;
    this.r = work ? work.r : new Float64Array(n);
    this.v = work ? work.v : new Float64Array(n);
    this.eta = work ? work.eta : new Float64Array(n);
    this.q = new Float64Array(n);
    this.b = new Float64Array(p);
    this.b0 = new Float64Array(1);
    this.bs = new Float64Array(p);
    this.xv = new Float64Array(p);
    this.ga = new Float64Array(p);
    this.xnorm = new Float64Array(p);
    for (let j = 0; j < p; j++) this.xnorm[j] = Math.sqrt(n * d.xv[j]!);
    this.strong = new Uint8Array(p);
    this.active = newActiveSet(p);
    this.fmax = Math.log(1 / GLMNET.pMin - 1);
    this.fmin = -this.fmax;
    this.vmin = (1 + GLMNET.pMin) * GLMNET.pMin * (1 - GLMNET.pMin);
    this.maxIter = maxIter;
  }
}

/** Sequential strong rule: features whose last gradient exceeds tlam join the strong set. */
function markStrong(s: BinomState, tlam: number): void {
  const { p, strong, usable, ga } = s;
  for (let k = 0; k < p; k++) if (!strong[k] && usable[k] && ga[k]! > tlam) strong[k] = 1;
}

/**
 * Solve at one penalty: quadratic approximations until the coefficients stop moving, then the
 * KKT check outside the strong set (violators join and the loop repeats).
 */
function solvePenalty(s: BinomState, al1: number, al2: number, th: number, ctl: CdControl): number {
  for (;;) {
    // New quadratic approximation.
    if (s.passes > s.maxIter) return OUT_OF_PASSES;
    checkAbort(ctl.signal);
    const bs0 = s.b0[0]!;
    saveActive(s);
    curvatures(s);
    if (!innerSolve(s, al1, al2)) return OUT_OF_PASSES;
    if (refresh(s)) return SATURATED;
    if (moved(s, bs0)) continue;
    // Converged: KKT check of the features outside the strong set.
    if (!kktViolated(s, al1, th)) return SOLVED;
  }
}

function saveActive(s: BinomState): void {
  const { b, bs, active } = s;
  const order = active.order;
  for (let l = 0; l < active.nin; l++) bs[order[l]!] = b[order[l]!]!;
}

/** xv_j = Σ v_i·x_ij² over the strong set at the new weights. */
function curvatures(s: BinomState): void {
  if (s.work) {
    strongCurvatures(s.work, s.p, s.strong, s.xv);
    return;
  }
  const { x, n, p, v, strong, xv } = s;
  for (let j = 0; j < p; j++) if (strong[j]) xv[j] = wssCol(x, j * n, v, n);
}

/** One CD pass (strong set, or the active list), wasm when the design lives in wasm memory. */
function pass(s: BinomState, activeOnly: boolean, al1: number, al2: number): number {
  s.passes++;
  return s.work
    ? glmSweepWasm(
        s.work,
        s.n,
        s.p,
        s.b,
        s.xv,
        0,
        s.strong,
        s.active,
        activeOnly,
        al1,
        al2,
        s.b0,
        0,
        s.xmz,
        s.intercept,
      )
    : glmSweep(
        s.x,
        s.n,
        s.p,
        s.r,
        s.v,
        s.b,
        s.xv,
        0,
        s.strong,
        s.active,
        activeOnly,
        al1,
        al2,
        s.b0,
        0,
        s.xmz,
        s.intercept,
      );
}

/** Weighted CD on the current quadratic approximation; false when out of passes. */
function innerSolve(s: BinomState, al1: number, al2: number): boolean {
  for (;;) {
    if (pass(s, false, al1, al2) < s.shr) return true;
    if (s.passes > s.maxIter) return false;
    for (;;) {
      if (pass(s, true, al1, al2) < s.shr) break;
      if (s.passes > s.maxIter) return false;
    }
  }
}

/**
 * Probabilities, weights and working residuals at the new coefficients; true when the weights
 * have vanished (saturated fit).
 */
function refresh(s: BinomState): boolean {
  const { n, x, eta, b, q, v, r, y, w, fmin, fmax, active } = s;
  const order = active.order;
  eta.fill(s.b0[0]!);
  if (s.work) activePredictor(s.work, b, active.nin, order);
  else {
    for (let l = 0; l < active.nin; l++) {
      const k = order[l]!;
      const bk = b[k]!;
      if (bk === 0) continue;
      const off = k * n;
      for (let i = 0; i < n; i++) eta[i] = eta[i]! + bk * x[off + i]!;
    }
  }
  let xmz = 0;
  for (let i = 0; i < n; i++) {
    const fi = eta[i]!;
    const qi = fi < fmin ? 0 : fi > fmax ? 1 : 1 / (1 + Math.exp(-fi));
    q[i] = qi;
    v[i] = w * qi * (1 - qi);
    xmz += v[i]!;
    r[i] = w * (y[i]! - qi);
  }
  s.xmz = xmz;
  return xmz <= s.vmin;
}

/** Did the intercept or any active coefficient move by more than the threshold? */
function moved(s: BinomState, bs0: number): boolean {
  const { b, bs, xv, shr, active } = s;
  const d0 = s.b0[0]! - bs0;
  if (s.xmz * d0 * d0 >= shr) return true;
  const order = active.order;
  for (let l = 0; l < active.nin; l++) {
    const k = order[l]!;
    const dk = b[k]! - bs[k]!;
    if (xv[k]! * dk * dk >= shr) return true;
  }
  return false;
}

/** KKT check outside the strong set: violators join it; true when there were any. */
function kktViolated(s: BinomState, al1: number, th: number): boolean {
  const { x, n, p, r, strong, usable, ga, accel } = s;
  // One blocked product over all columns (wasm SIMD when the design lives in wasm memory)
  // is cheaper than a dot product per feature outside the strong set; the screen below
  // skips even that when the residual has moved little since the last full product.
  if (accel) accel.absXtrUpper(r, 1, 1, s.xnorm, ga);
  else screenedGradient(x, n, p, r, strong, usable, s.xnorm, th, s.scr!);
  let violated = false;
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
  return violated;
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

/**
 * The KKT screen's state: ga as the solver reads it; per feature the last exact |x_kᵀr| and the
 * residual drift D at which it was computed (D = Σ‖r_t − r_{t−1}‖ over the checks so far).
 */
interface Screen {
  ga: Float64Array;
  gEx: Float64Array;
  stamp: Float64Array;
  rPrev: Float64Array;
  drift: number;
  work: CdWork | null;
}

function newScreen(ga: Float64Array, r: Float64Array, work: CdWork | null): Screen {
  const p = ga.length;
  return {
    ga,
    gEx: Float64Array.from(ga),
    stamp: new Float64Array(p),
    rPrev: Float64Array.from(r),
    drift: 0,
    work,
  };
}

/** More candidates than this fraction of p: one full product (blocked, SIMD) instead. */
const SCREEN_FULL = 0.5;

/**
 * ga_k for every usable feature outside the strong set, exact where it can exceed `th` (the
 * smaller of the KKT penalty and the next strong-rule threshold) and some value ≤ th elsewhere,
 * so every decision taken on ga (KKT violation, next strong set) is the one exact values give.
 * Screen: by the triangle and Cauchy–Schwarz inequalities |x_kᵀr| ≤ gEx_k + ‖x_k‖·(D − stamp_k),
 * D the summed residual movement between checks; features whose bound is ≤ th need no product,
 * the others get an exact one (wasm SIMD when r lives in the design's memory) and a new stamp.
 * glmnet computes the full product at every check: at 200 × 2,000 that was a third of a
 * binomial path's time, and the screen leaves ≈ 40 % of the columns late in the path (fewer
 * early). Returns the number of exact products.
 */
function screenedGradient(
  x: Float64Array,
  n: number,
  p: number,
  r: Float64Array,
  strong: Uint8Array,
  usable: Uint8Array,
  xnorm: Float64Array,
  th: number,
  s: Screen,
): number {
  // Each step is a function of its own: as one function V8 compiled it on stack in the bound
  // loop and recompiled it at each later branch (four compilations in a cold CV run).
  const drift = (s.drift += residualMove(r, s.rPrev, n));
  const cnt = screenBounds(s, p, strong, usable, xnorm, th, drift);
  if (cnt > SCREEN_FULL * p) {
    absDotAll(x, n, p, r, 1, s.ga);
    s.gEx.set(s.ga);
    s.stamp.fill(drift);
    return p;
  }
  if (s.work && s.work.r === r)
    return exactDotsWasm(s, s.work, p, strong, usable, xnorm, th, drift);
  exactDots(s, x, n, p, r, strong, usable, xnorm, th, drift);
  return cnt;
}

/** ‖r − rPrev‖, then rPrev ← r. */
function residualMove(r: Float64Array, rPrev: Float64Array, n: number): number {
  let dr = 0;
  for (let i = 0; i < n; i++) {
    const d = r[i]! - rPrev[i]!;
    dr += d * d;
  }
  rPrev.set(r);
  return Math.sqrt(dr);
}

/** ga_k = min(bound, th) where the bound rules a feature out; returns how many it does not. */
function screenBounds(
  s: Screen,
  p: number,
  strong: Uint8Array,
  usable: Uint8Array,
  xnorm: Float64Array,
  th: number,
  drift: number,
): number {
  const { ga, gEx, stamp } = s;
  let cnt = 0;
  for (let k = 0; k < p; k++) {
    if (strong[k] || !usable[k]) continue;
    const bound = gEx[k]! + xnorm[k]! * (drift - stamp[k]!);
    if (bound > th) cnt++;
    else ga[k] = Math.min(bound, th);
  }
  return cnt;
}

/** Exact products (wasm) for the features the bound does not rule out; returns their number. */
function exactDotsWasm(
  s: Screen,
  work: CdWork,
  p: number,
  strong: Uint8Array,
  usable: Uint8Array,
  xnorm: Float64Array,
  th: number,
  drift: number,
): number {
  const { ga, gEx, stamp } = s;
  const list = work.list;
  let t = 0;
  for (let k = 0; k < p; k++) {
    if (strong[k] || !usable[k]) continue;
    if (gEx[k]! + xnorm[k]! * (drift - stamp[k]!) > th) list[t++] = k;
  }
  work.dots(t);
  const out = work.bc;
  for (let u = 0; u < t; u++) {
    const k = list[u]!;
    ga[k] = gEx[k] = out[u]!;
    stamp[k] = drift;
  }
  return t;
}

/** `exactDotsWasm` with JavaScript dot products. */
function exactDots(
  s: Screen,
  x: Float64Array,
  n: number,
  p: number,
  r: Float64Array,
  strong: Uint8Array,
  usable: Uint8Array,
  xnorm: Float64Array,
  th: number,
  drift: number,
): void {
  const { ga, gEx, stamp } = s;
  for (let k = 0; k < p; k++) {
    if (strong[k] || !usable[k]) continue;
    if (gEx[k]! + xnorm[k]! * (drift - stamp[k]!) > th) {
      ga[k] = gEx[k] = Math.abs(dotCol(x, k * n, r, n));
      stamp[k] = drift;
    }
  }
}

/** xv_j = Σ v_i·x_ij² for the strong set, in wasm (bit-identical to wssCol). */
function strongCurvatures(work: CdWork, p: number, strong: Uint8Array, xv: Float64Array): void {
  const list = work.list;
  let t = 0;
  for (let j = 0; j < p; j++) if (strong[j]) list[t++] = j;
  work.wss(t);
  const out = work.bc;
  for (let u = 0; u < t; u++) xv[list[u]!] = out[u]!;
}

/** work.eta += Σ_l b_l·x_l over the active list in entry order (wasm, same bits as the loop). */
function activePredictor(work: CdWork, b: Float64Array, nin: number, order: Int32Array): void {
  const { list, bc } = work;
  for (let l = 0; l < nin; l++) {
    const k = order[l]!;
    list[l] = k;
    bc[l] = b[k]!;
  }
  work.axpyEta(nin);
}
