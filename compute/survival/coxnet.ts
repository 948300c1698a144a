/**
 * Penalised Cox regression with glmnet family = "cox" semantics (Simon, Friedman, Hastie &
 * Tibshirani 2011, J Stat Softw 39(5)):
 *   minimise  −ℓ(β)/n + λ [ (1 − α)/2 ‖β‖² + α ‖β‖₁ ]
 * with ℓ the Breslow partial log-likelihood (glmnet handles tied times by Breslow), α = l1_ratio,
 * λ = glmnet's lambda (our `alpha`), features standardised (population sd) when `standardize`,
 * coefficients reported on the original scale.
 *
 * Algorithm: proximal Newton. At the current β the log-likelihood is replaced by its quadratic
 * approximation with the diagonal of the Hessian in η (working weights h_i/n, working residual
 * g_i/h_i), solved by cyclic coordinate descent over an active set (strong rules from the previous
 * λ, KKT check on the rest); a backtracking step on the exact objective guards each Newton step.
 * Warm starts along the λ path.
 *
 * CV (cv.glmnet, grouped deviance of Verweij & van Houwelingen 1993): for fold k,
 * cvraw_k(λ) = [D_full(β̂₋ₖ) − D₋ₖ(β̂₋ₖ)] / events_k, with D = 2(ℓ_sat − ℓ) the Breslow deviance;
 * cvm = events-weighted mean over folds, cvsd its weighted standard error; lambda.min minimises
 * cvm, lambda.1se is the largest λ with cvm ≤ cvm(lambda.min) + cvsd(lambda.min).
 */
import { checkAbort } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';
import { type Rng } from '../core/rng';
import { cholesky } from './coxph';
import { riskSets, type RiskSets } from './risk-sets';
import { supportCd, supportCholesky, supportGram } from './support-cd';

/**
 * Default convergence threshold on max_j c_j Δβ_j² (c_j the coordinate's curvature of −ℓ/n), the
 * analogue of glmnet's thresh = 1e-7; fixed-penalty fits in the selector use 1e-10.
 */
export const DEFAULT_TOL = 1e-7;

export interface CoxnetOptions {
  l1Ratio: number;
  standardize: boolean;
  /** Explicit decreasing λ values; otherwise a path from λ_max. */
  lambdas?: number[];
  nLambda?: number;
  /** λ_min / λ_max; default 0.01 when n < p, else 1e-4 (glmnet). */
  lambdaMinRatio?: number | null;
  /** Convergence threshold on the weighted squared coefficient change. */
  tol?: number;
  maxIter?: number;
  signal?: AbortSignal;
}

export interface CoxnetPath {
  lambdas: Float64Array;
  /** Coefficients on the original scale, one p-vector per λ. */
  beta: Float64Array[];
  /** Coefficients on the standardised scale. */
  betaStd: Float64Array[];
  iterations: number[];
  converged: boolean[];
  means: Float64Array;
  scales: Float64Array;
}

/** Breslow ℓ (sorted risk sets), gradient g and diagonal Hessian h in η. */
export function breslowState(
  eta: Float64Array,
  rs: RiskSets,
  event: ArrayLike<number>,
  g?: Float64Array,
  h?: Float64Array,
): number {
  const n = rs.n;
  let shift = -Infinity;
  for (let i = 0; i < n; i++) if (eta[i]! > shift) shift = eta[i]!;
  const S0g = new Float64Array(rs.groups);
  let S0 = 0;
  let ll = 0;
  for (let grp = 0; grp < rs.groups; grp++) {
    for (let r = rs.start[grp]!; r < rs.start[grp + 1]!; r++) {
      const i = rs.order[r]!;
      S0 += Math.exp(eta[i]! - shift);
      if (event[i]) ll += eta[i]! - shift;
    }
    S0g[grp] = S0;
    const d = rs.events[grp]!;
    if (d > 0) ll -= d * Math.log(S0);
  }
  if (g && h) {
    // Ascending time: A_i = Σ_{t_k ≤ T_i} d_k / S0_k, B_i = Σ d_k / S0_k².
    let A = 0;
    let B = 0;
    for (let grp = rs.groups - 1; grp >= 0; grp--) {
      const d = rs.events[grp]!;
      if (d > 0) {
        A += d / S0g[grp]!;
        B += d / (S0g[grp]! * S0g[grp]!);
      }
      for (let r = rs.start[grp]!; r < rs.start[grp + 1]!; r++) {
        const i = rs.order[r]!;
        const w = Math.exp(eta[i]! - shift);
        g[i] = (event[i] ? 1 : 0) - w * A;
        h[i] = w * A - w * w * B;
      }
    }
  }
  return ll;
}

