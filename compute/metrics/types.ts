/**
 * Shared pieces of the metric implementations: extracting labels / scores from predictions, and
 * the optional training context that IPCW survival metrics need.
 */
import { type Outcome } from '../core/dataset';
import { type MetricDef, type Prediction } from '../core/method';

/**
 * What the scorer knows about the training data. Uno's C and the integrated Brier score weight
 * test samples by the censoring distribution, which should be estimated on the training samples
 * (as scikit-survival's `survival_train`); without it the test samples estimate it themselves.
 */
export interface ScoringContext {
  trainOutcome?: Outcome;
  /** The fitted model's predictions on its own training rows (to calibrate risk → survival). */
  trainPrediction?: Prediction;
}

/** A metric that can use the training context (survival IPCW metrics). */
export interface ContextMetricDef extends MetricDef {
  computeWith(truth: Outcome, prediction: Prediction, ctx: ScoringContext): number;
}

export function hasContext(m: MetricDef): m is ContextMetricDef {
  return typeof (m as Partial<ContextMetricDef>).computeWith === 'function';
}

export function classTruth(truth: Outcome): { labels: Int32Array; classes: string[] } {
  if (truth.kind === 'binary' || truth.kind === 'multiclass') {
    return { labels: truth.labels, classes: truth.classes };
  }
  throw new Error(`this metric needs a class outcome, got ${truth.kind}`);
}

export function classPrediction(p: Prediction): Extract<Prediction, { kind: 'class' }> {
  if (p.kind !== 'class') throw new Error(`this metric needs class predictions, got ${p.kind}`);
  return p;
}

/** Positive-class score column of a binary class prediction. */
export function positiveScores(p: Prediction): Float64Array {
  const c = classPrediction(p);
  const k = c.classes.length;
  if (k !== 2) throw new Error(`a binary metric got ${k}-class predictions`);
  const n = c.labels.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = c.proba[i * 2 + 1]!;
  return out;
}

export function valueTruth(truth: Outcome): Float64Array {
  if (truth.kind !== 'continuous') {
    throw new Error(`this metric needs a continuous outcome, got ${truth.kind}`);
  }
  return truth.values;
}

export function valuePrediction(p: Prediction): Float64Array {
  if (p.kind !== 'value') throw new Error(`this metric needs value predictions, got ${p.kind}`);
  return p.values;
}

export function survivalTruth(truth: Outcome): { time: Float64Array; event: Uint8Array } {
  if (truth.kind !== 'survival') {
    throw new Error(`this metric needs a survival outcome, got ${truth.kind}`);
  }
  return truth;
}

export function riskPrediction(p: Prediction): Float64Array {
  if (p.kind !== 'risk') throw new Error(`this metric needs risk predictions, got ${p.kind}`);
  return p.risk;
}

/** Average ranks (1-based, ties get their mean rank) as scipy.stats.rankdata. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!] === x[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let m = i; m <= j; m++) ranks[order[m]!] = r;
    i = j + 1;
  }
  return ranks;
}
