/**
 * What the robustness sweep expects of each method × case (tests/unit/compute/robustness/*.test.ts).
 *
 * Default: a result that passes every check in run.ts (valid names, every feature scored,
 * exactly min(k, p) selected with k, same output for the same seed) with finite scores, except:
 *   - NaN for features that are constant over the samples (constant, all-zero, an all-zero
 *     sparse count column): their statistic is undefined (scipy / sklearn give NaN too);
 *   - NaN for every feature when the continuous outcome is constant (no association defined);
 *   - +Infinity for a perfectly separating feature in the p-value filters (p = 0 exactly, as
 *     scipy's ttest_ind / sklearn's f_classif), so it ranks first; JSON prints it as null;
 *   - the documented method-specific NaNs listed in NAN_RULES.
 * Expected refusals are listed in REFUSALS with a pattern the message must match: the message has
 * to name the parameter, feature, class or outcome at fault.
 */
import { type Case } from './cases';
import { type Outcome } from './run';

/** Speed settings for the sweep (defaults would take minutes on 40 × 3,000); say why in the name. */
export function sweepParams(code: string, c: Case, isModel = false): Record<string, unknown> {
  const lin = { cv: 3, n_alphas: 20 };
  if (isModel) {
    const m: Record<string, Record<string, unknown>> = {
      random_forest: { n_estimators: 20 },
      gradient_boosting: { n_estimators: 10, max_depth: 3 },
    };
    return m[code] ?? {};
  }
  const survival = c.kind === 'survival';
  switch (code) {
    case 'lasso':
    case 'elastic_net':
    case 'ridge':
      return lin;
    case 'cox':
      return { cv: 3, n_alphas: 20 };
    case 'rfe':
      return { estimator_params: '{"n_estimators":10}', step: 0.5 };
    case 'boruta':
      return { n_estimators: 20, max_iter: 10 };
    case 'gradient_boosting':
      return { n_estimators: 10, max_depth: 3 };
    case 'random_forest':
      return { n_estimators: 20 };
    case 'stability_selection':
      return { base: survival ? 'cox' : 'anova', n_subsamples: 10 };
    case 'ensemble':
      return { selectors: survival ? 'cox,variance_threshold' : 'anova,correlation_filter' };
    case 'heg':
      // heg needs exactly one of k or percentile.
      return c.k === undefined ? { percentile: 50 } : {};
    default:
      return {};
  }
}

/**
 * The 40 × 3,000 case runs on one outcome kind per method (the first it supports of this order):
 * p ≫ n stresses the feature dimension, which every kind shares; all other cases run on every
 * kind. (The sweep's time budget: the wide case was 60 % of it on every kind.)
 */
export const WIDE_KIND_ORDER = ['binary', 'continuous', 'survival', 'none', 'multiclass'] as const;

/** mrmr has no own stopping rule: the sweep gives it k = 3 where the case has none. */
export function sweepK(code: string, c: Case): number | undefined {
  if (code === 'mrmr' && c.k === undefined) return 3;
  return c.k;
}

/** Methods whose scores are p-value based (−log10 p): +Infinity for p = 0. */
const P_VALUE = new Set(['t_test', 'anova', 'mann_whitney', 'kruskal', 'correlation', 'cox']);

/**
 * Documented method-specific non-finite scores: (feature, result) → true when allowed.
 * fold_change: ratio of non-positive group means (README, listed in diagnostics.undefinedRatio);
 * hdg: genes with mean < min_mean (0 by default, so negative log-scale values) are excluded.
 */
const NAN_RULES: Record<string, (feature: string, o: Outcome) => boolean> = {
  fold_change: (f, o) => ((o.diagnostics.undefinedRatio as string[] | undefined) ?? []).includes(f),
  hdg: () => true,
};

export function allowedNonFinite(
  code: string,
  c: Case,
  o: Outcome,
  feature: string,
  v: number,
): boolean {
  if (c.id === 'constant_outcome' && Number.isNaN(v)) return true;
  if (Number.isNaN(v) && o.constantFeatures.includes(feature)) return true;
  if (
    v === Infinity &&
    feature === 'separating' &&
    (P_VALUE.has(code) || code === 'correlation_filter')
  ) {
    return true;
  }
  return NAN_RULES[code]?.(feature, o) ?? false;
}

/**
 * Expected refusals: `method` (or '*'), case id, kind (or '*') → pattern of the message.
 * Every pattern names what is at fault.
 */
const REFUSALS: [method: string, caseId: string, kind: string, pattern: RegExp][] = [
  // Penalised linear (glmnet-style): complete data, cv folds ≤ n, constant response.
  ...['lasso', 'elastic_net', 'ridge', 'l1_svm'].flatMap(
    m =>
      [
        [
          m,
          'missing',
          '*',
          new RegExp(`${m} needs complete data: feature "\\w+" has missing values`),
        ],
        [m, 'constant_outcome', '*', /continuous outcome is constant/],
      ] as [string, string, string, RegExp][],
  ),
  // A class of one sample cannot be in every training fold of the multinomial CV.
  ...['lasso', 'elastic_net', 'ridge'].map(
    m =>
      [m, 'singleton_class', 'multiclass', /needs every class in the training rows \(class/] as [
        string,
        string,
        string,
        RegExp,
      ],
  ),
  ['cox', 'missing', 'survival', /cox needs complete data: feature "\w+"/],
  ['mrmr', 'missing', '*', /mrmr needs complete data: feature "\w+" has missing values/],
  ['relieff', 'missing', '*', /relieff needs complete data: feature "\w+" has missing values/],
  ['ensemble', 'missing', 'survival', /cox needs complete data: feature "\w+"/],
  ['stability_selection', 'missing', 'survival', /cox needs complete data: feature "\w+"/],
  // Models (code prefixed with model:).
  ...['logistic_regression', 'linear_regression', 'ridge', 'linear_svm', 'cox', 'svm', 'knn'].map(
    m =>
      [`model:${m}`, 'missing', '*', new RegExp(`${m} needs complete data: feature "\\w+"`)] as [
        string,
        string,
        string,
        RegExp,
      ],
  ),
  // An unpenalised Cox fit with a singular information matrix, naming the cause.
  ...['tiny', 'wide', 'unbalanced', 'degenerate', 'one_event'].map(
    id =>
      [
        'model:cox',
        id,
        'survival',
        /information matrix is singular.* — (constant: "|identical: "|\d+ features for \d+ events)/,
      ] as [string, string, string, RegExp],
  ),
];

export function expectedRefusal(code: string, c: Case): RegExp | undefined {
  const hit = REFUSALS.find(
    ([m, id, kind]) =>
      (m === code || m === '*') && id === c.id && (kind === '*' || kind === c.kind),
  );
  return hit?.[3];
}

/**
 * Methods that may select fewer than k (documented), with the diagnostic that says why:
 * hdg never fills k with excluded genes; mrmr only picks features with relevance > 0.
 */
export const K_MAY_FALL_SHORT: Record<string, string> = { hdg: 'excluded_low_mean', mrmr: 'note' };
