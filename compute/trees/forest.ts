/**
 * Random forest (Breiman 2001; scikit-learn's RandomForestClassifier / Regressor semantics):
 * bootstrap rows, CART trees on binned features, averaged class probabilities or means.
 *
 * Trees grow on worker threads (`parallelMap`) in batches. Tree t draws everything (bootstrap,
 * feature subsets, permutations) from `new Rng(seeds[t])` with `seeds[t] = ctx.rng.fork(t).seed`,
 * so a forest is identical for any thread count. The binned matrix (and, when OOB work is asked
 * for, the raw matrix) sit in SharedArrayBuffers, so a task carries only its seeds.
 */
import { parallelMap, defaultThreads } from '../core/parallel';
import { checkAbort, type RunContext } from '../core/method';
import { Rng } from '../core/rng';
import { type BinnedMatrix, sharedArray, thresholdBetween } from './binning';
import { CartGrower, type CartParams } from './cart';
import { argmax } from './metrics';
import { leafOf, leafOfPermuted, type Tree, usedFeatures } from './tree';

export interface ForestTask {
  n: number;
  p: number;
  codes: Uint8Array;
  nClasses: number;
  labels: Int32Array | null;
  values: Float64Array | null;
  /** Per-row weight before bootstrap counts (class_weight), or null for 1. */
  rowWeight: Float64Array | null;
  cart: CartParams;
  bootstrap: boolean;
  seeds: number[];
  /** Bin edges for real thresholds; absent → thresholds NaN (importance-only forests). */
  binMin?: Float64Array;
  binMax?: Float64Array;
  offsets?: Int32Array;
  /** Raw column-major matrix: needed for OOB predictions and permutation importance. */
  raw?: Float64Array;
  oob: boolean;
  /** > 0: OOB permutation importance with this many permutations per tree and feature. */
  permRepeats: number;
}

export interface TreeResult {
  tree: Tree;
  oobIdx?: Int32Array;
  /** nOut values per OOB row. */
  oobPred?: Float64Array;
  permF?: Int32Array;
  permD?: Float64Array;
}

/** Bootstrap counts (or all ones) from the tree's own generator; the first draws of the tree. */
export function inBagCounts(rng: Rng, n: number, bootstrap: boolean): Int32Array {
  const counts = new Int32Array(n);
  if (!bootstrap) counts.fill(1);
  else for (let i = 0; i < n; i++) counts[rng.int(n)]++;
  return counts;
}

/** Worker task: grow the trees of one batch. */
export function growForestBatch(task: ForestTask): TreeResult[] {
  const { n, nClasses } = task;
  const grower = new CartGrower(
    {
      n,
      p: task.p,
      codes: task.codes,
      nClasses,
      labels: task.labels,
      values: task.values,
    },
    task.cart,
  );
  const out: TreeResult[] = [];
  const w = new Float64Array(n);
  for (const seed of task.seeds) {
    const rng = new Rng(seed);
    const counts = inBagCounts(rng, n, task.bootstrap);
    let m = 0;
    for (let i = 0; i < n; i++) if (counts[i]! > 0) m++;
    const idx = new Int32Array(m);
    m = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i]!;
      w[i] = c * (task.rowWeight ? task.rowWeight[i]! : 1);
      if (c > 0) idx[m++] = i;
    }
    const tb = grower.grow(idx, w, rng);
    const tree = tb.finish();
    if (task.binMin && task.binMax && task.offsets) {
      for (let t = 0; t < tree.nNodes; t++) {
        const f = tree.feature[t]!;
        tree.threshold[t] =
          f >= 0
            ? thresholdBetween(
                task.binMin,
                task.binMax,
                task.offsets,
                f,
                tb.binLo[t]!,
                tb.binHi[t]!,
              )
            : NaN;
      }
    } else tree.threshold.fill(NaN);
    const res: TreeResult = { tree };
    if (task.raw && (task.oob || task.permRepeats > 0)) oobWork(task, tree, counts, rng, res);
    out.push(res);
  }
  return out;
}

