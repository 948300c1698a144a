/**
 * Gradient boosting with XGBoost's second-order objective (Chen & Guestrin 2016), `hist`-style.
 *
 * Per round and class: gradients g and hessians h of the loss at the current margins, then one
 * depth-wise tree. A split's gain is XGBoost's loss change
 *   gain = T(G_L)²/(H_L+λ) + T(G_R)²/(H_R+λ) − T(G)²/(H+λ),   T(G) = sign(G)·max(|G|−α, 0),
 * valid when both children have hessian ≥ min_child_weight, gain > 1e-6 and gain ≥ gamma; a leaf
 * gets learning_rate · (−T(G)/(H+λ)) (0 when H < min_child_weight). Missing values: each boundary
 * is scored with the node's missing rows right, then left; without missing rows in training the
 * default direction is right (as XGBoost's forward enumeration).
 *
 * Split search (our layout, same candidates as a histogram): each feature's rows are sorted once
 * by bin code, so one pass over a feature visits every row of every open node of the current
 * level in bin order. A level costs O(rows × features) however many nodes it has and never scans
 * empty bins, which matters when n ≪ 256·nodes (omics: few samples, many features). Features are
 * split into chunks scanned on worker threads; the rows' node slots and gradients travel with each
 * task, the sorted layout is shared memory.
 */
import { checkAbort, type RunContext } from '../core/method';
import { defaultThreads, parallelMap } from '../core/parallel';
import { Rng } from '../core/rng';
import { type BinnedMatrix, MISSING_BIN, sharedArray } from './binning';
import { leafOf, type Tree, TreeBuilder } from './tree';

export type Objective = 'binary:logistic' | 'multi:softprob' | 'reg:squarederror';

export interface BoostParams {
  objective: Objective;
  nClasses: number;
  nEstimators: number;
  learningRate: number;
  /** 0 = unlimited (XGBoost). */
  maxDepth: number;
  minChildWeight: number;
  regLambda: number;
  regAlpha: number;
  gamma: number;
  subsample: number;
  colsampleBytree: number;
  baseScore: number;
  earlyStoppingRounds: number | null;
}

/**
 * Sort key of a missing cell, and the `hi` of the "all values left | missing right" candidate:
 * one past the largest value bin (255), so it never collides with a real bin.
 */
export const MISSING_KEY = 256;

/** Rows of each feature sorted by bin code; missing cells last. */
export interface SortedLayout {
  n: number;
  p: number;
  order: Int32Array;
  sortedCodes: Uint8Array;
  /** Non-missing rows per feature. */
  nValid: Int32Array;
}

/**
 * Counting sort of each column's codes (stable: ties keep row order). Missing cells are those
 * whose raw value is NaN (not code 255: XGBoost's cuts can give a feature 256 value bins, see
 * boosting-sketch.ts); they sort last under key 256.
 */
export function sortedLayout(b: BinnedMatrix, raw: Float64Array): SortedLayout {
  const { n, p, codes } = b;
  const order = sharedArray(Int32Array, n * p);
  const sortedCodes = sharedArray(Uint8Array, n * p);
  const nValid = new Int32Array(p);
  const count = new Int32Array(258);
  for (let j = 0; j < p; j++) {
    const base = j * n;
    count.fill(0);
    for (let i = 0; i < n; i++) {
      const x = raw[base + i]!;
      count[(x === x ? codes[base + i]! : MISSING_KEY) + 1]++;
    }
    for (let c = 1; c < 258; c++) count[c] += count[c - 1]!;
    for (let i = 0; i < n; i++) {
      const x = raw[base + i]!;
      const c = x === x ? codes[base + i]! : MISSING_KEY;
      const t = count[c]++;
      order[base + t] = i;
      sortedCodes[base + t] = c; // missing cells (256 → 0) are never read as codes
    }
    nValid[j] = count[MISSING_KEY - 1]!; // after placement: end of bin 255 = start of missing
  }
  return { n, p, order, sortedCodes, nValid };
}

export interface LevelTask {
  n: number;
  order: Int32Array;
  sortedCodes: Uint8Array;
  nValid: Int32Array;
  features: Int32Array;
  /** Open-node slot per row, -1 when the row is in no open node (leaf, or not sampled). */
  slot: Int32Array;
  g: Float64Array;
  h: Float64Array;
  nodeG: Float64Array;
  nodeH: Float64Array;
  lambda: number;
  alpha: number;
  minChildWeight: number;
}