/** Breslow deviance 2(ℓ_sat − ℓ(β)) of column-major x (original scale) at β (glmnet coxnet.deviance). */
export function coxDeviance(
  x: Float64Array,
  n: number,
  rows: Int32Array | null,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  beta: Float64Array,
): number {
  const m = rows ? rows.length : n;
  const t = new Float64Array(m);
  const e = new Uint8Array(m);
  const eta = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    const i = rows ? rows[a]! : a;
    t[a] = time[i]!;
    e[a] = event[i] ? 1 : 0;
  }
  for (let j = 0; j < beta.length; j++) {
    const b = beta[j]!;
    if (b === 0) continue;
    const off = j * n;
    for (let a = 0; a < m; a++) eta[a] += b * x[off + (rows ? rows[a]! : a)]!;
  }
  const rs = riskSets(t, e);
  const ll = breslowState(eta, rs, e);
  let lsat = 0;
  for (let grp = 0; grp < rs.groups; grp++) {
    const d = rs.events[grp]!;
    if (d > 0) lsat -= d * Math.log(d);
  }
  return 2 * (lsat - ll);
}

/** Copy rows of column-major x, centred and (optionally) scaled by the population sd. */
export function standardizeRows(
  x: Float64Array,
  n: number,
  p: number,
  rows: Int32Array | null,
  scale: boolean,
): { xs: Float64Array; means: Float64Array; scales: Float64Array } {
  const m = rows ? rows.length : n;
  const xs = new Float64Array(m * p);
  const means = new Float64Array(p);
  const scales = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const src = j * n;
    const dst = j * m;
    let s = 0;
    for (let a = 0; a < m; a++) {
      const v = x[src + (rows ? rows[a]! : a)]!;
      xs[dst + a] = v;
      s += v;
    }
    const mu = s / m;
    let ss = 0;
    for (let a = 0; a < m; a++) {
      const d = xs[dst + a]! - mu;
      xs[dst + a] = d;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / m);
    means[j] = mu;
    scales[j] = scale ? sd : 1;
    if (scale && sd > 0) for (let a = 0; a < m; a++) xs[dst + a]! /= sd;
  }
  return { xs, means, scales };
}

/** |x̃_jᵀ g| / n per feature. */
function scoreGradient(
  xs: Float64Array,
  n: number,
  p: number,
  g: Float64Array,
  out: Float64Array,
): void {
  // Four columns per pass over g: four independent sequential sums (each the single-column
  // loop's, so the same bits), not one chain of dependent additions.
  let j = 0;
  for (; j + 4 <= p; j += 4) {
    const o0 = j * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i++) {
      const v = g[i]!;
      s0 += xs[o0 + i]! * v;
      s1 += xs[o1 + i]! * v;
      s2 += xs[o2 + i]! * v;
      s3 += xs[o3 + i]! * v;
    }
    out[j] = Math.abs(s0) / n;
    out[j + 1] = Math.abs(s1) / n;
    out[j + 2] = Math.abs(s2) / n;
    out[j + 3] = Math.abs(s3) / n;
  }
  for (; j < p; j++) {
    const off = j * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[off + i]! * g[i]!;
    out[j] = Math.abs(s) / n;
  }
}

/** λ_max and the default path for standardised data. */
export function lambdaPath(
  xs: Float64Array,
  n: number,
  p: number,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  l1Ratio: number,
  nLambda: number,
  minRatio: number | null | undefined,
): Float64Array {
  const rs = riskSets(time, event);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  breslowState(new Float64Array(n), rs, event, g, h);
  const grad = new Float64Array(p);
  scoreGradient(xs, n, p, g, grad);
  let max = 0;
  for (let j = 0; j < p; j++) max = Math.max(max, grad[j]!);
  const lmax = max / Math.max(l1Ratio, 1e-3);
  const ratio = minRatio ?? (n < p ? 0.01 : 1e-4);
  return Float64Array.from({ length: nLambda }, (_, k) =>
    nLambda === 1 ? lmax : lmax * Math.pow(ratio, k / (nLambda - 1)),
  );
}

/**
 * Negative Hessian of the Breslow ℓ in η at the current state, applied to a vector:
 *   (Hv)_i = w_i A_i v_i − w_i Σ_{t_k ≤ T_i} (d_k / S0_k²) Σ_{j ∈ R_k} w_j v_j,
 * two O(n) passes over the sorted risk sets (exact, ties included).
 */
