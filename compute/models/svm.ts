/**
 * C-support vector classification as libsvm / scikit-learn SVC.
 *
 * - Dual problem min ½αᵀQα − eᵀα, 0 ≤ α ≤ C, yᵀα = 0, Q_ij = y_i y_j K(x_i, x_j) (rounded to float32
 *   as libsvm's kernel cache stores it, so the SMO path follows libsvm's), solved by SMO
 *   with libsvm's second-order working-set selection (WSS2, Fan, Chen & Lin 2005), shrinking and
 *   gradient reconstruction, stopping when the maximal KKT violation < `tol` (libsvm eps); rho from
 *   the free support vectors (or the midpoint of the bounds), decision f(x) = Σ y_i α_i K(x_i, x) − ρ.
 * - Kernels: linear K = xᵀz; rbf K = exp(−γ‖x − z‖²) with `gamma` 'scale' = 1/(p · Var(X)) over all
 *   entries (1 when Var(X) = 0), 'auto' = 1/p, or a number.
 * - Multiclass: one-vs-one like libsvm — for classes i < j a binary problem with class i as +1, data
 *   ordered class i then class j (libsvm groups classes); prediction by votes, ties to the lower
 *   class. decision_function for two classes is oriented as scikit-learn (positive → classes[1]).
 * - `probability`: Platt scaling as libsvm svm_binary_svc_probability — decision values from an
 *   internal 5-fold CV (permutation from ctx rng, not libsvm's rand(), so probabilities differ from
 *   scikit-learn's by the fold draw), sigmoid fitted by Lin, Lin & Weng's Newton method; several
 *   classes combined by Wu, Lin & Weng (2004) pairwise coupling (method 2). Without `probability`,
 *   predict_proba reports the vote shares (binary: a logistic of the decision value) and says so.
 */