/** OOB predictions and Breiman's permutation importance for one tree. */
function oobWork(task: ForestTask, tree: Tree, counts: Int32Array, rng: Rng, res: TreeResult) {
  const { n, nClasses } = task;
  const raw = task.raw!;
  const K = tree.nOut;
  let m = 0;
  for (let i = 0; i < n; i++) if (counts[i] === 0) m++;
  const oobIdx = new Int32Array(m);
  m = 0;
  for (let i = 0; i < n; i++) if (counts[i] === 0) oobIdx[m++] = i;
  const leaf = new Int32Array(m);
  for (let a = 0; a < m; a++) leaf[a] = leafOf(tree, raw, n, oobIdx[a]!);
  if (task.oob) {
    const pred = new Float64Array(m * K);
    for (let a = 0; a < m; a++) {
      for (let c = 0; c < K; c++) pred[a * K + c] = tree.value[leaf[a]! * K + c]!;
    }
    res.oobIdx = oobIdx;
    res.oobPred = pred;
  }
  if (task.permRepeats > 0 && m > 1) {
    // error of a leaf for row i: misclassification (classes) or squared error (regression)
    const err = (t: number, i: number): number =>
      nClasses > 0
        ? argmax(tree.value, t * K, K) === task.labels![i]
          ? 0
          : 1
        : (tree.value[t]! - task.values![i]!) ** 2;
    let base = 0;
    for (let a = 0; a < m; a++) base += err(leaf[a]!, oobIdx[a]!);
    const feats = usedFeatures(tree);
    const delta = new Float64Array(feats.length);
    const perm = new Int32Array(m);
    for (let q = 0; q < feats.length; q++) {
      const f = feats[q]!;
      let sum = 0;
      for (let r = 0; r < task.permRepeats; r++) {
        for (let a = 0; a < m; a++) perm[a] = oobIdx[a]!;
        rng.shuffle(perm);
        let e = 0;
        for (let a = 0; a < m; a++) {
          const i = oobIdx[a]!;
          e += err(leafOfPermuted(tree, raw, n, i, f, perm[a]!), i);
        }
        sum += e - base;
      }
      delta[q] = sum / task.permRepeats / m;
    }
    res.permF = feats;
    res.permD = delta;
  }
}

export interface ForestOptions {
  nEstimators: number;
  cart: CartParams;
  bootstrap: boolean;
  /** Per-row class weight or null. */
  rowWeight: Float64Array | null;
  oob: boolean;
  permRepeats: number;
  /** Compute float thresholds (needed for prediction); off for importance-only forests. */
  thresholds: boolean;
}

export interface ForestFit {
  trees: Tree[];
  nClasses: number;
  /** Normalised mean decrease in impurity (sums to 1 unless no tree split). */
  mdi: Float64Array;
  /** Mean OOB permutation importance (decrease in accuracy / increase in MSE), when asked. */
  permutation?: Float64Array;
  /** OOB accuracy (classes) or R² (regression), over rows that were OOB at least once. */
  oobScore?: number;
  /** Row-major n × nOut mean OOB prediction (NaN for rows never OOB). */
  oobPrediction?: Float64Array;
}

/** Grow a forest on binned data; `raw` (column-major, same shape) is needed for OOB work. */
export async function fitForest(
  binned: BinnedMatrix,
  target: { nClasses: number; labels: Int32Array | null; values: Float64Array | null },
  raw: Float64Array | null,
  opt: ForestOptions,
  ctx: RunContext,
  progressStage = 'trees',
): Promise<ForestFit> {
  const { n, p } = binned;
  const T = opt.nEstimators;
  const threads = Math.max(1, ctx.threads ?? defaultThreads());
  const needRaw = opt.oob || opt.permRepeats > 0;
  if (needRaw && !raw) throw new Error('fitForest: OOB work needs the raw matrix');
  let rawShared: Float64Array | undefined;
  if (needRaw && raw) {
    if (threads > 1 && !(raw.buffer instanceof SharedArrayBuffer)) {
      rawShared = sharedArray(Float64Array, raw.length);
      rawShared.set(raw);
    } else rawShared = raw;
  }
  const seeds = Array.from({ length: T }, (_, t) => ctx.rng.fork(t).seed);
  // ≈ 8 batches per thread: load balance and progress granularity, little messaging
  const batch = Math.max(1, Math.ceil(T / (threads * 8)));
  const tasks: ForestTask[] = [];
  for (let s = 0; s < T; s += batch) {
    tasks.push({
      n,
      p,
      codes: binned.codes,
      nClasses: target.nClasses,
      labels: target.labels,
      values: target.values,
      rowWeight: opt.rowWeight,
      cart: opt.cart,
      bootstrap: opt.bootstrap,
      seeds: seeds.slice(s, s + batch),
      binMin: opt.thresholds ? binned.binMin : undefined,
      binMax: opt.thresholds ? binned.binMax : undefined,
      offsets: opt.thresholds ? binned.offsets : undefined,
      raw: rawShared,
      oob: opt.oob,
      permRepeats: opt.permRepeats,
    });
  }
  checkAbort(ctx.signal);
  const batches = await parallelMap<ForestTask, TreeResult[]>(
    __filename,
    'growForestBatch',
    tasks,
    {
      threads,
      signal: ctx.signal,
      onDone: (done, total) => ctx.progress(done / total, progressStage),
    },
  );
  const results = batches.flat();
  const trees = results.map(r => r.tree);
  const fit: ForestFit = { trees, nClasses: target.nClasses, mdi: meanDecreaseImpurity(trees, p) };
  if (opt.permRepeats > 0) {
    const perm = new Float64Array(p);
    for (const r of results) {
      if (!r.permF) continue;
      for (let q = 0; q < r.permF.length; q++) perm[r.permF[q]!] += r.permD![q]!;
    }
    for (let j = 0; j < p; j++) perm[j]! /= T;
    fit.permutation = perm;
  }
  if (opt.oob) Object.assign(fit, oobAggregate(results, n, target));
  return fit;
}