class CoxCurvature {
  readonly w: Float64Array;
  readonly A: Float64Array;
  private readonly S0: Float64Array;
  private readonly rk: Float64Array;
  private wSorted: Float64Array | undefined;
  private aSorted: Float64Array | undefined;

  constructor(
    private readonly rs: RiskSets,
    eta: Float64Array,
  ) {
    const n = rs.n;
    let shift = -Infinity;
    for (let i = 0; i < n; i++) if (eta[i]! > shift) shift = eta[i]!;
    this.w = Float64Array.from(eta, e => Math.exp(e - shift));
    this.S0 = new Float64Array(rs.groups);
    this.rk = new Float64Array(rs.groups);
    let S0 = 0;
    for (let g = 0; g < rs.groups; g++) {
      for (let r = rs.start[g]!; r < rs.start[g + 1]!; r++) S0 += this.w[rs.order[r]!]!;
      this.S0[g] = S0;
    }
    this.A = new Float64Array(n);
    let A = 0;
    for (let g = rs.groups - 1; g >= 0; g--) {
      if (rs.events[g]! > 0) A += rs.events[g]! / this.S0[g]!;
      for (let r = rs.start[g]!; r < rs.start[g + 1]!; r++) this.A[rs.order[r]!] = A;
    }
  }

  /**
   * out = H x_j / n for the column x_j = xs[off … off + n): `apply` fused with the column read and
   * the division by n (the same operations on the same values, so the same bits), over the
   * weights and A in risk-set order.
   */
  applyColumn(xs: Float64Array, off: number, out: Float64Array, n: number): void {
    const { rs, S0, rk } = this;
    const order = rs.order;
    const ws = (this.wSorted ??= Float64Array.from(order, i => this.w[i]!));
    const as = (this.aSorted ??= Float64Array.from(order, i => this.A[i]!));
    let R = 0;
    for (let g = 0; g < rs.groups; g++) {
      const end = rs.start[g + 1]!;
      for (let r = rs.start[g]!; r < end; r++) R += ws[r]! * xs[off + order[r]!]!;
      rk[g] = R;
    }
    let C = 0;
    for (let g = rs.groups - 1; g >= 0; g--) {
      const d = rs.events[g]!;
      if (d > 0) C += (d / (S0[g]! * S0[g]!)) * rk[g]!;
      const end = rs.start[g + 1]!;
      for (let r = rs.start[g]!; r < end; r++) {
        const i = order[r]!;
        out[i] = (ws[r]! * (as[r]! * xs[off + i]! - C)) / n;
      }
    }
  }
}

/** Σ_i xs[off + i] · v[i]. */
function dotCol(xs: Float64Array, off: number, v: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[off + i]! * v[i]!;
  return s;
}

/**
 * Coordinate descent on the second-order model (see coxnetFitStd); a top-level function with
 * plain typed-array arguments so V8 keeps it optimised.
 */
