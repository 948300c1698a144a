/**
 * l2-penalised logistic / multinomial regression on raw features by L-BFGS (scikit-learn's
 * default `lbfgs` solver for LogisticRegression), minimising the mean-loss form
 *
 *     F(w, b) = (1/n)·Σᵢ loss_i(Xw + b) + (λ/2)·‖w‖²,   λ = 1/(C·n)
 *
 * which has the same minimiser as scikit-learn's C·Σ loss + ½‖w‖². The intercept is not penalised.
 * Why not coordinate descent: with p ≫ n and a small λ the ridge-logistic problem is badly
 * conditioned along the n-dimensional row space, and CD over thousands of coordinates needs
 * thousands of passes; a quasi-Newton method needs tens of gradients.
 *
 * Two representations of the same iteration:
 * - primal (n ≥ p/2): w itself; each gradient is two passes over X (O(np)).
 * - row space (p > 2n): starting from w = 0, every gradient Xᵀ(r/n) + λw, hence every L-BFGS
 *   vector, lies in the row space of X, so w = Xᵀa with a ∈ Rⁿ (per class). With K = XXᵀ
 *   (computed once on the SIMD panel kernel) each vector carries its coefficients α and their
 *   image Kα: linear combinations act on both, inner products are ⟨Xᵀα, Xᵀβ⟩ = αᵀ(Kβ), and
 *   Xw = Ka. A gradient then costs one product K·r (O(n²)) instead of two passes over X. In exact
 *   arithmetic the iterates are the primal ones; only rounding differs.
 *
 * Stops when the gradient norm ≤ gtol·max(1, ‖∇F(0)‖∞) — ‖·‖∞ in the primal, the (larger)
 * Euclidean norm in the row space; `gtol` far below scikit-learn's default (its lbfgs stops at
 * ‖∇‖∞ ≤ 1e-4 on the summed form), so results are the exact optimum to ~1e-8 —, or when no step
 * lowers F or the gradient any more (rounding floor: converged if the norm ≤ 1e-11 of the
 * initial), or after `maxIter` iterations. Deterministic: no randomness, fixed summation order.
 */
import { checkAbort } from '../core/method';
import { RowWorkspace } from '../kernels/row-dot-axpy';
import { gramRows } from './dense';
import { dotCol } from './design';

export interface LogisticLbfgsInput {
  /** Column-major n × p. */
  x: Float64Array;
  n: number;
  p: number;
  /** Class index per sample (0/1 for binary). */
  y: Int32Array;
  /** Number of classes (2 = binary logistic with one coefficient vector). */
  nClasses: number;
  lambda: number;
  intercept: boolean;
  gtol: number;
  maxIter: number;
  signal?: AbortSignal;
  /** Force a representation (tests); default: row space when p > 2n. */
  space?: 'primal' | 'rows';
  /** XXᵀ (with `center`: XcXcᵀ) when the caller has it (e.g. gramRowsParallel); else computed here. */
  gram?: Float64Array;
  /**
   * Row space with an intercept: iterate on the centred columns Xc = X − 1·centerᵀ (the same
   * minimiser; w = Xcᵀα, the intercept moved back to the raw scale). Without it, columns with
   * offsets (log-intensities ~8) make XXᵀ offset-dominated and ill-conditioned: at offsets ~100
   * the iteration stopped 1 % away from the optimum after 855 iterations.
   */
  center?: Float64Array;
}

export interface LogisticLbfgsFit {
  /** K·p coefficients (K = 1 for binary), class-major: coef[k·p + j]. */
  coef: Float64Array;
  /** K intercepts (summing to 0 when K > 1). */
  intercept: Float64Array;
  iterations: number;
  converged: boolean;
  /** Final gradient norm (see above). */
  gradNorm: number;
  space: 'primal' | 'rows';
}

const MEMORY = 10;
/** Gradient norm relative to its value at 0 that counts as converged at the rounding floor. */
const FLOOR_TOL = 1e-11;
/** Consecutive steps accepted only by the gradient test (F flat to rounding) before stopping. */
const FLOOR_STEPS = 50;

