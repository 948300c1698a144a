/**
 * l2-penalised logistic / multinomial regression on raw features by L-BFGS (scikit-learn's
 * default `lbfgs` solver for LogisticRegression), minimising the mean-loss form
 *
 *     F(w, b) = (1/n)·Σᵢ loss_i(Xw + b) + (λ/2)·‖w‖²,   λ = 1/(C·n)
 *
 * which has the same minimiser as scikit-learn's C·Σ loss + ½‖w‖². The intercept is not penalised.
 * Why not coordinate descent: with p ≫ n and a small λ the ridge-logistic problem is badly
 * conditioned along the n-dimensional row space, and CD over thousands of coordinates needs
 * thousands of passes; a quasi-Newton method needs tens to hundreds of gradients, each two
 * passes over X (measured: 200 × 2,000 binary 1.3 s → tens of ms).
 *
 * Stops when ‖∇F‖∞ ≤ gtol·max(1, ‖∇F(0)‖∞) — `gtol` far below scikit-learn's default (its lbfgs
 * stops at ‖∇‖∞ ≤ 1e-4 on the summed form), so results are the exact optimum to ~1e-8 —, or when
 * no step lowers F or ‖∇F‖ any more (rounding floor: converged if ‖∇F‖∞ ≤ 1e-11·‖∇F(0)‖∞), or
 * after `maxIter` iterations.
 * Deterministic: no randomness, fixed summation order.
 */
import { checkAbort } from '../core/method';

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
}

export interface LogisticLbfgsFit {
  /** K·p coefficients (K = 1 for binary), class-major: coef[k·p + j]. */
  coef: Float64Array;
  /** K intercepts (summing to 0 when K > 1). */
  intercept: Float64Array;
  iterations: number;
  converged: boolean;
  /** Final ‖∇F‖∞. */
  gradNorm: number;
}

const MEMORY = 10;
/** ‖∇F‖∞ relative to its value at 0 that counts as converged at the rounding floor. */
const FLOOR_TOL = 1e-11;

export function logisticLbfgs(inp: LogisticLbfgsInput): LogisticLbfgsFit {
  const { p, maxIter } = inp;
  const K = inp.nClasses > 2 ? inp.nClasses : 1;
  const dim = K * p + K; // coefficients, then intercepts
  const obj = new Objective(inp, K);
  let theta = new Float64Array(dim);
  let g = new Float64Array(dim);
  let f = obj.eval(theta, g);
  const g0 = normInf(g);
  const stop = inp.gtol * Math.max(1, g0);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(dim);
  const alphaBuf = new Float64Array(MEMORY);
  let next = new Float64Array(dim);
  let gNext = new Float64Array(dim);
  let iter = 0;
  let converged = normInf(g) <= stop;
  while (!converged && iter < maxIter) {
    checkAbort(inp.signal);
    iter++;
    direction(g, S, Y, rho, d, alphaBuf);
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in the curvature pairs): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < dim; i++) d[i] = -g[i]!;
      slope = -dot(g, g);
    }
    // Backtracking Armijo line search; the first iteration's step is scaled to a unit move.
    let step = S.length === 0 ? Math.min(1, 1 / Math.max(normInf(g), 1e-300)) : 1;
    let fNext = Infinity;
    let accepted = false;
    const gNorm = normInf(g);
    // Near the optimum F changes by ~‖∇F‖² per step, below F's rounding (ε·|F|) once ‖∇F‖ is
    // ~1e-8: there a step that does not raise F beyond rounding and shrinks the gradient is
    // accepted, so tight `tol`s are reachable (the gradient is accurate to far below that).
    const fFloor = 8 * Number.EPSILON * Math.max(1, Math.abs(f));
    for (let ls = 0; ls < 40 && !accepted; ls++) {
      for (let i = 0; i < dim; i++) next[i] = theta[i]! + step * d[i]!;
      fNext = obj.eval(next, gNext);
      accepted =
        fNext <= f + 1e-4 * step * slope || (fNext <= f + fFloor && normInf(gNext) < gNorm);
      if (!accepted) step *= 0.5;
    }
    if (!accepted) {
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
    const sy = dot(s, yv);
    if (sy > 1e-16 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
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
    converged = normInf(g) <= stop;
  }
  const coef = theta.slice(0, K * p);
  const intercept = theta.slice(K * p);
  if (K > 1) {
    // Softmax is unchanged by a common shift: report intercepts summing to 0 (as sklearn / glmnet).
    let m = 0;
    for (let k = 0; k < K; k++) m += intercept[k]!;
    for (let k = 0; k < K; k++) intercept[k] = intercept[k]! - m / K;
  }
  return { coef, intercept, iterations: iter, converged, gradNorm: normInf(g) };
}

