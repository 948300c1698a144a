/**
 * Multivariable Cox proportional-hazards fit by Newton–Raphson on the partial likelihood, with
 * Efron (default, as survival::coxph) or Breslow handling of tied event times and an optional ridge
 * penalty θ/2·‖β‖² (survival::ridge(…, theta = θ, scale = FALSE)).
 *
 * Efron, for an event time with d tied events D and risk set R (S_k = Σ_R e^{η} x^{⊗k},
 * D_k the same sums over D):
 *   ℓ += Σ_D η − Σ_{l<d} log(S_0 − l/d·D_0),   a_l = (S_1 − l/d·D_1) / (S_0 − l/d·D_0),
 *   U += Σ_D x − Σ_l a_l,   I += Σ_l [(S_2 − l/d·D_2) / (S_0 − l/d·D_0) − a_l a_lᵀ].
 * Breslow is the same with l/d replaced by 0. Covariates are centred first (as coxph) so e^{η}
 * stays in range; β does not change. Step halving when the log-likelihood drops.
 */
import { riskSets, type RiskSets } from './risk-sets';

export type Ties = 'efron' | 'breslow';

export interface CoxFit {
  coef: Float64Array;
  /** Inverse (penalised) information, p × p row-major. */
  variance: Float64Array;
  loglik: number;
  /** Log-likelihood at β = 0. */
  loglikNull: number;
  iterations: number;
  converged: boolean;
  means: Float64Array;
}

export interface CoxOptions {
  ties?: Ties;
  /** Ridge θ on −ℓ (0 = unpenalised). */
  ridge?: number;
  maxIter?: number;
}

/** ℓ, U and I at β for centred column-major x (n × p). */
export function coxDerivatives(
  xc: Float64Array,
  p: number,
  rs: RiskSets,
  event: ArrayLike<number>,
  beta: Float64Array,
  ties: Ties,
): { loglik: number; U: Float64Array; I: Float64Array } {
  const n = rs.n;
  const eta = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    const b = beta[j]!;
    if (b === 0) continue;
    const off = j * n;
    for (let i = 0; i < n; i++) eta[i] += b * xc[off + i]!;
  }
  const U = new Float64Array(p);
  const I = new Float64Array(p * p);
  const S1 = new Float64Array(p);
  const S2 = new Float64Array(p * p);
  const D1 = new Float64Array(p);
  const D2 = new Float64Array(p * p);
  const xi = new Float64Array(p);
  const a = new Float64Array(p);
  let S0 = 0;
  let loglik = 0;
  for (let g = 0; g < rs.groups; g++) {
    let D0 = 0;
    const d = rs.events[g]!;
    if (d > 0) {
      D1.fill(0);
      D2.fill(0);
    }
    for (let r = rs.start[g]!; r < rs.start[g + 1]!; r++) {
      const i = rs.order[r]!;
      const w = Math.exp(eta[i]!);
      for (let j = 0; j < p; j++) xi[j] = xc[j * n + i]!;
      S0 += w;
      for (let j = 0; j < p; j++) {
        const wx = w * xi[j]!;
        S1[j] += wx;
        for (let k = 0; k <= j; k++) S2[j * p + k] += wx * xi[k]!;
      }
      if (event[i]) {
        loglik += eta[i]!;
        D0 += w;
        for (let j = 0; j < p; j++) {
          U[j] += xi[j]!;
          const wx = w * xi[j]!;
          D1[j] += wx;
          for (let k = 0; k <= j; k++) D2[j * p + k] += wx * xi[k]!;
        }
      }
    }
    if (d === 0) continue;
    for (let l = 0; l < d; l++) {
      const f = ties === 'efron' ? l / d : 0;
      const den = S0 - f * D0;
      loglik -= Math.log(den);
      for (let j = 0; j < p; j++) {
        a[j] = (S1[j]! - f * D1[j]!) / den;
        U[j] -= a[j]!;
      }
      for (let j = 0; j < p; j++) {
        for (let k = 0; k <= j; k++) {
          I[j * p + k] += (S2[j * p + k]! - f * D2[j * p + k]!) / den - a[j]! * a[k]!;
        }
      }
    }
  }
  for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) I[k * p + j] = I[j * p + k]!;
  return { loglik, U, I };
}