import { ArgumentError, type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import {
  assertModelState,
  checkAbort,
  type FittedModel,
  type ModelDef,
  type ModelState,
  type Prediction,
  type RunContext,
} from '../core/method';
import { type Rng } from '../core/rng';
import { decodeF64, encodeF64 } from '../kernels/base64';
import {
  crossDot,
  crossDotBlock,
  gram as gramMatrix,
  sampleSquaredNorms,
} from '../kernels/cross-dot';
import { crossF64, crossF64Sync } from '../kernels/simd-gemm';
import { alignedData } from './knn';
import { assertComplete } from '../selectors/mrmr';

const TAU = 1e-12;

const svmArgs = {
  C: {
    type: 'number',
    default: 1,
    min: 0,
    exclusiveMin: true,
    doc: 'Penalty C of the hinge loss.',
  },
  kernel: { type: 'enum', values: ['rbf', 'linear'], default: 'rbf', doc: 'Kernel function.' },
  gamma: {
    type: 'string',
    default: 'scale',
    doc: "RBF width: 'scale' = 1/(p·Var(X)), 'auto' = 1/p, or a positive number.",
  },
  probability: {
    type: 'boolean',
    default: false,
    doc: 'Fit Platt-scaled probabilities by internal 5-fold CV (slower, seeded).',
  },
  tol: {
    type: 'number',
    default: 1e-3,
    min: 0,
    exclusiveMin: true,
    doc: 'Stopping tolerance (libsvm eps).',
  },
  shrinking: { type: 'boolean', default: true, doc: 'libsvm shrinking heuristic.' },
  max_iter: {
    type: 'integer',
    default: -1,
    min: -1,
    doc: 'SMO iteration limit (−1: libsvm default).',
  },
} satisfies ArgSpecs;

export interface SvmArgs {
  C: number;
  kernel: 'rbf' | 'linear';
  gamma: string;
  probability: boolean;
  tol: number;
  shrinking: boolean;
  max_iter: number;
}

/** Kernel values between training samples by original index (full matrix when it fits). */
class KernelRows {
  private readonly full: Float64Array | null;
  private readonly cache = new Map<number, Float64Array>();
  private readonly capacity: number;

  constructor(
    private readonly x: Float64Array,
    private readonly n: number,
    private readonly p: number,
    private readonly kernel: 'rbf' | 'linear',
    private readonly gamma: number,
    private readonly sq: Float64Array,
    gram: Float64Array | null,
  ) {
    this.full = gram;
    if (gram) for (let a = 0; a < n; a++) this.transformRow(gram.subarray(a * n, (a + 1) * n), a);
    this.capacity = Math.max(16, Math.floor(2e8 / (8 * n)));
  }

  private transformRow(row: Float64Array, a: number): void {
    if (this.kernel === 'linear') return;
    const g = this.gamma;
    const sa = this.sq[a]!;
    for (let b = 0; b < this.n; b++) row[b] = Math.exp(-g * (sa + this.sq[b]! - 2 * row[b]!));
  }

  row(a: number): Float64Array {
    if (this.full) return this.full.subarray(a * this.n, (a + 1) * this.n);
    let r = this.cache.get(a);
    if (r) return r;
    r = new Float64Array(this.n);
    for (let j = 0; j < this.p; j++) {
      const off = j * this.n;
      const xa = this.x[off + a]!;
      if (xa === 0) continue;
      for (let b = 0; b < this.n; b++) r[b] += xa * this.x[off + b]!;
    }
    this.transformRow(r, a);
    if (this.cache.size >= this.capacity) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(a, r);
    return r;
  }
}

interface BinarySolution {
  /** α by subproblem position. */
  alpha: Float64Array;
  rho: number;
  iterations: number;
}

/**
 * libsvm Solver::Solve for C-SVC on the subproblem `orig` (training indices in libsvm's order)
 * with labels y (±1). Arrays are kept by active position and swapped as libsvm swaps them.
 */
export function smo(
  K: KernelRows,
  orig0: Int32Array,
  y0: Int8Array,
  C: number,
  eps: number,
  shrinking: boolean,
  maxIterArg: number,
  signal?: AbortSignal,
): BinarySolution {
  const l = orig0.length;
  const orig = Int32Array.from(orig0);
  const y = Int8Array.from(y0);
  const alpha = new Float64Array(l);
  const G = new Float64Array(l).fill(-1); // G = Qα + p with p = −e, α = 0
  const Gbar = new Float64Array(l);
  const status = new Uint8Array(l); // 0 lower, 1 upper, 2 free
  const pvec = new Float64Array(l).fill(-1);
  const QD = new Float64Array(l);
  const activeSet = Int32Array.from({ length: l }, (_, i) => i);
  for (let i = 0; i < l; i++) QD[i] = K.row(orig[i]!)[orig[i]!]!;
  let activeSize = l;
  let unshrink = false;
  const Qi = new Float64Array(l);
  const Qj = new Float64Array(l);
  const getQ = (i: number, len: number, out: Float64Array): Float64Array => {
    const row = K.row(orig[i]!);
    const yi = y[i]!;
    // libsvm caches Q in single precision (Qfloat = float); QD stays double.
    for (let t = 0; t < len; t++) out[t] = Math.fround(yi * y[t]! * row[orig[t]!]!);
    return out;
  };
  const isUpper = (i: number): boolean => status[i] === 1;
  const isLower = (i: number): boolean => status[i] === 0;
  const updateStatus = (i: number): void => {
    status[i] = alpha[i]! >= C ? 1 : alpha[i]! <= 0 ? 0 : 2;
  };
  const swap = (i: number, j: number): void => {
    const sw = <T extends { [k: number]: number }>(a: T): void => {
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    };
    sw(orig);
    sw(y);
    sw(G);
    sw(status);
    sw(alpha);
    sw(pvec);
    sw(activeSet);
    sw(Gbar);
    sw(QD);
  };
  const reconstructGradient = (): void => {
    if (activeSize === l) return;
    for (let j = activeSize; j < l; j++) G[j] = Gbar[j]! + pvec[j]!;
    const tmp = new Float64Array(l);
    for (let i = 0; i < activeSize; i++) {
      if (status[i] !== 2) continue;
      getQ(i, l, tmp);
      const ai = alpha[i]!;
      for (let j = activeSize; j < l; j++) G[j] += ai * tmp[j]!;
    }
  };
  const beShrunk = (i: number, gmax1: number, gmax2: number): boolean => {
    if (isUpper(i)) return y[i] === 1 ? -G[i]! > gmax1 : -G[i]! > gmax2;
    if (isLower(i)) return y[i] === 1 ? G[i]! > gmax2 : G[i]! > gmax1;
    return false;
  };
  const doShrinking = (): void => {
    let gmax1 = -Infinity;
    let gmax2 = -Infinity;
    for (let i = 0; i < activeSize; i++) {
      if (y[i] === 1) {
        if (!isUpper(i) && -G[i]! >= gmax1) gmax1 = -G[i]!;
        if (!isLower(i) && G[i]! >= gmax2) gmax2 = G[i]!;
      } else {
        if (!isUpper(i) && -G[i]! >= gmax2) gmax2 = -G[i]!;
        if (!isLower(i) && G[i]! >= gmax1) gmax1 = G[i]!;
      }
    }
    if (!unshrink && gmax1 + gmax2 <= eps * 10) {
      unshrink = true;
      reconstructGradient();
      activeSize = l;
    }
    for (let i = 0; i < activeSize; i++) {
      if (beShrunk(i, gmax1, gmax2)) {
        activeSize--;
        while (activeSize > i) {
          if (!beShrunk(activeSize, gmax1, gmax2)) {
            swap(i, activeSize);
            break;
          }
          activeSize--;
        }
      }
    }
  };
  // WSS2: returns [i, j] or null when optimal within eps.
  const selectWorkingSet = (): [number, number] | null => {
    let gmax = -Infinity;
    let gmax2 = -Infinity;
    let gmaxIdx = -1;
    let gminIdx = -1;
    let objDiffMin = Infinity;
    for (let t = 0; t < activeSize; t++) {
      if (y[t] === 1) {
        if (!isUpper(t) && -G[t]! >= gmax) {
          gmax = -G[t]!;
          gmaxIdx = t;
        }
      } else if (!isLower(t) && G[t]! >= gmax) {
        gmax = G[t]!;
        gmaxIdx = t;
      }
    }
    const i = gmaxIdx;
    if (i !== -1) getQ(i, activeSize, Qi);
    for (let j = 0; j < activeSize; j++) {
      if (y[j] === 1) {
        if (!isLower(j)) {
          const gradDiff = gmax + G[j]!;
          if (G[j]! >= gmax2) gmax2 = G[j]!;
          if (gradDiff > 0) {
            const quad = QD[i]! + QD[j]! - 2 * y[i]! * Qi[j]!;
            const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
            if (objDiff <= objDiffMin) {
              gminIdx = j;
              objDiffMin = objDiff;
            }
          }
        }
      } else if (!isUpper(j)) {
        const gradDiff = gmax - G[j]!;
        if (-G[j]! >= gmax2) gmax2 = -G[j]!;
        if (gradDiff > 0) {
          const quad = QD[i]! + QD[j]! + 2 * y[i]! * Qi[j]!;
          const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
          if (objDiff <= objDiffMin) {
            gminIdx = j;
            objDiffMin = objDiff;
          }
        }
      }
    }
    if (gmax + gmax2 < eps || gminIdx === -1) return null;
    return [gmaxIdx, gminIdx];
  };

  const maxIter = maxIterArg > 0 ? maxIterArg : Math.max(10_000_000, 100 * l);
  let counter = Math.min(l, 1000) + 1;
  let iter = 0;
  const tmpRow = new Float64Array(l);
  while (iter < maxIter) {
    if (--counter === 0) {
      counter = Math.min(l, 1000);
      if (shrinking) doShrinking();
      checkAbort(signal);
    }
    let ws = selectWorkingSet();
    if (ws === null) {
      reconstructGradient();
      activeSize = l;
      ws = selectWorkingSet();
      if (ws === null) break;
      counter = 1;
    }
    iter++;
    const [i, j] = ws;
    // Qi already holds row i over the active set: selectWorkingSet just filled it.
    getQ(j, activeSize, Qj);
    const oldAi = alpha[i]!;
    const oldAj = alpha[j]!;
    if (y[i] !== y[j]) {
      let quad = QD[i]! + QD[j]! + 2 * Qi[j]!;
      if (quad <= 0) quad = TAU;
      const delta = (-G[i]! - G[j]!) / quad;
      const diff = alpha[i]! - alpha[j]!;
      alpha[i] += delta;
      alpha[j] += delta;
      if (diff > 0) {
        if (alpha[j]! < 0) {
          alpha[j] = 0;
          alpha[i] = diff;
        }
      } else if (alpha[i]! < 0) {
        alpha[i] = 0;
        alpha[j] = -diff;
      }
      if (diff > 0) {
        // C_i − C_j = 0 here (no class weights)
        if (alpha[i]! > C) {
          alpha[i] = C;
          alpha[j] = C - diff;
        }
      } else if (alpha[j]! > C) {
        alpha[j] = C;
        alpha[i] = C + diff;
      }
    } else {
      let quad = QD[i]! + QD[j]! - 2 * Qi[j]!;
      if (quad <= 0) quad = TAU;
      const delta = (G[i]! - G[j]!) / quad;
      const sum = alpha[i]! + alpha[j]!;
      alpha[i] -= delta;
      alpha[j] += delta;
      if (sum > C) {
        if (alpha[i]! > C) {
          alpha[i] = C;
          alpha[j] = sum - C;
        }
      } else if (alpha[j]! < 0) {
        alpha[j] = 0;
        alpha[i] = sum;
      }
      if (sum > C) {
        if (alpha[j]! > C) {
          alpha[j] = C;
          alpha[i] = sum - C;
        }
      } else if (alpha[i]! < 0) {
        alpha[i] = 0;
        alpha[j] = sum;
      }
    }
    const dAi = alpha[i]! - oldAi;
    const dAj = alpha[j]! - oldAj;
    for (let k = 0; k < activeSize; k++) G[k] += Qi[k]! * dAi + Qj[k]! * dAj;
    const ui = isUpper(i);
    const uj = isUpper(j);
    updateStatus(i);
    updateStatus(j);
    if (ui !== isUpper(i)) {
      getQ(i, l, tmpRow);
      const s = ui ? -C : C;
      for (let k = 0; k < l; k++) Gbar[k] += s * tmpRow[k]!;
    }
    if (uj !== isUpper(j)) {
      getQ(j, l, tmpRow);
      const s = uj ? -C : C;
      for (let k = 0; k < l; k++) Gbar[k] += s * tmpRow[k]!;
    }
  }
  if (activeSize < l) {
    reconstructGradient();
    activeSize = l;
  }
  // rho
  let nFree = 0;
  let ub = Infinity;
  let lb = -Infinity;
  let sumFree = 0;
  for (let i = 0; i < activeSize; i++) {
    const yG = y[i]! * G[i]!;
    if (isUpper(i)) {
      if (y[i] === -1) ub = Math.min(ub, yG);
      else lb = Math.max(lb, yG);
    } else if (isLower(i)) {
      if (y[i] === 1) ub = Math.min(ub, yG);
      else lb = Math.max(lb, yG);
    } else {
      nFree++;
      sumFree += yG;
    }
  }
  const rho = nFree > 0 ? sumFree / nFree : (ub + lb) / 2;
  const out = new Float64Array(l);
  for (let i = 0; i < l; i++) out[activeSet[i]!] = alpha[i]!;
  return { alpha: out, rho, iterations: iter };
}

/** Platt sigmoid fit (libsvm sigmoid_train): P(+1 | f) = 1 / (1 + exp(A f + B)). */
export function sigmoidTrain(dec: Float64Array, labels: Int8Array): [number, number] {
  const l = dec.length;
  let prior1 = 0;
  for (let i = 0; i < l; i++) if (labels[i]! > 0) prior1++;
  const prior0 = l - prior1;
  const minStep = 1e-10;
  const sigma = 1e-12;
  const eps = 1e-5;
  const hi = (prior1 + 1) / (prior1 + 2);
  const lo = 1 / (prior0 + 2);
  const t = Float64Array.from(labels, v => (v > 0 ? hi : lo));
  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  const f = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < l; i++) {
      const fApB = dec[i]! * a + b;
      s +=
        fApB >= 0
          ? t[i]! * fApB + Math.log1p(Math.exp(-fApB))
          : (t[i]! - 1) * fApB + Math.log1p(Math.exp(fApB));
    }
    return s;
  };
  let fval = f(A, B);
  for (let iter = 0; iter < 100; iter++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < l; i++) {
      const fApB = dec[i]! * A + B;
      let p: number;
      let q: number;
      if (fApB >= 0) {
        p = Math.exp(-fApB) / (1 + Math.exp(-fApB));
        q = 1 / (1 + Math.exp(-fApB));
      } else {
        p = 1 / (1 + Math.exp(fApB));
        q = Math.exp(fApB) / (1 + Math.exp(fApB));
      }
      const d2 = p * q;
      h11 += dec[i]! * dec[i]! * d2;
      h22 += d2;
      h21 += dec[i]! * d2;
      const d1 = t[i]! - p;
      g1 += dec[i]! * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const nA = A + step * dA;
      const nB = B + step * dB;
      const nf = f(nA, nB);
      if (nf < fval + 0.0001 * step * gd) {
        A = nA;
        B = nB;
        fval = nf;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break;
  }
  return [A, B];
}

