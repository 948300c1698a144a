/**
 * What a coordinate-descent path returns, and glmnet's path rules shared by every family.
 *
 * Storage follows glmnet's compressed form: features enter the model once (in `order`) and never
 * leave the list, so the solution at path point m is `coefs[m][l]` for feature `order[l]`,
 * l < coefs[m].length / nClasses (class-major blocks for multinomial fits). Coefficients are on
 * the working (standardised) scale; `originalScale` converts.
 */
import { type Design } from './design';

export type Family = 'gaussian' | 'binomial' | 'multinomial';

export interface CdControl {
  /**
   * Convergence threshold (glmnet `thresh`): CD sweeps stop when max_j xv_j·Δβ_j² (the largest
   * decrease of the loss any single update could still bring) falls below tol × null deviance
   * per observation (Gaussian: the population variance of y).
   */
  tol: number;
  /** Maximum total passes over the (strong / active) features for the whole path (glmnet `maxit`). */
  maxIter: number;
  /** glmnet's early path end (deviance ratio > 0.999 or gain < 1e-5) for automatic paths. */
  earlyStop: boolean;
  /** Stop the path once more than this many coefficients are non-zero (glmnet `dfmax`). */
  dfMax: number;
  /**
   * Run the KKT checks' full X̃ᵀr products on the active wasm / native tensor backend (exact
   * results, see accel.ts); ignored when none is active or the design is small. Default true.
   */
  accel?: boolean;
  signal?: AbortSignal;
  /** Called after each path point (progress). */
  onLambda?: (done: number, total: number) => void;
}

export const DEFAULT_CONTROL: CdControl = {
  tol: 1e-7,
  maxIter: 100000,
  earlyStop: true,
  dfMax: Number.POSITIVE_INFINITY,
};

/**
 * The same control values in an object of one fixed shape. Callers build controls by spreading
 * (`{ ...DEFAULT_CONTROL, tol, signal }`) in different orders, and each shape reaching the hot
 * path functions made V8 throw their optimised code away ("wrong map" deopts: the first ~600
 * fits of a stability selection ran 5–8× slower than the rest on 100 × 2,000).
 */
export function normaliseControl(c: CdControl): CdControl {
  return {
    tol: c.tol,
    maxIter: c.maxIter,
    earlyStop: c.earlyStop,
    dfMax: c.dfMax,
    accel: c.accel,
    signal: c.signal,
    onLambda: c.onLambda,
  };
}

/** glmnet.control() defaults used by the path rules. */
export const GLMNET = {
  /** fdev: minimum fractional change in deviance to continue the path. */
  sml: 1e-5,
  /** devmax: stop when the deviance ratio exceeds this. */
  devMax: 0.999,
  /** mnlam: always fit at least this many path points. */
  minLambdas: 5,
  /** pmin: probabilities are clipped to [pmin, 1 − pmin]. */
  pMin: 1e-9,
  /** mxitnr / exmx: linear predictors are clipped to ±250 in the multinomial. */
  maxExp: 250,
  /** λ_max uses max(l1_ratio, 1e-3) so that ridge (l1_ratio = 0) still has a finite start. */
  minL1Ratio: 1e-3,
} as const;

export interface PathFit {
  family: Family;
  nClasses: number;
  /** Penalty values actually fitted (length nFit), largest first. */
  lambdas: Float64Array;
  /** Features in order of entry into the model. */
  order: Int32Array;
  /** Per path point: coefficients of order[0..k) per class, class-major (k·nClasses values). */
  coefs: Float64Array[];
  /** Per path point: intercept per class on the working scale (centred x). */
  intercepts: Float64Array[];
  /** Fraction of null deviance explained per path point. */
  devRatio: Float64Array;
  /** Null deviance per observation (Gaussian: variance of y). */
  nullDev: number;
  /** Total CD passes. */
  passes: number;
  /** False when max_iter stopped the path before convergence. */
  converged: boolean;
}

/**
 * glmnet's automatic sequence: λ_max·eps^(m/(nLambda−1)), m = 0..nLambda−1, where λ_max is the
 * smallest penalty with an all-zero solution (computed with max(l1_ratio, 1e-3)).
 */
export function lambdaSequence(lambdaMax: number, nLambda: number, eps: number): Float64Array {
  const out = new Float64Array(nLambda);
  const ratio = nLambda > 1 ? Math.pow(eps, 1 / (nLambda - 1)) : 1;
  let l = lambdaMax;
  for (let m = 0; m < nLambda; m++) {
    out[m] = l;
    l *= ratio;
  }
  return out;
}

/** Dense coefficients on the original feature scale and the original-scale intercept. */
export function originalScale(
  fit: PathFit,
  design: Pick<Design, 'p' | 'mean' | 'scale'>,
  m: number,
): { beta: Float64Array; intercept: Float64Array } {
  const K = fit.nClasses;
  const beta = new Float64Array(design.p * K);
  const intercept = Float64Array.from(fit.intercepts[m]!);
  const c = fit.coefs[m]!;
  const k = c.length / K;
  for (let cls = 0; cls < K; cls++) {
    for (let l = 0; l < k; l++) {
      const j = fit.order[l]!;
      const b = c[cls * k + l]! / design.scale[j]!;
      beta[cls * design.p + j] = b;
      intercept[cls] = intercept[cls]! - b * design.mean[j]!;
    }
  }
  if (K > 1) {
    // The softmax is unchanged by a common shift: report intercepts summing to 0 (glmnet, sklearn).
    let s = 0;
    for (let cls = 0; cls < K; cls++) s += intercept[cls]!;
    for (let cls = 0; cls < K; cls++) intercept[cls] = intercept[cls]! - s / K;
  }
  return { beta, intercept };
}

/** Dense coefficients on the working (standardised) scale, p per class. */
export function workingScale(fit: PathFit, p: number, m: number): Float64Array {
  const K = fit.nClasses;
  const beta = new Float64Array(p * K);
  const c = fit.coefs[m]!;
  const k = c.length / K;
  for (let cls = 0; cls < K; cls++) {
    for (let l = 0; l < k; l++) beta[cls * p + fit.order[l]!] = c[cls * k + l]!;
  }
  return beta;
}

/** Number of features with a non-zero coefficient (in any class) at path point m. */
export function nonZeroCount(fit: PathFit, m: number): number {
  const K = fit.nClasses;
  const c = fit.coefs[m]!;
  const k = c.length / K;
  let nz = 0;
  for (let l = 0; l < k; l++) {
    for (let cls = 0; cls < K; cls++) {
      if (c[cls * k + l] !== 0) {
        nz++;
        break;
      }
    }
  }
  return nz;
}
