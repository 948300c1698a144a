/**
 * Gradient boosting as a predictive model: P(y = 1) (binary:logistic), softmax class
 * probabilities (multi:softprob) or values (reg:squarederror). With early stopping the model keeps
 * the trees up to the best validation round (XGBoost's best_iteration).
 */
import { type ModelDef } from '../core/method';
import {
  type BoostingArgs,
  boostingArgs,
  fitGradientBoosting,
  GradientBoostingModel,
} from '../trees/gb';

export const gradientBoostingModel: ModelDef<BoostingArgs> = {
  kind: 'model',
  code: 'gradient_boosting',
  label: 'Gradient boosting',
  description:
    'XGBoost-style gradient boosted trees (logistic, softmax or squared-error objective, histogram splits, early stopping).',
  reference: 'Chen & Guestrin (2016) XGBoost: A Scalable Tree Boosting System, KDD; xgboost 1.7.',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: boostingArgs,
  async fit(ds, args, ctx) {
    const { fit, target, objective } = await fitGradientBoosting(ds, args, ctx);
    return new GradientBoostingModel(
      ds.featureNames,
      fit.trees,
      fit.nGroups,
      fit.baseMargin,
      objective,
      target.classes,
      { ...args },
      fit.bestIteration,
    );
  },
  load: state => GradientBoostingModel.load(state),
};