/** Per open node: [gain, feature, lo, hi, missingLeft, GL, HL] (feature −1: no split with gain > 0). */
/**
 * A candidate replaces the best only when better by more than this relative margin: splits with
 * mathematically equal gain (e.g. several features isolating the same row) differ only by
 * summation-order rounding, and then the first candidate (lowest feature, lowest bin) wins, as in
 * XGBoost.
 */
const TIE_EPS = 1e-10;

/** Best gains are ≥ 0 (they start at 0), so the relative margin is TIE_EPS · best. */
function better(gain: number, best: number): boolean {
  return gain > best + TIE_EPS * best;
}

export const SPLIT_FIELDS = 7;

function thresholdL1(g: number, alpha: number): number {
  if (g > alpha) return g - alpha;
  if (g < -alpha) return g + alpha;
  return 0;
}

function calcGain(G: number, H: number, lambda: number, alpha: number, mcw: number): number {
  if (H < mcw || H <= 0) return 0;
  const t = alpha === 0 ? G : thresholdL1(G, alpha);
  return (t * t) / (H + lambda);
}

/** Worker task: best split per open node over a chunk of features. */
export function findLevelSplits(task: LevelTask): Float64Array {
  const { n, order, sortedCodes, nValid, features, slot, g, h, nodeG, nodeH } = task;
  const { lambda, alpha, minChildWeight: mcw } = task;
  const K = nodeG.length;
  // Best candidate per node. Gains start at 0 like XGBoost's SplitEntry: only positive loss
  // changes can win.
  const bestGain = new Float64Array(K);
  const bestF = new Int32Array(K).fill(-1);
  const bestLo = new Int32Array(K);
  const bestHi = new Int32Array(K);
  const bestMl = new Uint8Array(K);
  const bestGL = new Float64Array(K);
  const bestHL = new Float64Array(K);
  const rootGain = new Float64Array(K);
  for (let s = 0; s < K; s++) rootGain[s] = calcGain(nodeG[s]!, nodeH[s]!, lambda, alpha, mcw);
  /** rootGain + best · (1 + TIE_EPS): the child-gain sum a candidate must beat. */
  const bar = Float64Array.from(rootGain);
  const GL = new Float64Array(K);
  const HL = new Float64Array(K);
  const GM = new Float64Array(K);
  const HM = new Float64Array(K);
  const nM = new Int32Array(K);
  const last = new Int32Array(K);
  // plain L2 gain (no L1 shrinkage, positive hessians guaranteed by mcw > 0) is inlined below
  const simple = alpha === 0 && mcw > 0;

  /** Score a boundary with missing rows on side `ml` (general path). */
  const consider = (
    s: number,
    f: number,
    lo: number,
    hi: number,
    gl: number,
    hl: number,
    ml: number,
  ) => {
    const hr = nodeH[s]! - hl;
    if (hl < mcw || hr < mcw) return;
    const gain =
      calcGain(gl, hl, lambda, alpha, mcw) +
      calcGain(nodeG[s]! - gl, hr, lambda, alpha, mcw) -
      rootGain[s]!;
    if (better(gain, bestGain[s]!)) {
      bestGain[s] = gain;
      bar[s] = rootGain[s]! + gain * (1 + TIE_EPS);
      bestF[s] = f;
      bestLo[s] = lo;
      bestHi[s] = hi;
      bestMl[s] = ml;
      bestGL[s] = gl;
      bestHL[s] = hl;
    }
  };

  for (let q = 0; q < features.length; q++) {
    const f = features[q]!;
    const base = f * n;
    const nv = nValid[f]!;
    GL.fill(0);
    HL.fill(0);
    last.fill(-1);
    const anyMissing = nv < n;
    if (anyMissing) {
      GM.fill(0);
      HM.fill(0);
      nM.fill(0);
      for (let t = nv; t < n; t++) {
        const i = order[base + t]!;
        const s = slot[i]!;
        if (s < 0) continue;
        GM[s] += g[i]!;
        HM[s] += h[i]!;
        nM[s]++;
      }
    }
    for (let t = 0; t < nv; t++) {
      const i = order[base + t]!;
      const s = slot[i]!;
      if (s < 0) continue;
      const b = sortedCodes[base + t]!;
      const lb = last[s]!;
      if (b !== lb) {
        if (lb >= 0) {
          const gl = GL[s]!;
          const hl = HL[s]!;
          if (simple) {
            // missing (if any) right: forward enumeration
            const hr = nodeH[s]! - hl;
            if (hl >= mcw && hr >= mcw) {
              // gain > bar ⇔ gl²(hr+λ) + gr²(hl+λ) > (bar + root)(hl+λ)(hr+λ): no division on
              // the hot path; the exact gain is computed only for a new best
              const gr = nodeG[s]! - gl;
              const dl = hl + lambda;
              const dr = hr + lambda;
              if (gl * gl * dr + gr * gr * dl > bar[s]! * dl * dr) {
                bestGain[s] = (gl * gl) / dl + (gr * gr) / dr - rootGain[s]!;
                bar[s] = rootGain[s]! + bestGain[s]! * (1 + TIE_EPS);
                bestF[s] = f;
                bestLo[s] = lb;
                bestHi[s] = b;
                bestMl[s] = 0;
                bestGL[s] = gl;
                bestHL[s] = hl;
              }
            }
          } else consider(s, f, lb, b, gl, hl, 0);
          if (anyMissing && nM[s]! > 0) consider(s, f, lb, b, gl + GM[s]!, hl + HM[s]!, 1);
        }
        last[s] = b;
      }
      GL[s] += g[i]!;
      HL[s] += h[i]!;
    }
    if (anyMissing) {
      // "all values left | missing right"
      for (let s = 0; s < K; s++) {
        if (nM[s]! > 0 && last[s]! >= 0) consider(s, f, last[s]!, MISSING_KEY, GL[s]!, HL[s]!, 0);
      }
    }
  }
  const out = new Float64Array(K * SPLIT_FIELDS);
  for (let s = 0; s < K; s++) {
    const o = s * SPLIT_FIELDS;
    out[o] = bestGain[s]!;
    out[o + 1] = bestF[s]!;
    out[o + 2] = bestLo[s]!;
    out[o + 3] = bestHi[s]!;
    out[o + 4] = bestMl[s]!;
    out[o + 5] = bestGL[s]!;
    out[o + 6] = bestHL[s]!;
  }
  return out;
}