/** scikit-learn's feature_importances_: per-tree normalised MDI, averaged, renormalised. */
export function meanDecreaseImpurity(trees: Tree[], p: number): Float64Array {
  const total = new Float64Array(p);
  const one = new Float64Array(p);
  let used = 0;
  for (const tree of trees) {
    if (tree.nNodes <= 1) continue;
    used++;
    one.fill(0);
    const { feature, left, right, weight, impurity } = tree;
    for (let t = 0; t < tree.nNodes; t++) {
      const f = feature[t]!;
      if (f < 0) continue;
      const l = left[t]!;
      const r = right[t]!;
      one[f] += weight[t]! * impurity[t]! - weight[l]! * impurity[l]! - weight[r]! * impurity[r]!;
    }
    let s = 0;
    for (let j = 0; j < p; j++) {
      one[j]! /= weight[0]!;
      s += one[j]!;
    }
    if (s > 0) for (let j = 0; j < p; j++) total[j] += one[j]! / s;
  }
  if (used === 0) return total;
  let s = 0;
  for (let j = 0; j < p; j++) s += total[j]! / used;
  for (let j = 0; j < p; j++) total[j] = s > 0 ? total[j]! / used / s : 0;
  return total;
}

function oobAggregate(
  results: TreeResult[],
  n: number,
  target: { nClasses: number; labels: Int32Array | null; values: Float64Array | null },
): { oobScore: number; oobPrediction: Float64Array } {
  const K = target.nClasses > 0 ? target.nClasses : 1;
  const sum = new Float64Array(n * K);
  const cnt = new Int32Array(n);
  for (const r of results) {
    if (!r.oobIdx) continue;
    for (let a = 0; a < r.oobIdx.length; a++) {
      const i = r.oobIdx[a]!;
      cnt[i]++;
      for (let c = 0; c < K; c++) sum[i * K + c] += r.oobPred![a * K + c]!;
    }
  }
  let ok = 0;
  let m = 0;
  const truth: number[] = [];
  const pred: number[] = [];
  for (let i = 0; i < n; i++) {
    if (cnt[i] === 0) {
      for (let c = 0; c < K; c++) sum[i * K + c] = NaN;
      continue;
    }
    for (let c = 0; c < K; c++) sum[i * K + c]! /= cnt[i]!;
    m++;
    if (target.nClasses > 0) {
      if (argmax(sum, i * K, K) === target.labels![i]) ok++;
    } else {
      truth.push(target.values![i]!);
      pred.push(sum[i]!);
    }
  }
  let score: number;
  if (target.nClasses > 0) score = m ? ok / m : NaN;
  else {
    const mean = truth.reduce((a, b) => a + b, 0) / Math.max(1, truth.length);
    let ssr = 0;
    let sst = 0;
    for (let a = 0; a < truth.length; a++) {
      ssr += (truth[a]! - pred[a]!) ** 2;
      sst += (truth[a]! - mean) ** 2;
    }
    score = sst > 0 ? 1 - ssr / sst : NaN;
  }
  return { oobScore: score, oobPrediction: sum };
}

/** Averaged forest output for every row of a column-major matrix: n × nOut. */
export function forestPredict(trees: Tree[], x: Float64Array, n: number): Float64Array {
  const K = trees[0]?.nOut ?? 1;
  const out = new Float64Array(n * K);
  for (const tree of trees) {
    for (let i = 0; i < n; i++) {
      const t = leafOf(tree, x, n, i);
      for (let c = 0; c < K; c++) out[i * K + c] += tree.value[t * K + c]!;
    }
  }
  for (let a = 0; a < out.length; a++) out[a]! /= trees.length;
  return out;
}