function sigmoidPredict(dec: number, A: number, B: number): number {
  const fApB = dec * A + B;
  return fApB >= 0 ? Math.exp(-fApB) / (1 + Math.exp(-fApB)) : 1 / (1 + Math.exp(fApB));
}

/** Wu, Lin & Weng (2004) pairwise coupling, method 2 (libsvm multiclass_probability). */
export function multiclassProbability(k: number, r: Float64Array): Float64Array {
  const p = new Float64Array(k).fill(1 / k);
  const Q = new Float64Array(k * k);
  const Qp = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    for (let j = 0; j < t; j++) {
      Q[t * k + t] += r[j * k + t]! * r[j * k + t]!;
      Q[t * k + j] = Q[j * k + t]!;
    }
    for (let j = t + 1; j < k; j++) {
      Q[t * k + t] += r[j * k + t]! * r[j * k + t]!;
      Q[t * k + j] = -r[j * k + t]! * r[t * k + j]!;
    }
  }
  const eps = 0.005 / k;
  const maxIter = Math.max(100, k);
  for (let iter = 0; iter < maxIter; iter++) {
    let pQp = 0;
    for (let t = 0; t < k; t++) {
      Qp[t] = 0;
      for (let j = 0; j < k; j++) Qp[t] += Q[t * k + j]! * p[j]!;
      pQp += p[t]! * Qp[t]!;
    }
    let maxError = 0;
    for (let t = 0; t < k; t++) maxError = Math.max(maxError, Math.abs(Qp[t]! - pQp));
    if (maxError < eps) break;
    for (let t = 0; t < k; t++) {
      const diff = (-Qp[t]! + pQp) / Q[t * k + t]!;
      p[t] += diff;
      pQp = (pQp + diff * (diff * Q[t * k + t]! + 2 * Qp[t]!)) / (1 + diff) / (1 + diff);
      for (let j = 0; j < k; j++) {
        Qp[j] = (Qp[j]! + diff * Q[t * k + j]!) / (1 + diff);
        p[j]! /= 1 + diff;
      }
    }
  }
  return p;
}