export interface BoostFit {
  /** Trees in round-major order: round r, class k → trees[r * nGroups + k]. */
  trees: Tree[];
  nGroups: number;
  baseMargin: number;
  bestIteration: number;
  /** Validation metric per round when early stopping ran. */
  evalHistory: number[];
  evalMetric: string;
}

/** Gradients and hessians of the objective at the current margins (XGBoost's formulas). */
function gradients(
  prm: BoostParams,
  margin: Float64Array,
  labels: Int32Array | null,
  values: Float64Array | null,
  rows: Int32Array,
  G: number,
  g: Float64Array[],
  h: Float64Array[],
): void {
  const n = rows.length;
  if (prm.objective === 'reg:squarederror') {
    for (let a = 0; a < n; a++) {
      const i = rows[a]!;
      g[0]![i] = margin[i]! - values![i]!;
      h[0]![i] = 1;
    }
  } else if (prm.objective === 'binary:logistic') {
    for (let a = 0; a < n; a++) {
      const i = rows[a]!;
      const p = 1 / (1 + Math.exp(-margin[i]!));
      g[0]![i] = p - labels![i]!;
      h[0]![i] = Math.max(p * (1 - p), 1e-16);
    }
  } else {
    const e = new Float64Array(G);
    for (let a = 0; a < n; a++) {
      const i = rows[a]!;
      let mx = -Infinity;
      for (let k = 0; k < G; k++) mx = Math.max(mx, margin[i * G + k]!);
      let s = 0;
      for (let k = 0; k < G; k++) {
        e[k] = Math.exp(margin[i * G + k]! - mx);
        s += e[k]!;
      }
      for (let k = 0; k < G; k++) {
        const p = e[k]! / s;
        g[k]![i] = p - (labels![i] === k ? 1 : 0);
        h[k]![i] = Math.max(2 * p * (1 - p), 1e-16);
      }
    }
  }
}

