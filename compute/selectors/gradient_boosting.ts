/**
 * Gradient-boosting feature importance as a selector (XGBoost-style second-order boosting with
 * histogram splits). Scores: `Booster.get_score(importance_type)` normalised to sum 1, as
 * XGBoost's scikit-learn `feature_importances_` (default 'gain' = mean loss change of the splits
 * on a feature; 'weight' = number of splits; 'cover' = mean hessian sum at those splits;
 * 'total_gain' / 'total_cover' = sums). Own rule (k = 0): features used in at least one split.
 */
import { type ArgSpecs } from '../core/args';
import { type SelectorDef } from '../core/method';
import { rankAndSelect } from '../core/select';
import {
  type BoostingArgs,
  boostingArgs,
  boostingImportance,
  fitGradientBoosting,
  type ImportanceType,
} from '../trees/gb';

const selectorArgs = {
  ...boostingArgs,
  importance_type: {
    type: 'enum',
    values: ['gain', 'weight', 'cover', 'total_gain', 'total_cover'],
    default: 'gain',
    doc: 'XGBoost get_score importance type.',
  },
} satisfies ArgSpecs;

export interface GradientBoostingSelectorArgs extends BoostingArgs {
  importance_type: ImportanceType;
}

export const gradientBoostingSelector: SelectorDef<GradientBoostingSelectorArgs> = {
  kind: 'selector',
  code: 'gradient_boosting',
  label: 'Gradient boosting importance',
  description:
    'XGBoost-style gradient boosting (second-order gain, L1/L2 leaf penalties, histogram splits) ranking features by gain, weight or cover.',
  reference:
    'Chen & Guestrin (2016) XGBoost: A Scalable Tree Boosting System, KDD; xgboost 1.7 Booster.get_score.',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: selectorArgs,
  async run(ds, args, ctx, k) {
    const { fit, objective, nTrain } = await fitGradientBoosting(ds, args, ctx);
    const raw = boostingImportance(fit.trees, ds.nFeatures, args.importance_type);
    const total = raw.reduce((a, b) => a + b, 0);
    const scores = raw.map(v => (total > 0 ? v / total : 0));
    const ranked = rankAndSelect(ds, scores, k, j => scores[j]! > 0);
    return {
      selected: ranked.selected,
      scores: ranked.scores,
      params: { ...args, objective_resolved: objective },
      diagnostics: {
        n_trees: fit.trees.length,
        best_iteration: fit.bestIteration,
        eval_metric: fit.evalHistory.length ? fit.evalMetric : null,
        eval_history: fit.evalHistory,
        n_train: nTrain,
        n_used_features: scores.filter(s => s > 0).length,
      },
      backend: 'float64',
    };
  },
};
