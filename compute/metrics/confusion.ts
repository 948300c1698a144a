/**
 * Label-based classification metrics with scikit-learn's conventions: the positive class of a
 * binary outcome is label 1 (`classes[1]`); multiclass averages run over the labels present in
 * the truth or the predictions (sklearn `unique_labels`); 0/0 counts as 0 (`zero_division=0`).
 */

export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function binaryCounts(truth: Int32Array, pred: Int32Array): BinaryCounts {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] === 1;
    const p = pred[i] === 1;
    if (t && p) tp++;
    else if (!t && p) fp++;
    else if (t && !p) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

const div = (a: number, b: number): number => (b === 0 ? 0 : a / b);

export const sensitivity = (c: BinaryCounts): number => div(c.tp, c.tp + c.fn);
export const specificity = (c: BinaryCounts): number => div(c.tn, c.tn + c.fp);
export const precision = (c: BinaryCounts): number => div(c.tp, c.tp + c.fp);
export const f1 = (c: BinaryCounts): number => div(2 * c.tp, 2 * c.tp + c.fp + c.fn);

/** Confusion matrix over `k` classes: m[t * k + p]. */
export function confusion(truth: Int32Array, pred: Int32Array, k: number): Float64Array {
  const m = new Float64Array(k * k);
  for (let i = 0; i < truth.length; i++) m[truth[i]! * k + pred[i]!]!++;
  return m;
}

export function accuracy(truth: Int32Array, pred: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) ok++;
  return div(ok, truth.length);
}

/** Mean recall over the classes present in the truth (sklearn balanced_accuracy_score). */
export function balancedAccuracy(truth: Int32Array, pred: Int32Array, k: number): number {
  const m = confusion(truth, pred, k);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    for (let p = 0; p < k; p++) support += m[c * k + p]!;
    if (support === 0) continue;
    sum += m[c * k + c]! / support;
    present++;
  }
  return div(sum, present);
}

/** Matthews correlation, the multiclass (Gorodkin R_K) form sklearn uses; 0 when undefined. */
export function mcc(truth: Int32Array, pred: Int32Array, k: number): number {
  const m = confusion(truth, pred, k);
  const t = new Float64Array(k);
  const p = new Float64Array(k);
  let correct = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      t[a]! += m[a * k + b]!;
      p[b]! += m[a * k + b]!;
    }
    correct += m[a * k + a]!;
  }
  const s = truth.length;
  let tp = 0;
  let tt = 0;
  let pp = 0;
  for (let c = 0; c < k; c++) {
    tp += t[c]! * p[c]!;
    tt += t[c]! * t[c]!;
    pp += p[c]! * p[c]!;
  }
  const cov = correct * s - tp;
  const denom = Math.sqrt((s * s - tt) * (s * s - pp));
  return denom === 0 ? 0 : cov / denom;
}

export type Average = 'macro' | 'micro' | 'weighted';

/**
 * Precision / recall / F1 averaged over the labels in truth ∪ predictions, as sklearn's
 * precision_recall_fscore_support with average=macro|micro|weighted and zero_division=0.
 */
export function averagedPrf(
  truth: Int32Array,
  pred: Int32Array,
  k: number,
  which: 'precision' | 'recall' | 'f1',
  average: Average,
): number {
  const m = confusion(truth, pred, k);
  const tpc = new Float64Array(k);
  const support = new Float64Array(k);
  const predicted = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    tpc[a] = m[a * k + a]!;
    for (let b = 0; b < k; b++) {
      support[a]! += m[a * k + b]!;
      predicted[b]! += m[a * k + b]!;
    }
  }
  const labels = Array.from({ length: k }, (_, c) => c).filter(
    c => support[c]! > 0 || predicted[c]! > 0,
  );
  const score = (tp: number, pr: number, su: number): number =>
    which === 'precision' ? div(tp, pr) : which === 'recall' ? div(tp, su) : div(2 * tp, pr + su);
  if (average === 'micro') {
    let tp = 0;
    let pr = 0;
    let su = 0;
    for (const c of labels) {
      tp += tpc[c]!;
      pr += predicted[c]!;
      su += support[c]!;
    }
    return score(tp, pr, su);
  }
  let sum = 0;
  let wsum = 0;
  for (const c of labels) {
    const w = average === 'weighted' ? support[c]! : 1;
    sum += w * score(tpc[c]!, predicted[c]!, support[c]!);
    wsum += w;
  }
  return div(sum, wsum);
}