/** Transformed predictions: P(y=1), class probabilities (row-major) or values. */
export function transformMargins(obj: Objective, margin: Float64Array, G: number): Float64Array {
  if (obj === 'reg:squarederror') return margin.slice();
  if (obj === 'binary:logistic') return margin.map(m => 1 / (1 + Math.exp(-m)));
  const out = new Float64Array(margin.length);
  for (let i = 0; i < margin.length / G; i++) {
    let mx = -Infinity;
    for (let k = 0; k < G; k++) mx = Math.max(mx, margin[i * G + k]!);
    let s = 0;
    for (let k = 0; k < G; k++) s += out[i * G + k] = Math.exp(margin[i * G + k]! - mx);
    for (let k = 0; k < G; k++) out[i * G + k]! /= s;
  }
  return out;
}

/** Margins for every row of a column-major matrix: n × nGroups. */
export function boostMargins(
  trees: Tree[],
  nGroups: number,
  baseMargin: number,
  x: Float64Array,
  n: number,
): Float64Array {
  const out = new Float64Array(n * nGroups).fill(baseMargin);
  trees.forEach((tree, t) => {
    const k = t % nGroups;
    for (let i = 0; i < n; i++) out[i * nGroups + k] += tree.value[leafOf(tree, x, n, i)]!;
  });
  return out;
}

function evalMetric(
  obj: Objective,
  margin: Float64Array,
  G: number,
  rows: Int32Array,
  labels: Int32Array | null,
  values: Float64Array | null,
): number {
  let s = 0;
  const eps = 1e-15;
  for (let a = 0; a < rows.length; a++) {
    const i = rows[a]!;
    if (obj === 'reg:squarederror') s += (margin[i]! - values![i]!) ** 2;
    else if (obj === 'binary:logistic') {
      const p = 1 / (1 + Math.exp(-margin[i]!));
      const q = labels![i] === 1 ? p : 1 - p;
      s -= Math.log(Math.min(1 - eps, Math.max(eps, q)));
    } else {
      let mx = -Infinity;
      for (let k = 0; k < G; k++) mx = Math.max(mx, margin[i * G + k]!);
      let z = 0;
      for (let k = 0; k < G; k++) z += Math.exp(margin[i * G + k]! - mx);
      const p = Math.exp(margin[i * G + labels![i]!]! - mx) / z;
      s -= Math.log(Math.min(1 - eps, Math.max(eps, p)));
    }
  }
  const mean = s / rows.length;
  return obj === 'reg:squarederror' ? Math.sqrt(mean) : mean;
}

export interface ValidationSet {
  /** Column-major nv × p raw values (same columns as the training matrix). */
  raw: Float64Array;
  n: number;
  labels: Int32Array | null;
  values: Float64Array | null;
}

/**
 * Fit on every row of a binned matrix (`raw`: the column-major values it was binned from, used
 * for margin updates through the real thresholds). `valid` drives early stopping.
 */
