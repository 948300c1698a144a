/**
 * The fitted form shared by the linear models: per-output coefficients on the original feature
 * scale, intercepts, and a link that turns linear predictors into a `Prediction`.
 *
 * Links:
 * - `identity`: regression, value = η.
 * - `logistic`: binary, P(class 1) = σ(η), label 1 when η > 0 (as scikit-learn's predict).
 * - `softmax`: multiclass (one η per class), probabilities softmax(η), label argmax.
 * - `svm`: decision values (one for two classes, one per class one-vs-rest otherwise); the label
 *   is sign / argmax of the decision as LinearSVC; probabilities are σ(decision) (binary) or
 *   σ(decision_k) normalised to sum 1 (one-vs-rest), a monotone map, not Platt-calibrated.
 */
import { residentAddColumns } from './simd_predict';
import { selectFeaturesByName, type Dataset } from '../core/dataset';
import { type FittedModel, type ModelState, type Prediction } from '../core/method';
import { axpyCol } from './design';
import { sum8 } from '../stats/simd_colsums';

export type Link = 'identity' | 'logistic' | 'softmax' | 'svm';

export interface LinearState {
  link: Link;
  /** nOut rows × p, row-major. */
  coef: number[];
  intercept: number[];
  classes: string[] | null;
  /** Population sd of each training feature (for standardised importances). */
  sd: number[];
  /** Solver facts (iterations, convergence …), informational. */
  info: Record<string, unknown>;
}

export class LinearModel implements FittedModel {
  readonly nOut: number;

  constructor(
    readonly code: string,
    readonly featureNames: string[],
    readonly params: Record<string, unknown>,
    readonly state: LinearState,
  ) {
    this.nOut = state.intercept.length;
  }

  /** Linear predictors, row-major (n × nOut). */
  decision(ds: Dataset): Float64Array {
    const q = selectFeaturesByName(ds, this.featureNames);
    const n = q.nSamples;
    const p = this.featureNames.length;
    const K = this.nOut;
    const out = new Float64Array(n * K);
    const x = q.data;
    const coef = this.state.coef;
    const eta = Array.from({ length: K }, (_, c) =>
      new Float64Array(n).fill(this.state.intercept[c]!),
    );
    // One pass over the used columns per output: four columns per update of eta (addColumns)
    // beat reading each column once for all K outputs with one axpy per output.
    for (let c = 0; c < K; c++) addColumns(x, n, coef.slice(c * p, (c + 1) * p), eta[c]!);
    for (let c = 0; c < K; c++) for (let i = 0; i < n; i++) out[i * K + c] = eta[c]![i]!;
    return out;
  }

  predict(ds: Dataset): Prediction {
    const eta = this.decision(ds);
    const n = ds.nSamples;
    const { link, classes } = this.state;
    if (link === 'identity') return { kind: 'value', values: eta };
    const nc = classes!.length;
    const proba = new Float64Array(n * nc);
    const labels = new Int32Array(n);
    const K = this.nOut;
    for (let i = 0; i < n; i++) {
      if (K === 1) {
        const e = eta[i]!;
        const p1 = 1 / (1 + Math.exp(-e));
        proba[i * 2] = 1 - p1;
        proba[i * 2 + 1] = p1;
        labels[i] = e > 0 ? 1 : 0;
        continue;
      }
      let best = 0;
      for (let c = 1; c < K; c++) if (eta[i * K + c]! > eta[i * K + best]!) best = c;
      labels[i] = best;
      let s = 0;
      for (let c = 0; c < K; c++) {
        const v =
          link === 'softmax'
            ? Math.exp(eta[i * K + c]! - eta[i * K + best]!)
            : 1 / (1 + Math.exp(-eta[i * K + c]!));
        proba[i * nc + c] = v;
        s += v;
      }
      for (let c = 0; c < K; c++) proba[i * nc + c] = proba[i * nc + c]! / s;
    }
    return { kind: 'class', labels, proba, classes: classes! };
  }

  /** |coefficient| × training sd (standardised effect); multiclass: L2 norm over outputs. */
  importance(): Record<string, number> {
    const p = this.featureNames.length;
    const out: Record<string, number> = {};
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let c = 0; c < this.nOut; c++) {
        const b = this.state.coef[c * p + j]! * this.state.sd[j]!;
        s += b * b;
      }
      out[this.featureNames[j]!] = Math.sqrt(s);
    }
    return out;
  }

  save(): ModelState {
    return {
      code: this.code,
      version: 1,
      featureNames: this.featureNames,
      params: this.params,
      state: this.state,
    };
  }
}

export function loadLinear(code: string, state: ModelState): LinearModel {
  if (state.code !== code) throw new Error(`model state is for "${state.code}", not "${code}"`);
  if (state.version !== 1) throw new Error(`unsupported ${code} state version ${state.version}`);
  return new LinearModel(code, state.featureNames, state.params, state.state as LinearState);
}

