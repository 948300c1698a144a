/**
 * K-fold cross-validation of a penalised path with cv.glmnet's semantics:
 * - the full-data path fixes the λ sequence (and its early end);
 * - each fold fits its own automatic path on its training rows and is evaluated at the full-data
 *   λ values by linear interpolation between its neighbouring path points (`alignment="lambda"`);
 * - loss per held-out row: squared error (Gaussian), binomial / multinomial deviance with
 *   probabilities clipped to [1e-5, 1 − 1e-5];
 * - cvm = mean loss, cvsd = sd of the per-fold means (weighted by fold size) / √(K − 1)
 *   (grouped = TRUE); lambda.min = largest λ with the minimal cvm, lambda.1se = largest λ with
 *   cvm ≤ cvm(lambda.min) + cvsd(lambda.min).
 * Folds run on worker threads through parallelMap; the matrix is shared, not copied.
 */
import { checkAbort } from '../core/method';
import { parallelMap } from '../core/parallel';
import { type ElnetFit, type ElnetOptions, fitElnet, linearPredictor, type Target } from './elnet';
import { wasmDesignBuffer } from './simd';
import { initAccelBackend } from './accel';
import { DEFAULT_CONTROL, nonZeroCount } from './path';

const PROB_MIN = 1e-5;

export interface CvCurve {
  lambdas: Float64Array;
  cvm: Float64Array;
  cvsd: Float64Array;
  nzero: Int32Array;
  indexMin: number;
  index1se: number;
}

/** Everything a fold needs, structured-cloneable (no signal, no callbacks). */
export interface FoldTask {
  data: Float64Array;
  nAll: number;
  p: number;
  train: Int32Array;
  test: Int32Array;
  target: Target;
  opts: Omit<ElnetOptions, 'control' | 'lambdas'> & {
    tol: number;
    maxIter: number;
    dfMax: number;
    accel: boolean;
  };
  /** Full-data λ values to predict at. */
  lambdas: Float64Array;
}

/**
 * Fit one fold's path and return held-out linear predictors at the requested λ values,
 * laid out [test row][λ][class].
 */
export async function cvFoldTask(task: FoldTask): Promise<Float64Array> {
  const { opts } = task;
  if (opts.accel) await initAccelBackend(task.train.length * task.p);
  const f = fitElnet(
    task.data,
    task.nAll,
    task.p,
    task.train,
    task.target,
    {
      ...opts,
      control: {
        ...DEFAULT_CONTROL,
        tol: opts.tol,
        maxIter: opts.maxIter,
        dfMax: opts.dfMax,
        accel: opts.accel,
        earlyStop: true,
      },
    },
    foldBuffer(task.train.length * task.p, task.train.length + task.p),
  );
  return predictAtLambdas(f, task.data, task.nAll, task.test, task.lambdas);
}

/** Folds up to this many training cells share one design buffer per thread (≤ 32 MB kept). */
const FOLD_BUFFER_MAX_CELLS = 1 << 22;
let foldBuf: Float64Array | null = null;
let foldScratch = 0;

/**
 * One wasm design buffer reused by the folds this thread fits (they run one at a time: the fit
 * is synchronous): a fresh WebAssembly.Memory per fold cost an allocation, zero-fill and GC
 * pressure for each of cv.glmnet's 10 small fits. Undefined (fitElnet allocates) for big folds.
 */
function foldBuffer(len: number, scratch: number): Float64Array | undefined {
  if (len > FOLD_BUFFER_MAX_CELLS) return undefined;
  if (!foldBuf || foldBuf.length < len || foldScratch < scratch) {
    foldBuf = wasmDesignBuffer(len, scratch);
    if (!foldBuf) return undefined;
    foldScratch = scratch;
  }
  return foldBuf;
}