/** Cholesky factor (lower, row-major) of a symmetric positive-definite matrix, or null. */
export function cholesky(A: Float64Array, p: number): Float64Array | null {
  const L = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let s = A[j * p + j]!;
    for (let k = 0; k < j; k++) s -= L[j * p + k]! * L[j * p + k]!;
    const scale = Math.abs(A[j * p + j]!) || 1;
    if (!(s > 1e-13 * scale)) return null;
    const ljj = Math.sqrt(s);
    L[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let t = A[i * p + j]!;
      for (let k = 0; k < j; k++) t -= L[i * p + k]! * L[j * p + k]!;
      L[i * p + j] = t / ljj;
    }
  }
  return L;
}

export function choleskySolve(L: Float64Array, p: number, b: Float64Array): Float64Array {
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * p + k]! * y[k]!;
    y[i] = s / L[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < p; k++) s -= L[k * p + i]! * x[k]!;
    x[i] = s / L[i * p + i]!;
  }
  return x;
}

export function choleskyInverse(L: Float64Array, p: number): Float64Array {
  const inv = new Float64Array(p * p);
  const e = new Float64Array(p);
  for (let c = 0; c < p; c++) {
    e.fill(0);
    e[c] = 1;
    const col = choleskySolve(L, p, e);
    for (let r = 0; r < p; r++) inv[r * p + c] = col[r]!;
  }
  return inv;
}

/** Centre the columns of a column-major matrix; returns the centred copy and the means. */
export function centreColumns(
  x: Float64Array,
  n: number,
  p: number,
): { xc: Float64Array; means: Float64Array } {
  const xc = new Float64Array(n * p);
  const means = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const off = j * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += x[off + i]!;
    const m = s / n;
    means[j] = m;
    for (let i = 0; i < n; i++) xc[off + i] = x[off + i]! - m;
  }
  return { xc, means };
}

/** Fit a Cox model on column-major x (n × p). Throws when the information matrix is singular. */
export function coxFit(
  x: Float64Array,
  n: number,
  p: number,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  opts: CoxOptions = {},
): CoxFit {
  const ties = opts.ties ?? 'efron';
  const theta = opts.ridge ?? 0;
  const maxIter = opts.maxIter ?? 50;
  const rs = riskSets(time, event);
  if (rs.totalEvents === 0) throw new Error('the Cox model needs at least one event');
  const { xc, means } = centreColumns(x, n, p);
  const evalAt = (b: Float64Array) => {
    const d = coxDerivatives(xc, p, rs, event, b, ties);
    let pen = 0;
    for (let j = 0; j < p; j++) {
      pen += b[j]! * b[j]!;
      d.U[j] -= theta * b[j]!;
      d.I[j * p + j] += theta;
    }
    return { ...d, objective: d.loglik - (theta / 2) * pen };
  };
  let beta = new Float64Array(p);
  let cur = evalAt(beta);
  const loglikNull = cur.loglik;
  let converged = false;
  let iter = 0;
  for (; iter < maxIter && !converged; iter++) {
    const L = cholesky(cur.I, p);
    if (!L) {
      throw new Error(
        'the Cox information matrix is singular (collinear or constant features, or more ' +
          'features than events): use a ridge penalty (alpha > 0) or fewer features',
      );
    }
    const delta = choleskySolve(L, p, cur.U);
    let cand = beta.map((b, j) => b + delta[j]!);
    let next = evalAt(cand);
    for (
      let h = 0;
      h < 40 && !(next.objective >= cur.objective - 1e-12 * Math.abs(cur.objective));
      h++
    ) {
      for (let j = 0; j < p; j++) delta[j]! /= 2;
      cand = beta.map((b, j) => b + delta[j]!);
      next = evalAt(cand);
    }
    let maxDelta = 0;
    let maxBeta = 0;
    for (let j = 0; j < p; j++) {
      maxDelta = Math.max(maxDelta, Math.abs(delta[j]!));
      maxBeta = Math.max(maxBeta, Math.abs(cand[j]!));
    }
    const change = Math.abs(next.objective - cur.objective);
    beta = cand;
    cur = next;
    converged = maxDelta <= 1e-10 * (1 + maxBeta) || change <= 1e-15 * Math.abs(cur.objective);
  }
  const L = cholesky(cur.I, p);
  const variance = L ? choleskyInverse(L, p) : new Float64Array(p * p).fill(NaN);
  return {
    coef: beta,
    variance,
    loglik: cur.loglik,
    loglikNull,
    iterations: iter,
    converged,
    means,
  };
}