/** What the L-BFGS loop needs to know about a representation. */
export interface Problem {
  dim: number;
  /** F at theta, writing ∇F (in the same representation) into grad. */
  eval(theta: Float64Array, grad: Float64Array): number;
  dot(u: Float64Array, v: Float64Array): number;
  norm(g: Float64Array): number;
}

export function logisticLbfgs(inp: LogisticLbfgsInput): LogisticLbfgsFit {
  const { n, p } = inp;
  const K = inp.nClasses > 2 ? inp.nClasses : 1;
  const space = inp.space ?? (p > 2 * n ? 'rows' : 'primal');
  if (space === 'primal') {
    const prob = primalProblem(inp, K);
    const g0 = new Float64Array(prob.dim);
    prob.eval(new Float64Array(prob.dim), g0);
    const r = minimise(prob, inp.gtol * Math.max(1, normInf(g0)), inp.maxIter, inp.signal);
    return finish(r.theta.slice(0, K * p), r.theta.slice(K * p), K, r, space);
  }
  const center = inp.intercept ? inp.center : undefined;
  const gram = inp.gram ?? gramRows(inp.x, n, p, center);
  const prob = rowSpaceProblem(inp, K, gram);
  const g0 = new Float64Array(prob.dim);
  prob.eval(new Float64Array(prob.dim), g0);
  // ‖∇F(0)‖∞ in coefficient space: Xᵀγ₀ per class, and the intercept gradients.
  const w0 = coefficients(inp, K, g0);
  let g0Inf = normInf(w0);
  for (let k = 0; k < K; k++) g0Inf = Math.max(g0Inf, Math.abs(g0[2 * K * n + k]!));
  const r = minimise(prob, inp.gtol * Math.max(1, g0Inf), inp.maxIter, inp.signal);
  const coef = coefficients(inp, K, r.theta);
  return finish(coef, r.theta.slice(2 * K * n), K, r, space, center);
}

/** v minus its mean: the part of a row-space vector that centred columns see (Xcᵀ1 = 0). */
export function meanFree(v: Float64Array): Float64Array {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]!;
  m /= v.length;
  return Float64Array.from(v, t => t - m);
}

/**
 * The fit as reported: with `center` (the iteration ran on centred columns) each intercept moved
 * to the raw scale, b − centerᵀw_k; K > 1: intercepts summing to 0.
 */
export function finish(
  coef: Float64Array,
  intercept: Float64Array,
  K: number,
  r: { iterations: number; converged: boolean; gradNorm: number },
  space: 'primal' | 'rows',
  center?: Float64Array,
): LogisticLbfgsFit {
  if (center) {
    const p = center.length;
    for (let k = 0; k < K; k++) {
      let shift = 0;
      for (let j = 0; j < p; j++) shift += center[j]! * coef[k * p + j]!;
      intercept[k] = intercept[k]! - shift;
    }
  }
  if (K > 1) {
    // Softmax is unchanged by a common shift: report intercepts summing to 0 (as sklearn / glmnet).
    let m = 0;
    for (let k = 0; k < K; k++) m += intercept[k]!;
    for (let k = 0; k < K; k++) intercept[k] = intercept[k]! - m / K;
  }
  return {
    coef,
    intercept,
    iterations: r.iterations,
    converged: r.converged,
    gradNorm: r.gradNorm,
    space,
  };
}

/**
 * w_k = Xᵀα_k from a row-space vector [α (K·n) | Kα (K·n) | b (K)]; with a centre, Xcᵀα_k =
 * Xᵀα_k − center·Σα_k (α's mean removed first: Xcᵀ1 = 0 exactly, not in rounding).
 */