/** η at arbitrary λ by glmnet's lambda.interp (linear between neighbouring path points). */
export function predictAtLambdas(
  f: ElnetFit,
  data: Float64Array,
  nAll: number,
  rows: ArrayLike<number>,
  s: Float64Array,
): Float64Array {
  const lam = f.fit.lambdas;
  const k = lam.length;
  const K = f.fit.nClasses;
  const nr = rows.length;
  const etas = new Map<number, Float64Array>();
  const etaAt = (m: number): Float64Array => {
    let e = etas.get(m);
    if (!e) etas.set(m, (e = linearPredictor(f, m, data, nAll, rows)));
    return e;
  };
  const out = new Float64Array(nr * s.length * K);
  for (let t = 0; t < s.length; t++) {
    let left = 0;
    let right = 0;
    let frac = 1;
    if (k > 1) {
      const span = lam[0]! - lam[k - 1]!;
      let sf = (lam[0]! - s[t]!) / span;
      if (sf < 0) sf = 0;
      if (sf > 1) sf = 1;
      // Normalised positions (lam[0] − lam[m]) / span increase from 0 to 1 with m.
      let m = 0;
      while (m < k - 1 && (lam[0]! - lam[m + 1]!) / span < sf) m++;
      const pm = (lam[0]! - lam[m]!) / span;
      const pn = m + 1 < k ? (lam[0]! - lam[m + 1]!) / span : pm;
      if (sf <= pm || m + 1 >= k) {
        left = right = m;
      } else if (sf >= pn) {
        left = right = m + 1;
      } else {
        left = m;
        right = m + 1;
        frac = (sf - pn) / (pm - pn);
      }
    }
    const el = etaAt(left);
    const er = etaAt(right);
    for (let i = 0; i < nr; i++) {
      for (let c = 0; c < K; c++) {
        out[(i * s.length + t) * K + c] = frac * el[i * K + c]! + (1 - frac) * er[i * K + c]!;
      }
    }
  }
  return out;
}

/** Per-row loss at each λ from held-out linear predictors ([row][λ][class]). */
function rowLoss(target: Target, row: number, eta: Float64Array, base: number, K: number): number {
  if (target.family === 'gaussian') {
    const d = target.y[row]! - eta[base]!;
    return d * d;
  }
  if (target.family === 'binomial') {
    let pr = 1 / (1 + Math.exp(-eta[base]!));
    pr = Math.min(Math.max(pr, PROB_MIN), 1 - PROB_MIN);
    return target.y[row] === 1 ? -2 * Math.log(pr) : -2 * Math.log(1 - pr);
  }
  let mx = -Infinity;
  for (let c = 0; c < K; c++) mx = Math.max(mx, eta[base + c]!);
  let se = 0;
  for (let c = 0; c < K; c++) se += Math.exp(eta[base + c]! - mx);
  let pr = Math.exp(eta[base + target.y[row]!]! - mx) / se;
  pr = Math.min(Math.max(pr, PROB_MIN), 1 - PROB_MIN);
  return -2 * Math.log(pr);
}

/**
 * Below this many training cells over all folds (≈ (K − 1)·n·p) the folds run on the calling
 * thread: every worker pays its own JIT warm-up of the solver, more than small folds cost once
 * warm (cv binomial, 200 × 2,000, 10 folds: 2.50 s CPU in-process against 3.15 s on 2 threads,
 * and no faster in wall time on the shared 2-core machine). 500 × 20,000 still uses threads.
 */
export const CV_THREAD_MIN_CELLS = 50_000_000;

export interface CvRun {
  threads?: number;
  signal?: AbortSignal;
  /** Fraction of the whole CV done (full fit counts as one fold). */
  progress?: (fraction: number, stage: string) => void;
}