/** One pairwise machine: coefficients y_i α_i over the union of support vectors. */
interface PairModel {
  i: number;
  j: number;
  /** Indices into the support-vector list. */
  sv: Int32Array;
  coef: Float64Array;
  rho: number;
  probA: number;
  probB: number;
}

/** Train the binary machine on `orig` (libsvm order) and return (position → coef, rho). */
function trainBinary(
  K: KernelRows,
  orig: Int32Array,
  y: Int8Array,
  args: SvmArgs,
  signal?: AbortSignal,
): { coef: Float64Array; rho: number } {
  const sol = smo(K, orig, y, args.C, args.tol, args.shrinking, args.max_iter, signal);
  return { coef: Float64Array.from(sol.alpha, (a, t) => a * y[t]!), rho: sol.rho };
}

/** libsvm svm_binary_svc_probability: 5-fold CV decision values, then the Platt sigmoid. */
function plattProbability(
  K: KernelRows,
  orig: Int32Array,
  y: Int8Array,
  args: SvmArgs,
  rng: Rng,
  signal?: AbortSignal,
): [number, number] {
  const l = orig.length;
  const nrFold = 5;
  const perm = rng.permutation(l);
  const dec = new Float64Array(l);
  for (let f = 0; f < nrFold; f++) {
    const begin = Math.floor((f * l) / nrFold);
    const end = Math.floor(((f + 1) * l) / nrFold);
    const sub: number[] = [];
    for (let t = 0; t < begin; t++) sub.push(perm[t]!);
    for (let t = end; t < l; t++) sub.push(perm[t]!);
    let pc = 0;
    let nc = 0;
    for (const s of sub) {
      if (y[s]! > 0) pc++;
      else nc++;
    }
    if (pc === 0 || nc === 0) {
      const v = pc === 0 && nc === 0 ? 0 : pc > 0 ? 1 : -1;
      for (let t = begin; t < end; t++) dec[perm[t]!] = v;
      continue;
    }
    // libsvm groups the submodel's classes by first appearance; orient to +1 afterwards.
    const firstLabel = y[sub[0]!]!;
    const ordered = [
      ...sub.filter(s => y[s] === firstLabel),
      ...sub.filter(s => y[s] !== firstLabel),
    ];
    const subY = Int8Array.from(ordered, s => (y[s] === firstLabel ? 1 : -1));
    const { coef, rho } = trainBinary(
      K,
      Int32Array.from(ordered, s => orig[s]!),
      subY,
      args,
      signal,
    );
    for (let t = begin; t < end; t++) {
      const row = K.row(orig[perm[t]!]!);
      let s = -rho;
      for (let q = 0; q < ordered.length; q++)
        if (coef[q] !== 0) s += coef[q]! * row[orig[ordered[q]!]!]!;
      dec[perm[t]!] = s * firstLabel;
    }
  }
  return sigmoidTrain(dec, y);
}