function cdSweeps(
  xs: Float64Array,
  n: number,
  p: number,
  active: Uint8Array,
  beta: Float64Array,
  g: Float64Array,
  u: Float64Array,
  xg: Float64Array,
  cj: Float64Array,
  hx: (Float64Array | undefined)[],
  moved: number[],
  curv: CoxCurvature,
  thr: number,
  ridge: number,
  tol: number,
): void {
  // glmnet-style: a full pass over the active set, then passes over the non-zero coordinates
  // only until they settle, then a full pass again to confirm nothing else wants to move.
  // x_jᵀu for the next few active coordinates, computed together (`dots4`); valid while u has
  // not changed since (uVer). Each is the same sequential sum as dotCol, so the bits are too.
  let uVer = 0;
  let batchVer = -1;
  let batchStart = 0;
  let batchEnd = 0;
  const du = new Float64Array(4);
  const dg = new Float64Array(4);
  const visit = (j: number, xu: number): number => {
    const off = j * n;
    const gj = xg[j]!;
    // Smooth-part gradient at the current β: −x_jᵀg/n + x_jᵀu (u = H X (β − β₀) / n).
    const grad1 = xu - gj;
    let c = cj[j]!;
    if (c !== c) {
      // A coordinate at zero that stays at zero does not need its curvature.
      if (beta[j] === 0 && Math.abs(grad1) <= thr) return 0;
      let hv = hx[j];
      if (hv === undefined) {
        hv = new Float64Array(n);
        hx[j] = hv;
      }
      curv.applyColumn(xs, off, hv, n);
      c = dotCol(xs, off, hv, n);
      cj[j] = c;
      moved.push(j);
    }
    const zj = c * beta[j]! - grad1;
    const bNew = zj > thr ? (zj - thr) / (c + ridge) : zj < -thr ? (zj + thr) / (c + ridge) : 0;
    const d = bNew - beta[j]!;
    if (d === 0) return 0;
    beta[j] = bNew;
    const hv = hx[j]!;
    for (let i = 0; i < n; i++) u[i] += d * hv[i]!;
    uVer++;
    return c * d * d;
  };
  const act = new Int32Array(p);
  for (let round = 0; round < 1000; round++) {
    let m = 0;
    for (let j = 0; j < p; j++) if (active[j]) act[m++] = j;
    let maxChange = 0;
    for (let t = 0; t < m; t++) {
      const j = act[t]!;
      if (batchVer !== uVer || t >= batchEnd || t < batchStart) {
        batchStart = t;
        batchEnd = Math.min(m, t + 4);
        const last = act[batchEnd - 1]!;
        const o0 = j * n;
        const o1 = (t + 1 < batchEnd ? act[t + 1]! : last) * n;
        const o2 = (t + 2 < batchEnd ? act[t + 2]! : last) * n;
        const o3 = (t + 3 < batchEnd ? act[t + 3]! : last) * n;
        let needG = false;
        for (let q = t; q < batchEnd; q++) if (xg[act[q]!] !== xg[act[q]!]) needG = true;
        if (needG) {
          dots4(xs, n, o0, o1, o2, o3, g, dg);
          for (let q = t; q < batchEnd; q++) {
            const jq = act[q]!;
            if (xg[jq] !== xg[jq]) xg[jq] = dg[q - t]! / n;
          }
        }
        dots4(xs, n, o0, o1, o2, o3, u, du);
        batchVer = uVer;
      }
      const change = visit(j, du[t - batchStart]!);
      if (change > maxChange) maxChange = change;
    }
    batchVer = -1; // the next round starts a new batch
    if (maxChange < tol) return;
    supportNewton(xs, n, p, active, beta, u, xg, hx, thr, ridge, tol);
    uVer++;
  }
}

/**
 * out[k] = Σ_i xs[o_k + i] · v[i] for four columns at once: four independent sequential sums
 * (each exactly dotCol's), so the add latency of one chain no longer bounds the loop.
 */
function dots4(
  xs: Float64Array,
  n: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  v: Float64Array,
  out: Float64Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n; i++) {
    const w = v[i]!;
    s0 += xs[o0 + i]! * w;
    s1 += xs[o1 + i]! * w;
    s2 += xs[o2 + i]! * w;
    s3 += xs[o3 + i]! * w;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/**
 * Removes row/column k from the Cholesky factor held in the leading m × m block of L (lower,
 * row-major, row stride ld), in place: the trailing block gets the rank-one update
 * L₂₂L₂₂ᵀ + x xᵀ with x = L[k+1.., k], O(m²) instead of refactorising, and no new m² array per
 * deletion. Entries above the diagonal are left stale (never read). `x` is scratch (length ≥ m).
 */
function choleskyDelete(L: Float64Array, ld: number, m: number, k: number, x: Float64Array): void {
  const q = m - 1;
  for (let r = k; r < q; r++) {
    const src = (r + 1) * ld;
    const dst = r * ld;
    x[r] = L[src + k]!;
    for (let c = 0; c < k; c++) L[dst + c] = L[src + c]!;
    for (let c = k; c <= r; c++) L[dst + c] = L[src + c + 1]!;
  }
  for (let i = k; i < q; i++) {
    const lii = L[i * ld + i]!;
    const rr = Math.hypot(lii, x[i]!);
    const c = rr / lii;
    const s = x[i]! / lii;
    L[i * ld + i] = rr;
    for (let j = i + 1; j < q; j++) {
      const v = (L[j * ld + i]! + s * x[j]!) / c;
      L[j * ld + i] = v;
      x[j] = c * x[j]! - s * v;
    }
  }
}

/**
 * Solves L Lᵀ d = b for the factor in the leading m × m block of L (row stride ld); `y` is
 * scratch (length ≥ m). Both triangular solves read L by rows.
 */
function choleskySolveLd(
  L: Float64Array,
  ld: number,
  m: number,
  b: Float64Array,
  y: Float64Array,
  d: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    const o = i * ld;
    for (let k = 0; k < i; k++) s -= L[o + k]! * y[k]!;
    y[i] = s / L[o + i]!;
  }
  // Lᵀ d = y by rows of L (contiguous): once d_i is known, its terms leave the rows above.
  for (let i = 0; i < m; i++) d[i] = y[i]!;
  for (let i = m - 1; i >= 0; i--) {
    const o = i * ld;
    const di = d[i]! / L[o + i]!;
    d[i] = di;
    for (let k = 0; k < i; k++) d[k] -= L[o + k]! * di;
  }
}