/** The two-loop recursion: d = −H·g with the scaled-identity initial Hessian (Nocedal & Wright 7.4). */
function direction(
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
    const a = rho[k]! * dot(S[k]!, d);
    alpha[k] = a;
    axpy(-a, Y[k]!, d);
  }
  if (m > 0) {
    const gamma = dot(S[m - 1]!, Y[m - 1]!) / dot(Y[m - 1]!, Y[m - 1]!);
    for (let i = 0; i < d.length; i++) d[i] = d[i]! * gamma;
  }
  for (let k = 0; k < m; k++) {
    const b = rho[k]! * dot(Y[k]!, d);
    axpy(alpha[k]! - b, S[k]!, d);
  }
  for (let i = 0; i < d.length; i++) d[i] = -d[i]!;
}

/** F and ∇F for the binary (K = 1) or multinomial (K classes) loss. */
class Objective {
  private readonly eta: Float64Array;
  private readonly resid: Float64Array;

  constructor(
    private readonly inp: LogisticLbfgsInput,
    private readonly K: number,
  ) {
    this.eta = new Float64Array(inp.n * K);
    this.resid = new Float64Array(inp.n * K);
  }

  eval(theta: Float64Array, grad: Float64Array): number {
    const { x, n, p, y, lambda } = this.inp;
    const K = this.K;
    const eta = this.eta;
    const r = this.resid;
    // η[k·n + i] = b_k + Σ_j x_ij w_kj (column-major axpy passes).
    for (let k = 0; k < K; k++) {
      const b = this.inp.intercept ? theta[K * p + k]! : 0;
      eta.fill(b, k * n, (k + 1) * n);
      const wo = k * p;
      const eo = k * n;
      for (let j = 0; j < p; j++) {
        const w = theta[wo + j]!;
        if (w === 0) continue;
        const xo = j * n;
        for (let i = 0; i < n; i++) eta[eo + i] = eta[eo + i]! + w * x[xo + i]!;
      }
    }
    let loss = 0;
    if (K === 1) {
      for (let i = 0; i < n; i++) {
        const e = eta[i]!;
        // softplus(η) − yη, and σ(η) − y, both without overflow.
        const sp = e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e));
        loss += sp - (y[i] === 1 ? e : 0);
        const sig = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
        r[i] = sig - (y[i] === 1 ? 1 : 0);
      }
    } else {
      for (let i = 0; i < n; i++) {
        let mx = -Infinity;
        for (let k = 0; k < K; k++) mx = Math.max(mx, eta[k * n + i]!);
        let z = 0;
        for (let k = 0; k < K; k++) z += Math.exp(eta[k * n + i]! - mx);
        const lse = mx + Math.log(z);
        loss += lse - eta[y[i]! * n + i]!;
        for (let k = 0; k < K; k++) {
          r[k * n + i] = Math.exp(eta[k * n + i]! - lse) - (y[i] === k ? 1 : 0);
        }
      }
    }
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
      if (this.inp.intercept) for (let i = 0; i < n; i++) sb += r[ro + i]!;
      grad[K * p + k] = sb * inv;
    }
    return loss * inv + 0.5 * lambda * pen;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + a * x[i]!;
}

function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