export async function fitBoosting(
  binned: BinnedMatrix,
  raw: Float64Array,
  target: { labels: Int32Array | null; values: Float64Array | null },
  valid: ValidationSet | null,
  prm: BoostParams,
  ctx: RunContext,
): Promise<BoostFit> {
  const { n } = binned;
  const layout = sortedLayout(binned, raw);
  const G = prm.objective === 'multi:softprob' ? prm.nClasses : 1;
  const baseMargin =
    prm.objective === 'binary:logistic'
      ? Math.log(prm.baseScore / (1 - prm.baseScore))
      : prm.baseScore;
  const margin = new Float64Array(n * G).fill(baseMargin);
  const g = Array.from({ length: G }, () => new Float64Array(n));
  const h = Array.from({ length: G }, () => new Float64Array(n));
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const threads = Math.max(1, ctx.threads ?? defaultThreads());
  const trees: Tree[] = [];
  const history: number[] = [];
  const stopping = prm.earlyStoppingRounds !== null && valid !== null && valid.n > 0;
  const vMargin = stopping ? new Float64Array(valid.n * G).fill(baseMargin) : null;
  const vRows = stopping ? Int32Array.from({ length: valid.n }, (_, i) => i) : null;
  let best = Infinity;
  let bestIter = -1;
  const metricName =
    prm.objective === 'reg:squarederror'
      ? 'rmse'
      : prm.objective === 'binary:logistic'
        ? 'logloss'
        : 'mlogloss';
  for (let r = 0; r < prm.nEstimators; r++) {
    checkAbort(ctx.signal);
    gradients(prm, margin, target.labels, target.values, all, G, g, h);
    for (let k = 0; k < G; k++) {
      const rng = new Rng(ctx.rng.fork(r * G + k).seed);
      const tree = await growBoostTree(binned, raw, layout, g[k]!, h[k]!, prm, rng, threads, ctx);
      trees.push(tree);
      for (let i = 0; i < n; i++) margin[i * G + k] += tree.value[leafOf(tree, raw, n, i)]!;
      if (vMargin) {
        for (let i = 0; i < valid!.n; i++) {
          vMargin[i * G + k] += tree.value[leafOf(tree, valid!.raw, valid!.n, i)]!;
        }
      }
    }
    ctx.progress((r + 1) / prm.nEstimators, 'boosting rounds');
    if (vMargin) {
      const m = evalMetric(prm.objective, vMargin, G, vRows!, valid!.labels, valid!.values);
      history.push(m);
      if (m < best) {
        best = m;
        bestIter = r;
      } else if (r - bestIter >= prm.earlyStoppingRounds!) break;
    }
  }
  const bestIteration = bestIter >= 0 ? bestIter : trees.length / G - 1;
  return {
    trees: trees.slice(0, (bestIteration + 1) * G),
    nGroups: G,
    baseMargin,
    bestIteration,
    evalHistory: history,
    evalMetric: metricName,
  };
}

/**
 * The threshold of a split between bins `lo` and `hi` of feature f: binning.ts's midpoint rule,
 * except that `hi` = 255 is a real value bin here (XGBoost's cuts allow 256) and the
 * "values | missing" split is `hi` = MISSING_KEY (all values left: +Infinity).
 */
function splitThreshold(b: BinnedMatrix, f: number, lo: number, hi: number): number {
  if (hi === MISSING_KEY) return Infinity;
  const x = b.binMax[b.offsets[f]! + lo]!;
  const y = b.binMin[b.offsets[f]! + hi]!;
  const t = x / 2 + y / 2;
  return t === y || !Number.isFinite(t) ? x : t;
}