/**
 * Solve the second-order model exactly on the current support S (non-zero coordinates, signs
 * fixed): (M_SS + λ(1−α)I) d = −∇_S, M = XᵀHX/n, stepping at most to the first sign change (that
 * coordinate leaves S) and repeating. Coordinate descent alone crawls here when S is large and
 * nearly collinear (p ≫ n near the end of the path); this needs |S|² n + |S|³ per solve.
 * A singular system (more non-zero coefficients than the risk sets identify) is solved by
 * coordinate descent on the same quadratic model instead (`supportCd`).
 */
function supportNewton(
  xs: Float64Array,
  n: number,
  p: number,
  active: Uint8Array,
  beta: Float64Array,
  u: Float64Array,
  xg: Float64Array,
  hx: (Float64Array | undefined)[],
  thr: number,
  ridge: number,
  tol: number,
): void {
  const S: number[] = [];
  for (let j = 0; j < p; j++) if (active[j] && beta[j] !== 0) S.push(j);
  const m0 = S.length;
  if (m0 === 0) return;
  // M (with the ridge on the diagonal) and the smooth gradient on S, built once.
  const M = new Float64Array(m0 * m0);
  const grad = new Float64Array(m0);
  // The Gram on the wasm kernel when available (same bits as the loop below).
  const wasmGram = supportGram(xs, n, S, hx, M);
  for (let a = 0; a < m0; a++) {
    const off = S[a]! * n;
    let b = wasmGram ? a + 1 : 0;
    // Four products per pass over column a (each the same sequential sum as dotCol).
    for (; b + 3 <= a; b += 4) {
      const h0 = hx[S[b]!]!;
      const h1 = hx[S[b + 1]!]!;
      const h2 = hx[S[b + 2]!]!;
      const h3 = hx[S[b + 3]!]!;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < n; i++) {
        const x = xs[off + i]!;
        s0 += x * h0[i]!;
        s1 += x * h1[i]!;
        s2 += x * h2[i]!;
        s3 += x * h3[i]!;
      }
      M[a * m0 + b] = M[b * m0 + a] = s0;
      M[a * m0 + b + 1] = M[(b + 1) * m0 + a] = s1;
      M[a * m0 + b + 2] = M[(b + 2) * m0 + a] = s2;
      M[a * m0 + b + 3] = M[(b + 3) * m0 + a] = s3;
    }
    for (; b <= a; b++) {
      const v = dotCol(xs, off, hx[S[b]!]!, n);
      M[a * m0 + b] = v;
      M[b * m0 + a] = v;
    }
    grad[a] = dotCol(xs, off, u, n) - xg[S[a]!]!;
  }
  const keep: number[] = Array.from({ length: m0 }, (_, a) => a);
  const total = new Float64Array(m0); // accumulated step per support position
  const A = new Float64Array(m0 * m0);
  for (let r = 0; r < m0; r++) {
    for (let c = 0; c < m0; c++) A[r * m0 + c] = M[r * m0 + c]!;
    A[r * m0 + r] += ridge;
  }
  const Lw = supportCholesky(A, m0);
  const L = Lw === undefined ? cholesky(A, m0) : Lw;
  if (!L) {
    supportCd(M, m0, grad, S, beta, total, thr, ridge, tol);
    keep.length = 0;
  }
  // After a step t·d (A d = rhs on the kept coordinates, the leaving one landing on zero), the
  // kept coordinates' right-hand side is rhs − t·A d = (1 − t)·rhs: the next system needs no
  // gradient update (the signs of the kept coordinates, hence the l1 term, do not change).
  const rhs = new Float64Array(m0);
  const d = new Float64Array(m0);
  const scratch = new Float64Array(m0);
  for (let a = 0; a < m0; a++) {
    const j = S[a]!;
    rhs[a] = -(grad[a]! + ridge * beta[j]! + thr * Math.sign(beta[j]!));
  }
  for (let rep = 0; rep < m0 + 1 && keep.length > 0 && L; rep++) {
    const m = keep.length;
    choleskySolveLd(L, m0, m, rhs, scratch, d);
    // Longest step keeping every sign; the first coordinate to reach zero leaves S.
    let t = 1;
    let leaving = -1;
    for (let r = 0; r < m; r++) {
      const b = beta[S[keep[r]!]!]!;
      const nb = b + d[r]!;
      if (nb !== 0 && Math.sign(nb) !== Math.sign(b)) {
        const tr = -b / d[r]!;
        if (tr < t) {
          t = tr;
          leaving = r;
        }
      }
    }
    for (let r = 0; r < m; r++) {
      const j = S[keep[r]!]!;
      const st = r === leaving ? -beta[j]! : t * d[r]!;
      beta[j] = r === leaving ? 0 : beta[j]! + st;
      total[keep[r]!] += st;
    }
    if (leaving < 0) break;
    keep.splice(leaving, 1);
    for (let r = 0, w = 0; r < m; r++) if (r !== leaving) rhs[w++] = (1 - t) * rhs[r]!;
    choleskyDelete(L, m0, m, leaving, scratch);
  }
  // u = H X (β − β₀) / n follows the accumulated steps.
  for (let a = 0; a < m0; a++) {
    const st = total[a]!;
    if (st === 0) continue;
    const hv = hx[S[a]!]!;
    for (let i = 0; i < n; i++) u[i] += st * hv[i]!;
  }
}

