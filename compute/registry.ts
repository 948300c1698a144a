/**
 * THE registry: every selector, model, metric, splitter and preprocessor, in catalogue order.
 * Adding a method = one file + one import and one array entry here + one reference test.
 * The CLI, the workers and the GraphQL `methods` query all list exactly these arrays.
 *
 * Editing note for parallel work: add imports in the import block and entries in the
 * arrays; keep one entry per line.
 */
import {
  type AnyMethodDef,
  type MetricDef,
  type ModelDef,
  type PreprocessorDef,
  type SelectorDef,
  type SplitterDef,
} from './core/method';

// --- imports (one per method file) ---
import { lasso } from './selectors/lasso';
import { elasticNet } from './selectors/elastic_net';
import { ridgeSelector } from './selectors/ridge';
import { l1Svm } from './selectors/l1_svm';
import { logisticRegression } from './models/logistic_regression';
import { linearRegression } from './models/linear_regression';
import { ridgeModel } from './models/ridge';
import { linearSvm } from './models/linear_svm';
import { rfe } from './selectors/rfe';
import { boruta } from './selectors/boruta';
import { gradientBoostingModel } from './models/gradient_boosting';
import { gradientBoostingSelector } from './selectors/gradient_boosting';
import { randomForestModel } from './models/random_forest';
import { randomForestSelector } from './selectors/random_forest';
import { coxModel } from './models/cox';
import { svm } from './models/svm';
import { ensembleSelector } from './ensemble/selector';
import { knn } from './models/knn';
import { stabilitySelector } from './stability/selector';
import { heg } from './selectors/heg';
import { hdg } from './selectors/hdg';
import { allMetrics } from './metrics';
import { log2 } from './preprocess/log2';
import { zscore } from './preprocess/zscore';
import { rank } from './preprocess/rank';
import { quantileNormalize } from './preprocess/quantile_normalize';
import { impute } from './preprocess/impute';
import { knnImpute } from './preprocess/knn_impute';
import { varianceFilter } from './preprocess/variance_filter';
import { expressionFilter } from './preprocess/expression_filter';
import { batchCenter } from './preprocess/batch_center';
import { varianceThreshold } from './selectors/variance_threshold';
import { foldChange } from './selectors/fold_change';
import { tTest } from './selectors/t_test';
import { anova } from './selectors/anova';
import { mannWhitney } from './selectors/mann_whitney';
import { kruskal } from './selectors/kruskal';
import { correlation } from './selectors/correlation';
import { correlationFilter } from './selectors/correlation_filter';
import { mrmr } from './selectors/mrmr';
import { relieff } from './selectors/relieff';
import { cox } from './selectors/cox';
import { trainTestValidation, userSplitColumn } from './resampling/holdout';
import { kfold, leaveOneOut, repeated, stratifiedKfold } from './resampling/kfold';
import { survivalStratified } from './resampling/survival';

export const selectors: readonly SelectorDef<never>[] = [
  // --- selectors ---
  lasso,
  elasticNet,
  ridgeSelector,
  l1Svm,
  rfe,
  boruta,
  gradientBoostingSelector,
  randomForestSelector,
  ensembleSelector,
  stabilitySelector,
  heg,
  hdg,
  varianceThreshold,
  foldChange,
  tTest,
  anova,
  mannWhitney,
  kruskal,
  correlation,
  correlationFilter,
  mrmr,
  relieff,
  cox,
];

export const models: readonly ModelDef<never>[] = [
  // --- models ---
  logisticRegression,
  linearRegression,
  ridgeModel,
  linearSvm,
  randomForestModel,
  gradientBoostingModel,
  coxModel,
  svm,
  knn,
];

export const metrics: readonly MetricDef[] = [
  // --- metrics ---
  ...allMetrics,
];

export const splitters: readonly SplitterDef<never>[] = [
  // --- splitters ---
  kfold,
  stratifiedKfold,
  repeated,
  leaveOneOut,
  trainTestValidation,
  survivalStratified,
  userSplitColumn,
];

export const preprocessors: readonly PreprocessorDef<never>[] = [
  // --- preprocessors ---
  log2,
  zscore,
  rank,
  quantileNormalize,
  impute,
  knnImpute,
  varianceFilter,
  expressionFilter,
  batchCenter,
];

export function allMethods(): AnyMethodDef[] {
  return [...selectors, ...models, ...metrics, ...splitters, ...preprocessors];
}

function finder<T extends { code: string }>(list: readonly T[], kind: string) {
  return (code: string): T => {
    const found = list.find(m => m.code === code);
    if (!found) {
      throw new Error(
        `unknown ${kind} "${code}" (known: ${list.map(m => m.code).join(', ') || 'none'})`,
      );
    }
    return found;
  };
}

export const getSelector = finder(selectors, 'selector') as <A = Record<string, unknown>>(
  code: string,
) => SelectorDef<A>;
export const getModel = finder(models, 'model') as <A = Record<string, unknown>>(
  code: string,
) => ModelDef<A>;
export const getMetric = finder(metrics, 'metric');
export const getSplitter = finder(splitters, 'splitter') as <A = Record<string, unknown>>(
  code: string,
) => SplitterDef<A>;
export const getPreprocessor = finder(preprocessors, 'preprocessor') as <
  A = Record<string, unknown>,
>(
  code: string,
) => PreprocessorDef<A>;
