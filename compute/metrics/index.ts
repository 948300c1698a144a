/**
 * All metrics in catalogue order, plus the scoring helpers the evaluation code uses: default
 * metric sets per task and "score these names, NaN where undefined" (one class in a fold …).
 */
import { type Outcome, type TaskType } from '../core/dataset';
import { type MetricDef, type Prediction } from '../core/method';
import { classificationMetrics } from './classification';
import { regressionMetrics } from './regression';
import { survivalMetrics } from './survival-metrics';
import { hasContext, type ScoringContext } from './types';

export { type ScoringContext } from './types';

export const allMetrics: readonly MetricDef[] = [
  ...classificationMetrics,
  ...regressionMetrics,
  ...survivalMetrics,
];

export function findMetric(code: string): MetricDef {
  const m = allMetrics.find(x => x.code === code);
  if (!m) {
    throw new Error(`unknown metric "${code}" (known: ${allMetrics.map(x => x.code).join(', ')})`);
  }
  return m;
}

const DEFAULTS: Record<TaskType, string[]> = {
  binary: [
    'roc_auc',
    'accuracy',
    'balanced_accuracy',
    'sensitivity',
    'specificity',
    'precision',
    'f1',
    'mcc',
    'pr_auc',
    'brier',
    'youden',
  ],
  multiclass: ['accuracy', 'balanced_accuracy', 'f1_macro', 'f1_weighted', 'mcc', 'roc_auc_ovr'],
  continuous: ['r2', 'rmse', 'mae', 'mse', 'pearson'],
  survival: ['c_index', 'uno_c', 'integrated_brier'],
  unsupervised: [],
};

export function defaultMetrics(task: TaskType): string[] {
  return [...DEFAULTS[task]];
}

/** The headline metric per task (what tuning optimises and rankings sort by by default). */
export function primaryMetric(task: TaskType): string {
  return task === 'binary'
    ? 'roc_auc'
    : task === 'multiclass'
      ? 'balanced_accuracy'
      : task === 'continuous'
        ? 'r2'
        : 'c_index';
}

export function scoreMetric(
  m: MetricDef,
  truth: Outcome,
  prediction: Prediction,
  ctx: ScoringContext = {},
): number {
  const task = truth.kind === 'none' ? 'unsupervised' : truth.kind;
  if (!m.tasks.includes(task)) {
    throw new Error(`metric ${m.code} does not apply to a ${task} outcome`);
  }
  // Degenerate inputs (one class in a fold, no comparable pair) give NaN, not an exception.
  return hasContext(m) ? m.computeWith(truth, prediction, ctx) : m.compute(truth, prediction);
}

export function scoreAll(
  codes: readonly string[],
  truth: Outcome,
  prediction: Prediction,
  ctx: ScoringContext = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const code of codes) out[code] = scoreMetric(findMetric(code), truth, prediction, ctx);
  return out;
}