/**
 * Fit the path on standardised xs (n × p); returns coefficients on the standardised scale.
 *
 * Each outer step minimises the exact second-order model of −ℓ/n around β₀ (gradient Xᵀg, full
 * Hessian XᵀHX applied through `CoxCurvature`, so steps converge quadratically) plus the penalty,
 * by coordinate descent that tracks u = H X (β − β₀). Coordinates that stay at zero never need
 * their curvature, so H x_j is formed only for coordinates that move.
 */
export function coxnetFitStd(
  xs: Float64Array,
  n: number,
  p: number,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  lambdas: ArrayLike<number>,
  l1Ratio: number,
  tol: number,
  maxIter: number,
  signal?: AbortSignal,
  earlyStop = false,
): { betas: Float64Array[]; iterations: number[]; converged: boolean[] } {
  const rs = riskSets(time, event);
  // Deviance ratio 1 − D(β)/D(0) for glmnet's path stopping rules.
  let lsat = 0;
  for (let grp = 0; grp < rs.groups; grp++) {
    const d = rs.events[grp]!;
    if (d > 0) lsat -= d * Math.log(d);
  }
  const devRatios: number[] = [];
  const beta = new Float64Array(p);
  const eta = new Float64Array(n);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const u = new Float64Array(n);
  const grad = new Float64Array(p);
  const active = new Uint8Array(p);
  const betas: Float64Array[] = [];
  const iterations: number[] = [];
  const converged: boolean[] = [];
  const a = l1Ratio;

  const penalty = (lam: number, b: Float64Array): number => {
    let l1 = 0;
    let l2 = 0;
    for (let j = 0; j < p; j++) {
      if (b[j] === 0) continue;
      l1 += Math.abs(b[j]!);
      l2 += b[j]! * b[j]!;
    }
    return lam * (((1 - a) / 2) * l2 + a * l1);
  };
  const computeEta = (): void => {
    eta.fill(0);
    for (let j = 0; j < p; j++) {
      const b = beta[j]!;
      if (b === 0) continue;
      const off = j * n;
      for (let i = 0; i < n; i++) eta[i] += b * xs[off + i]!;
    }
  };

  let ll = breslowState(eta, rs, event, g, h);
  const dev0 = 2 * (lsat - ll);
  scoreGradient(xs, n, p, g, grad);
  let lamPrev = 0;
  for (let j = 0; j < p; j++) lamPrev = Math.max(lamPrev, grad[j]! / Math.max(a, 1e-3));
  const xg = new Float64Array(p);
  const cj = new Float64Array(p);
  const hx: (Float64Array | undefined)[] = new Array<Float64Array | undefined>(p);
  const moved: number[] = [];

  for (let li = 0; li < lambdas.length; li++) {
    checkAbort(signal);
    const lam = lambdas[li]!;
    const thr = lam * a;
    const ridge = lam * (1 - a);
    // Strong rule (Tibshirani et al. 2012) plus everything already non-zero.
    const cut = a * (2 * lam - lamPrev);
    for (let j = 0; j < p; j++) if (beta[j] !== 0 || grad[j]! >= cut) active[j] = 1;
    let iters = 0;
    let ok = false;
    for (let kkt = 0; kkt < 100; kkt++) {
      ok = false;
      for (; iters < maxIter; iters++) {
        const objOld = -ll / n + penalty(lam, beta);
        const curv = new CoxCurvature(rs, eta);
        const b0 = beta.slice();
        // Per-step caches (NaN = not computed yet): x_jᵀg / n, x_jᵀHx_j / n and H x_j / n.
        xg.fill(NaN);
        cj.fill(NaN);
        moved.length = 0;
        u.fill(0);
        cdSweeps(xs, n, p, active, beta, g, u, xg, cj, hx, moved, curv, thr, ridge, tol * 1e-3);
        // Exact objective with backtracking along the step.
        computeEta();
        let llNew = breslowState(eta, rs, event);
        let objNew = -llNew / n + penalty(lam, beta);
        for (let bt = 0; bt < 40 && objNew > objOld + 1e-15 * Math.abs(objOld); bt++) {
          for (let j = 0; j < p; j++) beta[j] = b0[j]! + (beta[j]! - b0[j]!) * 0.5;
          computeEta();
          llNew = breslowState(eta, rs, event);
          objNew = -llNew / n + penalty(lam, beta);
        }
        let step = 0;
        for (const j of moved) {
          const d = beta[j]! - b0[j]!;
          step = Math.max(step, cj[j]! * d * d);
        }
        ll = breslowState(eta, rs, event, g, h);
        if (step < tol || objOld - objNew <= 1e-16 * Math.abs(objNew)) {
          iters++;
          ok = true;
          break;
        }
      }
      // KKT check outside the active set.
      scoreGradient(xs, n, p, g, grad);
      let violations = 0;
      for (let j = 0; j < p; j++) {
        if (!active[j] && grad[j]! > thr * (1 + 1e-9)) {
          active[j] = 1;
          violations++;
        }
      }
      if (violations === 0 || iters >= maxIter) break;
    }
    lamPrev = lam;
    betas.push(beta.slice());
    iterations.push(iters);
    converged.push(ok);
    // glmnet (fdev = 1e-5, devmax = 0.999, at least 5 λ): stop a generated path once the
    // explained deviance saturates; near saturation with p ≫ n the fits only get harder.
    const ratio = 1 - (2 * (lsat - ll)) / dev0;
    devRatios.push(ratio);
    const m = devRatios.length;
    if (earlyStop && m >= 5) {
      if ((ratio - devRatios[m - 5]!) / ratio < 1e-5 || ratio > 0.999) break;
    }
  }
  return { betas, iterations, converged };
}