export class SvmModel implements FittedModel {
  readonly code = 'svm';
  private svNorms: Float64Array | undefined;

  constructor(
    readonly featureNames: string[],
    private readonly classes: string[],
    /** Support vectors, column-major nSV × p. */
    private readonly svX: Float64Array,
    private readonly nSV: number,
    private readonly pairs: PairModel[],
    private readonly kernel: 'rbf' | 'linear',
    private readonly gamma: number,
    private readonly probability: boolean,
    private readonly params: Record<string, unknown>,
  ) {}

  private kernelToSv(ds: Dataset, dots: Float64Array, m: number): Float64Array {
    if (this.kernel === 'linear') return dots;
    const p = this.featureNames.length;
    const qs = sampleSquaredNorms(alignedData(ds, this.featureNames), m, p);
    const ss = (this.svNorms ??= sampleSquaredNorms(this.svX, this.nSV, p));
    const k = new Float64Array(dots.length);
    for (let a = 0; a < m; a++)
      for (let s = 0; s < this.nSV; s++)
        k[a * this.nSV + s] = Math.exp(
          -this.gamma * (qs[a]! + ss[s]! - 2 * dots[a * this.nSV + s]!),
        );
    return k;
  }

  /** libsvm decision values per pair (positive → class i of pair (i, j)), row-major m × pairs. */
  decisionValues(ds: Dataset): Float64Array {
    const m = ds.nSamples;
    const q = alignedData(ds, this.featureNames);
    const p = this.featureNames.length;
    const dots =
      crossF64Sync(q, m, this.svX, this.nSV, p) ??
      crossDotBlock({ x: q, nx: m, y: this.svX, ny: this.nSV, p, a0: 0, a1: m });
    return this.fromKernel(this.kernelToSv(ds, dots, m), m);
  }