/** One depth-wise tree on gradients g, h over all rows (subsampled inside). */
async function growBoostTree(
  binned: BinnedMatrix,
  raw: Float64Array,
  layout: SortedLayout,
  g: Float64Array,
  h: Float64Array,
  prm: BoostParams,
  rng: Rng,
  threads: number,
  ctx: RunContext,
): Promise<Tree> {
  const { n, p } = binned;
  const slot = new Int32Array(n).fill(-1);
  // Row subsample as XGBoost 1.7's hist updater (`InitSampling`): every row is kept
  // independently with probability `subsample` (a Bernoulli coin per row, so the count varies from
  // tree to tree), the others get zero gradient and hessian, i.e. drop out of every sum. Not a
  // fixed-size draw: over 30 seeds on the omics-like RNA-seq set the two rules gave the same
  // recall within noise, but only this one is XGBoost's.
  let rows: Int32Array;
  if (prm.subsample < 1) {
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (rng.random() < prm.subsample) keep.push(i);
    rows = Int32Array.from(keep);
  } else rows = Int32Array.from({ length: n }, (_, i) => i);
  let features: Int32Array;
  if (prm.colsampleBytree < 1) {
    features = rng.sample(p, Math.max(1, Math.floor(prm.colsampleBytree * p)));
  } else features = Int32Array.from({ length: p }, (_, j) => j);

  const tb = new TreeBuilder(1, 64);
  const root = tb.add();
  let G0 = 0;
  let H0 = 0;
  for (const i of rows) {
    slot[i] = 0;
    G0 += g[i]!;
    H0 += h[i]!;
  }
  let open = [root];
  let nodeG = Float64Array.of(G0);
  let nodeH = Float64Array.of(H0);
  const lambda = prm.regLambda;
  const alpha = prm.regAlpha;
  const mcw = prm.minChildWeight;
  const leafValue = (G: number, H: number): number =>
    H < mcw || H <= 0 ? 0 : (-thresholdL1(G, alpha) / (H + lambda)) * prm.learningRate;
  tb.weight[root] = H0;
  let depth = 0;
  const parallel = threads > 1 && rows.length * features.length >= 400_000;
  while (open.length > 0) {
    checkAbort(ctx.signal);
    const K = open.length;
    let splits: Float64Array;
    const canSplit = prm.maxDepth === 0 || depth < prm.maxDepth;
    if (!canSplit) splits = new Float64Array(0);
    else {
      const base = {
        n,
        order: layout.order,
        sortedCodes: layout.sortedCodes,
        nValid: layout.nValid,
        slot,
        g,
        h,
        nodeG,
        nodeH,
        lambda,
        alpha,
        minChildWeight: mcw,
      };
      if (!parallel) splits = findLevelSplits({ ...base, features });
      else {
        const parts = Math.min(threads, features.length);
        const tasks: LevelTask[] = [];
        for (let c = 0; c < parts; c++) {
          const a = Math.floor((c * features.length) / parts);
          const z = Math.floor(((c + 1) * features.length) / parts);
          tasks.push({ ...base, features: features.slice(a, z) });
        }
        const res = await parallelMap<LevelTask, Float64Array>(
          __filename,
          'findLevelSplits',
          tasks,
          {
            threads: parts,
            signal: ctx.signal,
          },
        );
        // merge in feature order: strictly greater gain wins, so lower features win ties
        splits = res[0]!;
        for (let c = 1; c < res.length; c++) {
          for (let s = 0; s < K; s++) {
            const o = s * SPLIT_FIELDS;
            if (better(res[c]![o]!, splits[o]!))
              splits.set(res[c]!.subarray(o, o + SPLIT_FIELDS), o);
          }
        }
      }
    }
    const next: number[] = [];
    const nextG: number[] = [];
    const nextH: number[] = [];
    const newSlot = new Int32Array(K * 2).fill(-1);
    const splitNode = new Int32Array(K).fill(-1);
    for (let s = 0; s < K; s++) {
      const t = open[s]!;
      const o = s * SPLIT_FIELDS;
      const gain = canSplit ? splits[o]! : -Infinity;
      const f = canSplit ? splits[o + 1]! : -1;
      const GL = splits[o + 5] ?? 0;
      const HL = splits[o + 6] ?? 0;
      const GR = nodeG[s]! - GL;
      const HR = nodeH[s]! - HL;
      if (f < 0 || !(gain > 1e-6) || gain < prm.gamma || HL === 0 || HR === 0) {
        tb.value[t] = leafValue(nodeG[s]!, nodeH[s]!);
        continue;
      }
      const lo = splits[o + 2]!;
      const hi = splits[o + 3]!;
      tb.feature[t] = f;
      tb.binLo[t] = lo;
      tb.binHi[t] = Math.min(hi, MISSING_BIN); // not read by boosting
      tb.missingLeft[t] = splits[o + 4]!;
      tb.impurity[t] = gain;
      tb.threshold[t] = splitThreshold(binned, f, lo, hi);
      const l = tb.add();
      const r = tb.add();
      tb.left[t] = l;
      tb.right[t] = r;
      tb.weight[l] = HL;
      tb.weight[r] = HR;
      splitNode[s] = t;
      newSlot[2 * s] = next.length;
      next.push(l);
      nextG.push(GL);
      nextH.push(HL);
      newSlot[2 * s + 1] = next.length;
      next.push(r);
      nextG.push(GR);
      nextH.push(HR);
    }
    // route rows of split nodes to their children's slots
    const codes = binned.codes;
    for (const i of rows) {
      const s = slot[i]!;
      if (s < 0) continue;
      const t = splitNode[s]!;
      if (t < 0) {
        slot[i] = -1;
        continue;
      }
      const cell = tb.feature[t]! * n + i;
      const x = raw[cell]!;
      const left = x !== x ? tb.missingLeft[t] === 1 : codes[cell]! <= tb.binLo[t]!;
      slot[i] = newSlot[2 * s + (left ? 0 : 1)]!;
    }
    open = next;
    nodeG = Float64Array.from(nextG);
    nodeH = Float64Array.from(nextH);
    depth++;
  }
  const tree = tb.finish();
  for (let t = 0; t < tree.nNodes; t++) if (tree.feature[t]! < 0) tree.threshold[t] = NaN;
  return tree;
}