/** Fit the penalised Cox path on column-major x (n × p) with glmnet conventions. */
export function coxnetPath(
  x: Float64Array,
  n: number,
  p: number,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  opts: CoxnetOptions,
  rows: Int32Array | null = null,
): CoxnetPath {
  const m = rows ? rows.length : n;
  const t = rows ? Float64Array.from(rows, i => time[i]!) : Float64Array.from(time);
  const e = rows ? Uint8Array.from(rows, i => (event[i] ? 1 : 0)) : Uint8Array.from(event);
  const { xs, means, scales } = standardizeRows(x, n, p, rows, opts.standardize);
  const generated = !opts.lambdas;
  const lambdaSeq = opts.lambdas
    ? Float64Array.from(opts.lambdas)
    : lambdaPath(xs, m, p, t, e, opts.l1Ratio, opts.nLambda ?? 100, opts.lambdaMinRatio);
  const fit = coxnetFitStd(
    xs,
    m,
    p,
    t,
    e,
    lambdaSeq,
    opts.l1Ratio,
    opts.tol ?? DEFAULT_TOL,
    opts.maxIter ?? 1000,
    opts.signal,
    generated,
  );
  const lambdas = lambdaSeq.slice(0, fit.betas.length);
  const beta = fit.betas.map(b => b.map((v, j) => (scales[j]! > 0 ? v / scales[j]! : 0)));
  return {
    lambdas,
    beta,
    betaStd: fit.betas,
    iterations: fit.iterations,
    converged: fit.converged,
    means,
    scales,
  };
}

export interface CoxnetFoldInput {
  x: Float64Array;
  n: number;
  p: number;
  time: Float64Array;
  event: Uint8Array;
  train: Int32Array;
  lambdas: Float64Array;
  l1Ratio: number;
  standardize: boolean;
  tol: number;
  maxIter: number;
}

