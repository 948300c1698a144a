/**
 * The few scores the tree methods need internally (OOB score, early stopping, permutation
 * importance, RFECV), kept here so compute/trees has no dependency on the metric registry.
 * Definitions follow scikit-learn (accuracy_score, r2_score, roc_auc_score) and XGBoost
 * (logloss, mlogloss, rmse eval metrics).
 */

export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) ok++;
  return truth.length ? ok / truth.length : NaN;
}

/** Coefficient of determination; 1 when y is constant and predicted exactly (as sklearn). */
export function r2(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = truth.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += truth[i]!;
  mean /= n;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    ssr += (truth[i]! - pred[i]!) ** 2;
    sst += (truth[i]! - mean) ** 2;
  }
  if (sst === 0) return ssr === 0 ? 1 : 0;
  return 1 - ssr / sst;
}

/** Binary ROC AUC (Mann–Whitney with mid-ranks for ties); labels 0/1. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  for (let a = 0; a < n;) {
    let z = a;
    while (z + 1 < n && scores[order[z + 1]!] === scores[order[a]!]) z++;
    const mid = (a + z) / 2 + 1;
    for (let t = a; t <= z; t++) {
      if (labels[order[t]!] === 1) {
        rankSumPos += mid;
        nPos++;
      }
    }
    a = z + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean negative log-likelihood of row-major n × K probabilities (K = 1: binary P(y=1)). */
export function logLoss(labels: Int32Array, proba: Float64Array, K: number): number {
  const n = labels.length;
  const eps = 1e-15;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let q = K === 1 ? (labels[i] === 1 ? proba[i]! : 1 - proba[i]!) : proba[i * K + labels[i]!]!;
    q = Math.min(1 - eps, Math.max(eps, q));
    s -= Math.log(q);
  }
  return s / n;
}

export function rmse(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += (truth[i]! - pred[i]!) ** 2;
  return Math.sqrt(s / truth.length);
}

/** Index of the largest of K values starting at off (first wins ties, like numpy argmax). */
export function argmax(a: ArrayLike<number>, off: number, K: number): number {
  let best = 0;
  let bv = a[off]!;
  for (let c = 1; c < K; c++) {
    if (a[off + c]! > bv) {
      bv = a[off + c]!;
      best = c;
    }
  }
  return best;
}