function coefficients(inp: LogisticLbfgsInput, K: number, v: Float64Array): Float64Array {
  const { x, n, p } = inp;
  const center = inp.intercept ? inp.center : undefined;
  const w = new Float64Array(K * p);
  const a = Array.from({ length: K }, (_, k) => {
    const ak = v.subarray(k * n, (k + 1) * n);
    return center ? meanFree(ak) : ak;
  });
  // Columns outer: each column is read from memory once for all K classes (it stays in L1).
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < K; k++) w[k * p + j] = dotCol(x, j * n, a[k]!, n);
  }
  if (center) {
    // Σ of the mean-free α is ~0; the term keeps Xcᵀα exact to rounding.
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += a[k]![i]!;
      for (let j = 0; j < p; j++) w[k * p + j] = w[k * p + j]! - center[j]! * sum;
    }
  }
  return w;
}

/** L-BFGS with Armijo backtracking (Nocedal & Wright, algorithm 7.5) in `prob`'s geometry. */
export function minimise(
  prob: Problem,
  stop: number,
  maxIter: number,
  signal: AbortSignal | undefined,
  /** Starting point (default 0); not modified. */
  start?: Float64Array,
): { theta: Float64Array; iterations: number; converged: boolean; gradNorm: number } {
  const { dim } = prob;
  let theta = start ? Float64Array.from(start) : new Float64Array(dim);
  let g = new Float64Array(dim);
  let f = prob.eval(theta, g);
  const g0 = prob.norm(g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(dim);
  const alphaBuf = new Float64Array(MEMORY);
  let next = new Float64Array(dim);
  let gNext = new Float64Array(dim);
  let iter = 0;
  let gNorm = g0;
  let converged = gNorm <= stop;
  let floorSteps = 0;
  while (!converged && iter < maxIter) {
    checkAbort(signal);
    iter++;
    direction(prob, g, S, Y, rho, d, alphaBuf);
    let slope = prob.dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in the curvature pairs): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < dim; i++) d[i] = -g[i]!;
      slope = -prob.dot(g, g);
    }
    // Backtracking Armijo line search; the first iteration's step is scaled to a unit move.
    let step = S.length === 0 ? Math.min(1, 1 / Math.max(gNorm, 1e-300)) : 1;
    let fNext = Infinity;
    let accepted = false;
    // Near the optimum F changes by ~‖∇F‖² per step, below F's rounding (ε·|F|) once ‖∇F‖ is
    // ~1e-8: there a step that does not raise F beyond rounding and shrinks the gradient is
    // accepted, so tight `tol`s are reachable (the gradient is accurate to far below that).
    const fFloor = 8 * Number.EPSILON * Math.max(1, Math.abs(f));
    let atFloor = false;
    for (let ls = 0; ls < 40 && !accepted; ls++) {
      for (let i = 0; i < dim; i++) next[i] = theta[i]! + step * d[i]!;
      fNext = prob.eval(next, gNext);
      if (fNext <= f + 1e-4 * step * slope) accepted = true;
      else if (fNext <= f + fFloor) accepted = atFloor = prob.norm(gNext) < gNorm;
      if (!accepted) step *= 0.5;
    }
    // Steps taken only on the gradient test make slow progress on badly conditioned problems
    // (unscaled features: κ ~ 1e9); after FLOOR_STEPS of them in a row, this is the floor.
    floorSteps = atFloor ? floorSteps + 1 : 0;
    if (!accepted || floorSteps > FLOOR_STEPS) {
      // No step lowers F or the gradient: the rounding floor of this problem.
      converged = gNorm <= Math.max(stop, FLOOR_TOL * Math.max(1, g0));
      break;
    }
    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      s[i] = next[i]! - theta[i]!;
      yv[i] = gNext[i]! - g[i]!;
    }
    const sy = prob.dot(s, yv);
    if (sy > 1e-16 * Math.sqrt(prob.dot(s, s) * prob.dot(yv, yv))) {
      if (S.length === MEMORY) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    [theta, next] = [next, theta];
    [g, gNext] = [gNext, g];
    f = fNext;
    gNorm = prob.norm(g);
    converged = gNorm <= stop;
  }
  return { theta, iterations: iter, converged, gradNorm: gNorm };
}

