/** Registered classification metrics (scikit-learn scorer names and conventions). */
import { type Outcome, type TaskType } from '../core/dataset';
import { type MetricDef, type Prediction } from '../core/method';
import {
  accuracy as acc,
  averagedPrf,
  balancedAccuracy as bacc,
  binaryCounts,
  f1 as f1Of,
  mcc as mccOf,
  precision as precisionOf,
  sensitivity as sensOf,
  specificity as specOf,
  type Average,
  type BinaryCounts,
} from './confusion';
import { averagePrecision, rocAuc } from './ranking';
import { classPrediction, classTruth, positiveScores } from './types';

const SK = 'scikit-learn 1.2 sklearn.metrics';
const CLASS_TASKS: readonly TaskType[] = ['binary', 'multiclass'];

function labelMetric(
  code: string,
  label: string,
  description: string,
  tasks: readonly TaskType[],
  f: (truth: Int32Array, pred: Int32Array, k: number) => number,
): MetricDef {
  return {
    kind: 'metric',
    code,
    label,
    description,
    reference: SK,
    tasks,
    greaterIsBetter: true,
    needsScores: false,
    compute: (truth: Outcome, prediction: Prediction) => {
      const t = classTruth(truth);
      return f(t.labels, classPrediction(prediction).labels, t.classes.length);
    },
  };
}

function binaryCountMetric(
  code: string,
  label: string,
  description: string,
  f: (c: BinaryCounts) => number,
): MetricDef {
  return labelMetric(code, label, description, ['binary'], (t, p) => f(binaryCounts(t, p)));
}

function scoreMetric(
  code: string,
  label: string,
  description: string,
  f: (labels: Int32Array, scores: Float64Array) => number,
  greaterIsBetter = true,
): MetricDef {
  return {
    kind: 'metric',
    code,
    label,
    description,
    reference: SK,
    tasks: ['binary'],
    greaterIsBetter,
    needsScores: true,
    compute: (truth, prediction) => f(classTruth(truth).labels, positiveScores(prediction)),
  };
}

export const accuracy = labelMetric(
  'accuracy',
  'Accuracy',
  'Fraction of samples whose predicted class is right.',
  CLASS_TASKS,
  acc,
);
export const balancedAccuracy = labelMetric(
  'balanced_accuracy',
  'Balanced accuracy',
  'Mean per-class recall over the classes present in the truth.',
  CLASS_TASKS,
  bacc,
);
export const mcc = labelMetric(
  'mcc',
  'Matthews correlation',
  'Matthews correlation coefficient (multiclass R_K form); 0 when undefined.',
  CLASS_TASKS,
  mccOf,
);
export const sensitivity = binaryCountMetric(
  'sensitivity',
  'Sensitivity',
  'True-positive rate TP / (TP + FN) of the positive class (= recall).',
  sensOf,
);
export const recall = binaryCountMetric(
  'recall',
  'Recall',
  'Same as sensitivity (scikit-learn scorer name).',
  sensOf,
);
export const specificity = binaryCountMetric(
  'specificity',
  'Specificity',
  'True-negative rate TN / (TN + FP).',
  specOf,
);
export const precision = binaryCountMetric(
  'precision',
  'Precision',
  'Positive predictive value TP / (TP + FP); 0 when nothing is predicted positive.',
  precisionOf,
);
export const f1 = binaryCountMetric('f1', 'F1', 'Harmonic mean of precision and recall.', f1Of);
export const youden = binaryCountMetric(
  'youden',
  "Youden's J",
  'Sensitivity + specificity − 1 of the predicted labels (OmicSelector metaIndex11).',
  c => sensOf(c) + specOf(c) - 1,
);

export const averaged: MetricDef[] = (['precision', 'recall', 'f1'] as const).flatMap(which =>
  (['macro', 'micro', 'weighted'] as Average[]).map(average =>
    labelMetric(
      `${which}_${average}`,
      `${which[0]!.toUpperCase()}${which.slice(1)} (${average})`,
      `${which} averaged over classes (${average}, scikit-learn average='${average}').`,
      CLASS_TASKS,
      (t, p, k) => averagedPrf(t, p, k, which, average),
    ),
  ),
);

export const rocAucMetric = scoreMetric(
  'roc_auc',
  'ROC AUC',
  'Area under the ROC curve of the positive-class score (ties count ½). CI: see rocAucCiDelong / rocAucCiBootstrap.',
  rocAuc,
);
export const prAuc = scoreMetric(
  'pr_auc',
  'PR AUC',
  'Area under the precision–recall curve as average precision (scikit-learn, no interpolation).',
  averagePrecision,
);
export const averagePrecisionMetric = scoreMetric(
  'average_precision',
  'Average precision',
  'Same as pr_auc (scikit-learn scorer name).',
  averagePrecision,
);
export const brier = scoreMetric(
  'brier',
  'Brier score',
  'Mean squared difference between the positive-class probability and the 0/1 outcome.',
  (labels, p) => {
    let s = 0;
    for (let i = 0; i < labels.length; i++) s += (p[i]! - labels[i]!) ** 2;
    return s / labels.length;
  },
  false,
);

/** One-vs-rest AUC per class over the classes of the truth, averaged (macro or by prevalence). */
function rocAucOvr(truth: Outcome, prediction: Prediction, weighted: boolean): number {
  const t = classTruth(truth);
  const p = classPrediction(prediction);
  const k = t.classes.length;
  if (k === 2) return rocAuc(t.labels, positiveScores(prediction));
  const n = t.labels.length;
  let sum = 0;
  let wsum = 0;
  const lab = new Int32Array(n);
  const score = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    let support = 0;
    for (let i = 0; i < n; i++) {
      lab[i] = t.labels[i] === c ? 1 : 0;
      support += lab[i]!;
      score[i] = p.proba[i * k + c]!;
    }
    const w = weighted ? support : 1;
    sum += w * rocAuc(lab, score);
    wsum += w;
  }
  return sum / wsum;
}

export const rocAucOvrMetric: MetricDef = {
  kind: 'metric',
  code: 'roc_auc_ovr',
  label: 'ROC AUC (one-vs-rest, macro)',
  description: 'Mean over classes of the one-vs-rest AUC of each class probability.',
  reference: SK,
  tasks: CLASS_TASKS,
  greaterIsBetter: true,
  needsScores: true,
  compute: (t, p) => rocAucOvr(t, p, false),
};

export const rocAucOvrWeighted: MetricDef = {
  ...rocAucOvrMetric,
  code: 'roc_auc_ovr_weighted',
  label: 'ROC AUC (one-vs-rest, weighted)',
  description: 'One-vs-rest AUCs averaged with class prevalence as weights.',
  compute: (t, p) => rocAucOvr(t, p, true),
};

export const classificationMetrics: MetricDef[] = [
  accuracy,
  balancedAccuracy,
  sensitivity,
  recall,
  specificity,
  precision,
  f1,
  mcc,
  rocAucMetric,
  prAuc,
  averagePrecisionMetric,
  brier,
  youden,
  ...averaged,
  rocAucOvrMetric,
  rocAucOvrWeighted,
];