/** One CV fold: deviance difference per λ (exported for worker threads). */
export function coxnetFold(input: CoxnetFoldInput): Float64Array {
  const { x, n, p, time, event, train } = input;
  const path = coxnetPath(
    x,
    n,
    p,
    time,
    event,
    {
      l1Ratio: input.l1Ratio,
      standardize: input.standardize,
      lambdas: Array.from(input.lambdas),
      tol: input.tol,
      maxIter: input.maxIter,
    },
    train,
  );
  return Float64Array.from(
    path.beta,
    b => coxDeviance(x, n, null, time, event, b) - coxDeviance(x, n, train, time, event, b),
  );
}

export interface CoxnetCv {
  lambdas: Float64Array;
  cvm: Float64Array;
  cvsd: Float64Array;
  lambdaMin: number;
  lambda1se: number;
  indexMin: number;
  index1se: number;
  foldid: Int32Array;
  /** The fit on all rows along `lambdas`. */
  path: CoxnetPath;
}

/** cv.glmnet(family = "cox", type.measure = "deviance", grouped = TRUE). */
export async function coxnetCv(
  x: Float64Array,
  n: number,
  p: number,
  time: Float64Array,
  event: Uint8Array,
  opts: CoxnetOptions & { nFolds: number; foldid?: Int32Array; threads?: number },
  rng: Rng,
  onProgress?: (f: number) => void,
): Promise<CoxnetCv> {
  const k = opts.nFolds;
  let foldid = opts.foldid;
  if (!foldid) {
    const perm = rng.permutation(n);
    foldid = new Int32Array(n);
    for (let r = 0; r < n; r++) foldid[perm[r]!] = (r % k) + 1;
  }
  // The full-data path first: its (possibly early-stopped) λ sequence is the one the folds use,
  // and its coefficients are the final fit, as cv.glmnet's glmnet.fit.
  const path = coxnetPath(x, n, p, time, event, opts);
  const lambdas = path.lambdas;
  const threads = Math.max(1, opts.threads ?? defaultThreads());
  let xShared = x;
  if (threads > 1 && !(x.buffer instanceof SharedArrayBuffer)) {
    xShared = new Float64Array(new SharedArrayBuffer(x.byteLength));
    xShared.set(x);
  }
  const inputs: CoxnetFoldInput[] = [];
  const eventsInFold = new Float64Array(k);
  for (let f = 1; f <= k; f++) {
    const train: number[] = [];
    for (let i = 0; i < n; i++) {
      if (foldid[i] !== f) train.push(i);
      else if (event[i]) eventsInFold[f - 1]++;
    }
    inputs.push({
      x: xShared,
      n,
      p,
      time,
      event,
      train: Int32Array.from(train),
      lambdas,
      l1Ratio: opts.l1Ratio,
      standardize: opts.standardize,
      tol: opts.tol ?? DEFAULT_TOL,
      maxIter: opts.maxIter ?? 1000,
    });
  }
  const raw = await parallelMap<CoxnetFoldInput, Float64Array>(__filename, 'coxnetFold', inputs, {
    threads,
    signal: opts.signal,
    onDone: (d, t) => onProgress?.(d / t),
  });
  const L = lambdas.length;
  const cvm = new Float64Array(L);
  const cvsd = new Float64Array(L);
  let wsum = 0;
  for (let f = 0; f < k; f++) wsum += eventsInFold[f]!;
  for (let l = 0; l < L; l++) {
    let m = 0;
    for (let f = 0; f < k; f++) if (eventsInFold[f]! > 0) m += raw[f]![l]!;
    m /= wsum;
    let s = 0;
    for (let f = 0; f < k; f++) {
      const w = eventsInFold[f]!;
      if (w === 0) continue;
      const d = raw[f]![l]! / w - m;
      s += w * d * d;
    }
    cvm[l] = m;
    cvsd[l] = Math.sqrt(s / wsum / (k - 1));
  }
  let indexMin = 0;
  for (let l = 1; l < L; l++) if (cvm[l]! < cvm[indexMin]!) indexMin = l;
  const bound = cvm[indexMin]! + cvsd[indexMin]!;
  let index1se = indexMin;
  for (let l = 0; l < indexMin; l++) {
    if (cvm[l]! <= bound) {
      index1se = l;
      break;
    }
  }
  return {
    lambdas,
    cvm,
    cvsd,
    lambdaMin: lambdas[indexMin]!,
    lambda1se: lambdas[index1se]!,
    indexMin,
    index1se,
    foldid,
    path,
  };
}