  async decisionValuesAsync(ds: Dataset, threads?: number): Promise<Float64Array> {
    const m = ds.nSamples;
    const q = alignedData(ds, this.featureNames);
    const p = this.featureNames.length;
    // The SIMD kernel (same entries as decisionValues'), else the JavaScript one.
    const dots =
      (await crossF64(q, m, this.svX, this.nSV, p, { threads })) ??
      (await crossDot(q, m, this.svX, this.nSV, p, { threads }));
    return this.fromKernel(this.kernelToSv(ds, dots, m), m);
  }

  private fromKernel(k: Float64Array, m: number): Float64Array {
    const P = this.pairs.length;
    const out = new Float64Array(m * P);
    for (let a = 0; a < m; a++) {
      const off = a * this.nSV;
      this.pairs.forEach((pm, t) => {
        let s = -pm.rho;
        for (let q = 0; q < pm.sv.length; q++) s += pm.coef[q]! * k[off + pm.sv[q]!]!;
        out[a * P + t] = s;
      });
    }
    return out;
  }

  /** scikit-learn decision_function: binary → one column oriented to classes[1]; else OvO. */
  decisionFunction(ds: Dataset): Float64Array {
    const dec = this.decisionValues(ds);
    return this.classes.length === 2 ? dec.map(v => -v) : dec;
  }