/**
 * Population sd per column (column-major), two passes per column with one running sum each:
 * compute/kernels/row-dot-axpy.ts reproduces these sds bit for bit, lane by lane (linear_svm
 * mixes the two).
 */
export function columnSd(data: Float64Array, n: number, p: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < p; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[j * n + i]!;
    m /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (data[j * n + i]! - m) ** 2;
    out.push(Math.sqrt(s / n));
  }
  return out;
}

/**
 * eta += Σ_j coef_j·x_j over the columns with a non-zero coefficient (a zero one is skipped, so a
 * missing value in an unused feature does not reach the prediction), four columns per pass over
 * eta: eta_i + b₀x₀ᵢ + b₁x₁ᵢ + b₂x₂ᵢ + b₃x₃ᵢ, added left to right, is the rounding of four
 * one-column updates, with a quarter of the loads and stores of eta (~35 → ~20 ms at 500 × 20,000).
 */
function addColumns(x: Float64Array, n: number, coef: ArrayLike<number>, eta: Float64Array): void {
  // a resident matrix: the same operations on the wasm kernel, in place (simd_predict.ts)
  if (residentAddColumns(x, n, coef, eta)) return;
  const used: number[] = [];
  for (let j = 0; j < coef.length; j++) if (coef[j] !== 0) used.push(j);
  let t = 0;
  for (; t + 3 < used.length; t += 4) {
    const [j0, j1, j2, j3] = [used[t]!, used[t + 1]!, used[t + 2]!, used[t + 3]!];
    const [b0, b1, b2, b3] = [coef[j0]!, coef[j1]!, coef[j2]!, coef[j3]!];
    const [o0, o1, o2, o3] = [j0 * n, j1 * n, j2 * n, j3 * n];
    for (let i = 0; i < n; i++) {
      eta[i] = eta[i]! + b0 * x[o0 + i]! + b1 * x[o1 + i]! + b2 * x[o2 + i]! + b3 * x[o3 + i]!;
    }
  }
  for (; t < used.length; t++) axpyCol(x, used[t]! * n, -coef[used[t]!]!, eta, n);
}

/**
 * Column means and population sds (column-major) for the closed-form and L-BFGS fits: two passes
 * per column, each with eight partial sums in stats/simd_colsums.ts sum8's order (one running sum
 * is latency-bound), so the means are scaledColumnSums's bits and the WebAssembly statistics
 * kernel (kernels/centred-ops.ts) reproduces both. A NaN mean marks a column with a missing value
 * (or both infinities).
 */
export function columnMeanSd(
  data: Float64Array,
  n: number,
  p: number,
): { mean: Float64Array; sd: Float64Array } {
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const o = j * n;
    const m = sum8(data, o, o + n) / n;
    mean[j] = m;
    sd[j] = Math.sqrt(squares8(data, o, o + n, m) / n);
  }
  return { mean, sd };
}

/** Σ (data[i] − m)² over [off, end) in sum8's order of additions. */
export function squares8(data: Float64Array, off: number, end: number, m: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  let i = off;
  for (; i + 7 < end; i += 8) {
    const d0 = data[i]! - m;
    const d1 = data[i + 1]! - m;
    const d2 = data[i + 2]! - m;
    const d3 = data[i + 3]! - m;
    const d4 = data[i + 4]! - m;
    const d5 = data[i + 5]! - m;
    const d6 = data[i + 6]! - m;
    const d7 = data[i + 7]! - m;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
    s4 += d4 * d4;
    s5 += d5 * d5;
    s6 += d6 * d6;
    s7 += d7 * d7;
  }
  let e = 0;
  for (; i < end; i++) {
    const d = data[i]! - m;
    e += d * d;
  }
  return s0 + s4 + (s2 + s6) + (s1 + s5 + (s3 + s7)) + e;
}

/**
 * assertNoMissing from the column means of columnMeanSd (saves a pass over the data): only a
 * column whose mean is NaN can hold a missing value.
 */
export function assertNoMissingByMeans(ds: Dataset, mean: Float64Array, method: string): void {
  const n = ds.nSamples;
  for (let j = 0; j < mean.length; j++) {
    if (mean[j] === mean[j]) continue;
    for (let i = j * n; i < (j + 1) * n; i++) {
      if (Number.isNaN(ds.data[i]!)) missingError(ds, j, method);
    }
  }
}

function missingError(ds: Dataset, j: number, method: string): never {
  throw new Error(
    `${method} needs complete data: feature "${ds.featureNames[j]}" has missing values (impute first)`,
  );
}

export function assertNoMissing(ds: Dataset, method: string): void {
  for (let i = 0; i < ds.data.length; i++) {
    if (Number.isNaN(ds.data[i]!)) missingError(ds, Math.floor(i / ds.nSamples), method);
  }
}
