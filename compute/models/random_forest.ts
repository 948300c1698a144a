/**
 * Random forest as a predictive model: class probabilities (mean of the trees' leaf class
 * frequencies, as scikit-learn's predict_proba) or the mean of the trees' leaf means.
 * Saved state: the trees as base64 typed arrays (exact float64 thresholds and values).
 */
import { type ModelDef } from '../core/method';
import { type ForestArgs, fitRandomForest, forestArgs, RandomForestModel } from '../trees/rf';

export const randomForestModel: ModelDef<ForestArgs> = {
  kind: 'model',
  code: 'random_forest',
  label: 'Random forest',
  description:
    'Breiman random forest (histogram CART with gini / entropy / squared_error, bootstrap, max_features per split).',
  reference:
    'Breiman (2001) Random Forests, Machine Learning 45:5–32; scikit-learn RandomForestClassifier/Regressor.',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args: forestArgs,
  async fit(ds, args, ctx) {
    const { fit, target } = await fitRandomForest(ds, args, ctx);
    return new RandomForestModel(
      ds.featureNames,
      fit.trees,
      target.classes,
      fit.mdi,
      { ...args },
      fit.oobScore,
    );
  },
  load: state => RandomForestModel.load(state),
};