  predict(ds: Dataset): Prediction {
    return this.fromDecision(this.decisionValues(ds), ds.nSamples);
  }

  async predictAsync(ds: Dataset, threads?: number): Promise<Prediction> {
    return this.fromDecision(await this.decisionValuesAsync(ds, threads), ds.nSamples);
  }

  private fromDecision(dec: Float64Array, m: number): Prediction {
    const C = this.classes.length;
    const P = this.pairs.length;
    const labels = new Int32Array(m);
    const proba = new Float64Array(m * C);
    const votes = new Int32Array(C);
    const r = new Float64Array(C * C);
    for (let a = 0; a < m; a++) {
      votes.fill(0);
      this.pairs.forEach((pm, t) => votes[dec[a * P + t]! > 0 ? pm.i : pm.j]!++);
      let best = 0;
      for (let c = 1; c < C; c++) if (votes[c]! > votes[best]!) best = c;
      labels[a] = best;
      if (this.probability) {
        const minProb = 1e-7;
        this.pairs.forEach((pm, t) => {
          const v = Math.min(
            Math.max(sigmoidPredict(dec[a * P + t]!, pm.probA, pm.probB), minProb),
            1 - minProb,
          );
          r[pm.i * C + pm.j] = v;
          r[pm.j * C + pm.i] = 1 - v;
        });
        if (C === 2) {
          proba[a * 2] = r[1]!;
          proba[a * 2 + 1] = r[2]!;
        } else proba.set(multiclassProbability(C, r), a * C);
      } else if (C === 2) {
        const pos = 1 / (1 + Math.exp(dec[a]!)); // logistic of the oriented decision value
        proba[a * 2] = 1 - pos;
        proba[a * 2 + 1] = pos;
      } else {
        for (let c = 0; c < C; c++) proba[a * C + c] = votes[c]! / P;
      }
    }
    return { kind: 'class', labels, proba, classes: this.classes };
  }

  save(): ModelState {
    return {
      code: 'svm',
      version: 1,
      featureNames: this.featureNames,
      params: this.params,
      state: {
        classes: this.classes,
        nSV: this.nSV,
        svX: encodeF64(this.svX),
        kernel: this.kernel,
        gamma: this.gamma,
        probability: this.probability,
        pairs: this.pairs.map(pm => ({
          i: pm.i,
          j: pm.j,
          sv: Array.from(pm.sv),
          coef: encodeF64(pm.coef),
          rho: pm.rho,
          probA: pm.probA,
          probB: pm.probB,
        })),
      },
    };
  }

  static load(state: ModelState): SvmModel {
    assertModelState(state, 'svm', 1);
    const s = state.state as {
      classes: string[];
      nSV: number;
      svX: string;
      kernel: 'rbf' | 'linear';
      gamma: number;
      probability: boolean;
      pairs: {
        i: number;
        j: number;
        sv: number[];
        coef: string;
        rho: number;
        probA: number;
        probB: number;
      }[];
    };
    return new SvmModel(
      state.featureNames,
      s.classes,
      decodeF64(s.svX),
      s.nSV,
      s.pairs.map(pm => ({ ...pm, sv: Int32Array.from(pm.sv), coef: decodeF64(pm.coef) })),
      s.kernel,
      s.gamma,
      s.probability,
      state.params,
    );
  }
}

function resolveGamma(args: SvmArgs, ds: Dataset): number {
  const p = ds.nFeatures;
  if (args.gamma === 'auto') return 1 / p;
  if (args.gamma === 'scale') {
    let s = 0;
    for (let i = 0; i < ds.data.length; i++) s += ds.data[i]!;
    const mean = s / ds.data.length;
    let v = 0;
    for (let i = 0; i < ds.data.length; i++) v += (ds.data[i]! - mean) ** 2;
    v /= ds.data.length;
    return v !== 0 ? 1 / (p * v) : 1;
  }
  const g = Number(args.gamma);
  if (!Number.isFinite(g) || g <= 0) {
    throw new ArgumentError(
      'gamma',
      `must be 'scale', 'auto' or a positive number, got ${args.gamma}`,
    );
  }
  return g;
}