/** The two-loop recursion: d = −H·g with the scaled-identity initial Hessian (Nocedal & Wright 7.4). */
function direction(
  prob: Problem,
  g: Float64Array,
  S: Float64Array[],
  Y: Float64Array[],
  rho: number[],
  d: Float64Array,
  alpha: Float64Array,
): void {
  const m = S.length;
  d.set(g);
  for (let k = m - 1; k >= 0; k--) {
    const a = rho[k]! * prob.dot(S[k]!, d);
    alpha[k] = a;
    axpy(-a, Y[k]!, d);
  }
  if (m > 0) {
    const gamma = prob.dot(S[m - 1]!, Y[m - 1]!) / prob.dot(Y[m - 1]!, Y[m - 1]!);
    for (let i = 0; i < d.length; i++) d[i] = d[i]! * gamma;
  }
  for (let k = 0; k < m; k++) {
    const b = rho[k]! * prob.dot(Y[k]!, d);
    axpy(alpha[k]! - b, S[k]!, d);
  }
  for (let i = 0; i < d.length; i++) d[i] = -d[i]!;
}

/**
 * Loss and residuals r = ∂loss/∂η at η (K·n, class-major); returns Σ loss. Binary (K = 1):
 * softplus(η) − yη and σ(η) − y without overflow; multinomial: log-sum-exp − η_y and P − Y.
 */
export function lossAndResiduals(
  y: Int32Array,
  n: number,
  K: number,
  eta: Float64Array,
  r: Float64Array,
): number {
  let loss = 0;
  if (K === 1) {
    for (let i = 0; i < n; i++) {
      const e = eta[i]!;
      const sp = e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e));
      loss += sp - (y[i] === 1 ? e : 0);
      const sig = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
      r[i] = sig - (y[i] === 1 ? 1 : 0);
    }
    return loss;
  }
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, eta[k * n + i]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(eta[k * n + i]! - mx);
    const lse = mx + Math.log(z);
    loss += lse - eta[y[i]! * n + i]!;
    for (let k = 0; k < K; k++)
      r[k * n + i] = Math.exp(eta[k * n + i]! - lse) - (y[i] === k ? 1 : 0);
  }
  return loss;
}

/** theta = [w (K·p, class-major) | b (K)]; plain Euclidean geometry, ‖·‖∞ norm. */
function primalProblem(inp: LogisticLbfgsInput, K: number): Problem {
  const { x, n, p, y, lambda } = inp;
  const eta = new Float64Array(n * K);
  const r = new Float64Array(n * K);
  return {
    dim: K * p + K,
    dot,
    norm: normInf,
    eval(theta, grad) {
      for (let k = 0; k < K; k++) {
        eta.fill(inp.intercept ? theta[K * p + k]! : 0, k * n, (k + 1) * n);
        const wo = k * p;
        const eo = k * n;
        for (let j = 0; j < p; j++) {
          const w = theta[wo + j]!;
          if (w === 0) continue;
          const xo = j * n;
          for (let i = 0; i < n; i++) eta[eo + i] = eta[eo + i]! + w * x[xo + i]!;
        }
      }
      const loss = lossAndResiduals(y, n, K, eta, r);
      const inv = 1 / n;
      let pen = 0;
      for (let k = 0; k < K; k++) {
        const wo = k * p;
        const ro = k * n;
        for (let j = 0; j < p; j++) {
          const xo = j * n;
          let s0 = 0;
          let s1 = 0;
          let i = 0;
          for (; i + 1 < n; i += 2) {
            s0 += x[xo + i]! * r[ro + i]!;
            s1 += x[xo + i + 1]! * r[ro + i + 1]!;
          }
          if (i < n) s0 += x[xo + i]! * r[ro + i]!;
          const w = theta[wo + j]!;
          grad[wo + j] = (s0 + s1) * inv + lambda * w;
          pen += w * w;
        }
        let sb = 0;
        if (inp.intercept) for (let i = 0; i < n; i++) sb += r[ro + i]!;
        grad[K * p + k] = sb * inv;
      }
      return loss * inv + 0.5 * lambda * pen;
    },
  };
}