/** Full-data path plus cross-validated loss curve over its λ values. */
export async function cvElnet(
  data: Float64Array,
  nAll: number,
  p: number,
  target: Target,
  opts: ElnetOptions,
  foldid: Int32Array,
  run: CvRun = {},
): Promise<{ full: ElnetFit; curve: CvCurve }> {
  let nFolds = 0;
  for (let i = 0; i < foldid.length; i++) nFolds = Math.max(nFolds, foldid[i]! + 1);
  if (nFolds < 3) throw new Error('cross-validation needs at least 3 folds');
  const total = nFolds + 1;
  // The full-data path uses this thread's fold buffer too: one wasm instance for the full fit
  // and the in-process folds (and for repeated CV calls), so V8 keeps its optimised calls into it.
  const full = fitElnet(
    data,
    nAll,
    p,
    null,
    target,
    {
      ...opts,
      control: {
        ...opts.control,
        onLambda: (d, t) => run.progress?.(d / t / total, 'path'),
      },
    },
    foldBuffer(nAll * p, nAll + p),
  );
  checkAbort(run.signal);
  const lambdas = full.fit.lambdas;
  const nLam = lambdas.length;
  const K = full.fit.nClasses;

  // Share the matrix with the worker threads instead of cloning it per fold. Small jobs stay on
  // this thread, whose solver the full-data path has just warmed up (see CV_THREAD_MIN_CELLS).
  let shared = data;
  const minCells = Number(process.env.OMICSELECTOR_CV_THREAD_MIN_CELLS ?? CV_THREAD_MIN_CELLS);
  const threads = (nFolds - 1) * nAll * p < minCells ? 1 : (run.threads ?? 1);
  if (threads > 1 && !(data.buffer instanceof SharedArrayBuffer)) {
    shared = new Float64Array(new SharedArrayBuffer(data.byteLength));
    shared.set(data);
  }
  const y = Float64Array.from(target.y);
  const sharedTarget: Target = { ...target, y };
  const tasks: FoldTask[] = [];
  for (let f = 0; f < nFolds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < nAll; i++) (foldid[i] === f ? test : train).push(i);
    tasks.push({
      data: shared,
      nAll,
      p,
      train: Int32Array.from(train),
      test: Int32Array.from(test),
      target: sharedTarget,
      opts: {
        l1Ratio: opts.l1Ratio,
        nLambda: opts.nLambda,
        eps: opts.eps,
        standardize: opts.standardize,
        intercept: opts.intercept,
        tol: opts.control.tol,
        maxIter: opts.control.maxIter,
        dfMax: opts.control.dfMax,
        accel: opts.control.accel !== false,
      },
      lambdas,
    });
  }
  const preds = await parallelMap<FoldTask, Float64Array>(__filename, 'cvFoldTask', tasks, {
    threads,
    signal: run.signal,
    onDone: done => run.progress?.((1 + done) / total, 'cross-validation'),
  });

  const foldMean = new Float64Array(nFolds * nLam);
  const foldSize = new Float64Array(nFolds);
  for (let f = 0; f < nFolds; f++) {
    const test = tasks[f]!.test;
    const eta = preds[f]!;
    foldSize[f] = test.length;
    for (let t = 0; t < nLam; t++) {
      let s = 0;
      for (let i = 0; i < test.length; i++) {
        s += rowLoss(sharedTarget, test[i]!, eta, (i * nLam + t) * K, K);
      }
      foldMean[f * nLam + t] = s / test.length;
    }
  }
  const cvm = new Float64Array(nLam);
  const cvsd = new Float64Array(nLam);
  let wsum = 0;
  for (let f = 0; f < nFolds; f++) wsum += foldSize[f]!;
  for (let t = 0; t < nLam; t++) {
    let m = 0;
    for (let f = 0; f < nFolds; f++) m += foldSize[f]! * foldMean[f * nLam + t]!;
    m /= wsum;
    let v = 0;
    for (let f = 0; f < nFolds; f++) v += foldSize[f]! * (foldMean[f * nLam + t]! - m) ** 2;
    cvm[t] = m;
    cvsd[t] = Math.sqrt(v / wsum / (nFolds - 1));
  }
  const { indexMin, index1se } = chooseLambda(lambdas, cvm, cvsd);
  const nzero = new Int32Array(nLam);
  for (let t = 0; t < nLam; t++) nzero[t] = nonZeroCount(full.fit, t);
  return { full, curve: { lambdas, cvm, cvsd, nzero, indexMin, index1se } };
}

/** glmnet getOptcv: the largest λ at the minimum, and the largest within one SE of it. */
export function chooseLambda(
  lambdas: Float64Array,
  cvm: Float64Array,
  cvsd: Float64Array,
): { indexMin: number; index1se: number } {
  let min = Infinity;
  for (let t = 0; t < cvm.length; t++) if (cvm[t]! < min) min = cvm[t]!;
  let indexMin = -1;
  for (let t = 0; t < cvm.length; t++) {
    if (cvm[t]! <= min && (indexMin < 0 || lambdas[t]! > lambdas[indexMin]!)) indexMin = t;
  }
  const bound = cvm[indexMin]! + cvsd[indexMin]!;
  let index1se = indexMin;
  for (let t = 0; t < cvm.length; t++) {
    if (cvm[t]! <= bound && lambdas[t]! > lambdas[index1se]!) index1se = t;
  }
  return { indexMin, index1se };
}