export async function fitSvm(ds: Dataset, args: SvmArgs, ctx: RunContext): Promise<SvmModel> {
  assertComplete(ds, 'svm');
  const o = ds.outcome;
  if (o.kind !== 'binary' && o.kind !== 'multiclass') {
    throw new Error(`svm (SVC) needs a class outcome, the dataset has ${o.kind}`);
  }
  const n = ds.nSamples;
  const p = ds.nFeatures;
  const classes = o.classes;
  const C = classes.length;
  const gamma = resolveGamma(args, ds);
  ctx.progress(0, 'kernel matrix');
  const sq = sampleSquaredNorms(ds.data, n, p);
  const gram =
    n <= 4000
      ? ((await crossF64(ds.data, n, ds.data, n, p, {
          threads: ctx.threads,
          signal: ctx.signal,
        })) ?? (await gramMatrix(ds.data, n, p, { threads: ctx.threads, signal: ctx.signal })))
      : null;
  const K = new KernelRows(ds.data, n, p, args.kernel, gamma, sq, gram);
  const byClass: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < n; i++) byClass[o.labels[i]!]!.push(i);
  const pairs: {
    i: number;
    j: number;
    orig: Int32Array;
    coef: Float64Array;
    rho: number;
    probA: number;
    probB: number;
  }[] = [];
  const total = (C * (C - 1)) / 2;
  for (let ci = 0; ci < C; ci++) {
    for (let cj = ci + 1; cj < C; cj++) {
      checkAbort(ctx.signal);
      const orig = Int32Array.from([...byClass[ci]!, ...byClass[cj]!]);
      const y = Int8Array.from(orig, (_, t) => (t < byClass[ci]!.length ? 1 : -1));
      let probA = 0;
      let probB = 0;
      if (args.probability) {
        [probA, probB] = plattProbability(K, orig, y, args, ctx.rng.fork(pairs.length), ctx.signal);
      }
      const { coef, rho } = trainBinary(K, orig, y, args, ctx.signal);
      pairs.push({ i: ci, j: cj, orig, coef, rho, probA, probB });
      ctx.progress(pairs.length / total, 'one-vs-one machines');
    }
  }
  // Union of support vectors (α > 0) across pairs, in training order.
  const isSv = new Uint8Array(n);
  for (const pm of pairs) pm.coef.forEach((c, t) => c !== 0 && (isSv[pm.orig[t]!] = 1));
  const svIndex = new Int32Array(n).fill(-1);
  const svRows: number[] = [];
  for (let i = 0; i < n; i++) if (isSv[i]) svIndex[i] = svRows.push(i) - 1;
  const nSV = svRows.length;
  const svX = new Float64Array(nSV * p);
  for (let j = 0; j < p; j++)
    for (let s = 0; s < nSV; s++) svX[j * nSV + s] = ds.data[j * n + svRows[s]!]!;
  const models: PairModel[] = pairs.map(pm => {
    const keep: number[] = [];
    pm.coef.forEach((c, t) => c !== 0 && keep.push(t));
    return {
      i: pm.i,
      j: pm.j,
      sv: Int32Array.from(keep, t => svIndex[pm.orig[t]!]!),
      coef: Float64Array.from(keep, t => pm.coef[t]!),
      rho: pm.rho,
      probA: pm.probA,
      probB: pm.probB,
    };
  });
  return new SvmModel(
    ds.featureNames,
    classes,
    svX,
    nSV,
    models,
    args.kernel,
    gamma,
    args.probability,
    {
      ...args,
      gamma_value: gamma,
    },
  );
}

export const svm: ModelDef<SvmArgs> = {
  kind: 'model',
  code: 'svm',
  label: 'Support vector machine (SVC)',
  description:
    'C-SVC with RBF or linear kernel solved by libsvm-style SMO (WSS2, shrinking); one-vs-one for ' +
    'several classes; optional Platt-scaled probabilities.',
  reference:
    'Chang & Lin (2011) LIBSVM, ACM TIST 2:27; Fan, Chen & Lin (2005) JMLR 6:1889; Platt (1999); ' +
    'Wu, Lin & Weng (2004) JMLR 5:975; scikit-learn SVC',
  tasks: ['binary', 'multiclass'],
  device: 'cpu',
  args: svmArgs,
  fit: (ds, args, ctx) => fitSvm(ds, args, ctx),
  load: state => SvmModel.load(state),
};