/**
 * A linear term added to F: ⟨Xᵀt, w⟩ + tb·b, i.e. tᵀ(Kα) + tb·b, whose gradient in the row-space
 * representation is [t | Kt | tb] (logistic_mixed.ts: the gap between the exact gradient and
 * the one from a float32-screened K).
 */
export interface RowTilt {
  t: Float64Array;
  /** K·t (with the problem's K). */
  kt: Float64Array;
  tb: Float64Array;
}

/**
 * theta = [α (K·n) | Kα (K·n) | b (K)] with w_k = Xᵀα_k; every linear operation of L-BFGS acts on
 * all three parts alike (Kα is linear in α), inner products are Σ αᵀ(Kα') + b·b'.
 */
export function rowSpaceProblem(
  inp: LogisticLbfgsInput,
  K: number,
  gram: Float64Array,
  tilt?: RowTilt,
): Problem & { kTimes(v: Float64Array): Float64Array } {
  const { n, y, lambda } = inp;
  const kn = K * n;
  const eta = new Float64Array(kn);
  const r = new Float64Array(kn);
  // K·r, the one O(n²) step per evaluation: the rows of K and r in WebAssembly memory, each entry
  // an f64x2 dot product (eight partial sums), ~2× the scalar loop. The workspace lives for this
  // synchronous solve only (the memory is reused by the next workspace on this thread).
  const ws = new RowWorkspace(n, n);
  ws.rows.set(gram);
  const rowDot = (u: Float64Array, v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < kn; i++) s += u[i]! * v[kn + i]!;
    for (let k = 0; k < K; k++) s += u[2 * kn + k]! * v[2 * kn + k]!;
    return s;
  };
  return {
    dim: 2 * kn + K,
    dot: rowDot,
    norm: g => Math.sqrt(Math.max(0, rowDot(g, g))),
    kTimes(v) {
      ws.w.set(v);
      return Float64Array.from({ length: n }, (_, i) => ws.dotW(i));
    },
    eval(theta, grad) {
      for (let k = 0; k < K; k++) {
        const b = inp.intercept ? theta[2 * kn + k]! : 0;
        for (let i = 0; i < n; i++) eta[k * n + i] = theta[kn + k * n + i]! + b;
      }
      const loss = lossAndResiduals(y, n, K, eta, r);
      const inv = 1 / n;
      let pen = 0;
      for (let i = 0; i < kn; i++) pen += theta[i]! * theta[kn + i]!; // Σ aᵀKa = ‖w‖²
      for (let k = 0; k < K; k++) {
        const o = k * n;
        // γ = r/n + λa, Kγ = K·r/n + λ·Ka (K symmetric, row-major).
        for (let i = 0; i < n; i++) grad[o + i] = r[o + i]! * inv + lambda * theta[o + i]!;
        ws.w.set(r.subarray(o, o + n));
        for (let i = 0; i < n; i++) {
          grad[kn + o + i] = ws.dotW(i) * inv + lambda * theta[kn + o + i]!;
        }
        let sb = 0;
        if (inp.intercept) for (let i = 0; i < n; i++) sb += r[o + i]!;
        grad[2 * kn + k] = sb * inv;
      }
      let linear = 0;
      if (tilt) {
        for (let i = 0; i < kn; i++) {
          linear += tilt.t[i]! * theta[kn + i]!;
          grad[i] = grad[i]! + tilt.t[i]!;
          grad[kn + i] = grad[kn + i]! + tilt.kt[i]!;
        }
        if (inp.intercept) {
          for (let k = 0; k < K; k++) {
            linear += tilt.tb[k]! * theta[2 * kn + k]!;
            grad[2 * kn + k] = grad[2 * kn + k]! + tilt.tb[k]!;
          }
        }
      }
      return loss * inv + 0.5 * lambda * pen + linear;
    },
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + a * x[i]!;
}

export function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
