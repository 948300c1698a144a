/**
 * Random-forest feature importance as a selector.
 *
 * Scores: `importance: 'impurity'` (default) = mean decrease in impurity, normalised to sum 1
 * (scikit-learn `feature_importances_`); `'permutation'` = mean drop in accuracy (classes) or
 * increase in MSE (continuous) when a feature is shuffled, either among each tree's out-of-bag
 * rows (`permutation_set: 'oob'`, Breiman / randomForest / ranger) or on the training rows with
 * the whole forest (`'train'`, scikit-learn `permutation_importance`).
 *
 * Own rule (k = 0): impurity importance above the mean importance (scikit-learn SelectFromModel's
 * default threshold for tree models); permutation importance > 0.
 */
import { type ArgSpecs } from '../core/args';
import { checkAbort, type SelectorDef } from '../core/method';
import { rankAndSelect } from '../core/select';
import { forestPermutationImportance } from '../trees/permutation';
import { type ForestArgs, fitRandomForest, forestArgs } from '../trees/rf';

const selectorArgs = {
  ...forestArgs,
  importance: {
    type: 'enum',
    values: ['impurity', 'permutation'],
    default: 'impurity',
    doc: 'impurity: mean decrease in impurity; permutation: mean decrease in accuracy / increase in MSE.',
  },
  n_repeats: {
    type: 'integer',
    default: 5,
    min: 1,
    doc: 'Permutations per feature (and per tree for the OOB variant).',
  },
  permutation_set: {
    type: 'enum',
    values: ['oob', 'train'],
    default: 'oob',
    doc: 'oob: per tree on its out-of-bag rows (Breiman); train: whole forest on the training rows (sklearn permutation_importance).',
  },
} satisfies ArgSpecs;

export interface RandomForestSelectorArgs extends ForestArgs {
  importance: 'impurity' | 'permutation';
  n_repeats: number;
  permutation_set: 'oob' | 'train';
}

export const randomForestSelector: SelectorDef<RandomForestSelectorArgs> = {
  kind: 'selector',
  code: 'random_forest',
  label: 'Random forest importance',
  description:
    'Breiman random forest (histogram CART, bootstrap, max_features per split) ranking features by impurity or permutation importance.',
  reference:
    'Breiman (2001) Random Forests, Machine Learning 45:5–32; scikit-learn RandomForestClassifier/Regressor and permutation_importance.',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: selectorArgs,
  async run(ds, args, ctx, k) {
    const oobPerm = args.importance === 'permutation' && args.permutation_set === 'oob';
    if (oobPerm && !args.bootstrap) {
      throw new Error('permutation_set "oob" needs bootstrap=true (there are no out-of-bag rows)');
    }
    const { fit, target, cart } = await fitRandomForest(ds, args, ctx, {
      permRepeats: oobPerm ? args.n_repeats : 0,
    });
    let scores: Float64Array;
    const diagnostics: Record<string, unknown> = {
      n_trees: fit.trees.length,
      max_features: cart.mtry,
      criterion: cart.criterion,
    };
    if (args.importance === 'impurity') scores = fit.mdi;
    else if (oobPerm) scores = fit.permutation!;
    else {
      checkAbort(ctx.signal);
      ctx.progress(1, 'permutation importance');
      const perm = forestPermutationImportance(
        fit.trees,
        ds.data,
        ds.nSamples,
        ds.nFeatures,
        target,
        args.n_repeats,
        ctx.rng.fork(1_000_003),
        ctx.signal,
      );
      scores = perm.mean;
      diagnostics.baseline_score = perm.baseline;
      diagnostics.importance_std = Object.fromEntries(
        ds.featureNames.map((f, j) => [f, perm.std[j]!]),
      );
    }
    if (fit.oobScore !== undefined) diagnostics.oob_score = fit.oobScore;
    let threshold = 0;
    if (args.importance === 'impurity') {
      for (const s of scores) threshold += s;
      threshold /= Math.max(1, scores.length);
    }
    diagnostics.threshold = threshold;
    const ranked = rankAndSelect(ds, scores, k, j => scores[j]! > threshold);
    return {
      selected: ranked.selected,
      scores: ranked.scores,
      params: { ...args, max_features_resolved: cart.mtry, criterion_resolved: cart.criterion },
      diagnostics,
      backend: 'float64',
    };
  },
};
