/**
 * Score-based binary metrics: ROC AUC (Mann–Whitney form, ties count ½ — identical to sklearn's
 * trapezoidal roc_auc_score), its confidence interval (DeLong or stratified bootstrap), average
 * precision (sklearn's step-wise PR AUC, no interpolation), the ROC curve and the Youden cutoff.
 */
import { type Rng } from '../core/rng';
import { normalCdf } from '../stats/distributions';
import { averageRanks } from './types';

/** ROC AUC for labels 0/1 and scores (higher = more likely positive). NaN if one class is absent. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const ranks = averageRanks(scores);
  let n1 = 0;
  let rankSum = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      n1++;
      rankSum += ranks[i]!;
    }
  }
  const n0 = labels.length - n1;
  if (n1 === 0 || n0 === 0) return NaN;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

/**
 * DeLong et al. (1988) variance of the AUC from its structural components (placement values):
 * V10_i = P(score_neg < score_i) for each positive, V01_j = P(score_pos > score_j) for each
 * negative (ties ½); Var = s²(V10)/n1 + s²(V01)/n0 with sample variances. Placement values come
 * from mid-ranks (Sun & Xu 2014), O(n log n).
 */
export function delongVariance(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]!);
  const m = pos.length;
  const n = neg.length;
  if (m < 2 || n < 2) return NaN;
  const all = averageRanks([...pos, ...neg]);
  const rp = averageRanks(pos);
  const rn = averageRanks(neg);
  const auc =
    (Array.from(all.subarray(0, m)).reduce((a, b) => a + b, 0) - (m * (m + 1)) / 2) / (m * n);
  let s10 = 0;
  for (let i = 0; i < m; i++) {
    const v = (all[i]! - rp[i]!) / n;
    s10 += (v - auc) ** 2;
  }
  let s01 = 0;
  for (let j = 0; j < n; j++) {
    const v = 1 - (all[m + j]! - rn[j]!) / m;
    s01 += (v - auc) ** 2;
  }
  return s10 / (m - 1) / m + s01 / (n - 1) / n;
}

/** Standard-normal quantile by bisection on the exact CDF (called a handful of times per run). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  let lo = -40;
  let hi = 40;
  for (let it = 0; it < 200 && hi - lo > 1e-15; it++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface AucInterval {
  auc: number;
  lower: number;
  upper: number;
  level: number;
  method: 'delong' | 'bootstrap';
}

/** DeLong CI on the AUC scale, clipped to [0, 1] (as pROC `ci.auc(method = "delong")`). */
export function rocAucCiDelong(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  level = 0.95,
): AucInterval {
  const auc = rocAuc(labels, scores);
  const se = Math.sqrt(delongVariance(labels, scores));
  const z = normalQuantile(1 - (1 - level) / 2);
  return {
    auc,
    lower: Math.max(0, auc - z * se),
    upper: Math.min(1, auc + z * se),
    level,
    method: 'delong',
  };
}

/**
 * Percentile bootstrap CI with resampling stratified by class (as pROC's default
 * `stratified = TRUE`), seeded by the caller's Rng.
 */
export function rocAucCiBootstrap(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  rng: Rng,
  nBoot = 2000,
  level = 0.95,
): AucInterval {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]!);
  const m = pos.length;
  const n = neg.length;
  const lab = new Int32Array(m + n).fill(1, 0, m);
  const s = new Float64Array(m + n);
  const aucs = new Float64Array(nBoot);
  for (let b = 0; b < nBoot; b++) {
    for (let i = 0; i < m; i++) s[i] = pos[rng.int(m)]!;
    for (let j = 0; j < n; j++) s[m + j] = neg[rng.int(n)]!;
    aucs[b] = rocAuc(lab, s);
  }
  aucs.sort();
  const q = (p: number): number => {
    // linear interpolation between order statistics (numpy's default quantile rule)
    const h = (nBoot - 1) * p;
    const lo = Math.floor(h);
    return aucs[lo]! + (h - lo) * ((aucs[Math.min(lo + 1, nBoot - 1)] ?? aucs[lo]!) - aucs[lo]!);
  };
  const alpha = 1 - level;
  return {
    auc: rocAuc(labels, scores),
    lower: q(alpha / 2),
    upper: q(1 - alpha / 2),
    level,
    method: 'bootstrap',
  };
}

export interface RocCurve {
  /** Thresholds, descending; the first is +Infinity (nothing predicted positive). */
  thresholds: Float64Array;
  fpr: Float64Array;
  tpr: Float64Array;
}

/** All distinct-threshold ROC points (sklearn roc_curve with drop_intermediate=False). */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let P = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) P++;
  const N = n - P;
  const th = [Infinity];
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    if (labels[i] === 1) tp++;
    else fp++;
    if (r === n - 1 || scores[order[r + 1]!] !== scores[i]) {
      th.push(scores[i]!);
      tpr.push(P === 0 ? NaN : tp / P);
      fpr.push(N === 0 ? NaN : fp / N);
    }
  }
  return {
    thresholds: Float64Array.from(th),
    fpr: Float64Array.from(fpr),
    tpr: Float64Array.from(tpr),
  };
}

export interface YoudenCutoff {
  /** Predict positive when score ≥ threshold. */
  threshold: number;
  /** J = sensitivity + specificity − 1 at that threshold. */
  j: number;
  sensitivity: number;
  specificity: number;
}

/**
 * The threshold maximising Youden's J over the ROC curve (first maximum in descending-threshold
 * order, i.e. numpy argmax over sklearn's roc_curve). Choose it on training data only.
 */
export function youdenCutoff(labels: ArrayLike<number>, scores: ArrayLike<number>): YoudenCutoff {
  const c = rocCurve(labels, scores);
  let best = 0;
  for (let t = 1; t < c.thresholds.length; t++) {
    if (c.tpr[t]! - c.fpr[t]! > c.tpr[best]! - c.fpr[best]!) best = t;
  }
  return {
    threshold: c.thresholds[best]!,
    j: c.tpr[best]! - c.fpr[best]!,
    sensitivity: c.tpr[best]!,
    specificity: 1 - c.fpr[best]!,
  };
}

/** Average precision as sklearn: Σ (R_k − R_{k−1}) P_k over distinct thresholds, descending. */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let P = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) P++;
  if (P === 0) return NaN;
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    seen++;
    if (labels[i] === 1) tp++;
    if (r === n - 1 || scores[order[r + 1]!] !== scores[i]) {
      const recall = tp / P;
      ap += (recall - prevRecall) * (tp / seen);
      prevRecall = recall;
    }
  }
  return ap;
}
