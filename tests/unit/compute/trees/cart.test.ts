/**
 * Exact agreement with scikit-learn 1.2.1 DecisionTreeClassifier / DecisionTreeRegressor on a fixed
 * tree structure (scripts/fixtures/trees.py → cart_exact.json): one tree, all features, no
 * bootstrap, data with < 255 distinct float32 values per feature so histogram splits are exact.
 * Tolerances: structure and thresholds exact; probabilities, predictions and importances 1e-12.
 */
import { quietContext } from '../../../../compute/core/method';
import { fromRows } from '../../../../compute/core/dataset';
import { binColumnsSync, MISSING_BIN } from '../../../../compute/trees/binning';
import { type ForestArgs, fitRandomForest, RandomForestModel } from '../../../../compute/trees/rf';
import { datasetFrom, golden } from './helpers';

interface CartCase {
  name: string;
  task: 'multiclass' | 'continuous';
  criterion: 'gini' | 'entropy' | 'squared_error';
  max_depth: number | null;
  min_samples_leaf: number;
  class_weight: 'none' | 'balanced';
  X: number[][];
  y: number[];
  X_test: number[][];
  n_nodes: number;
  feature: number[];
  threshold: number[];
  proba_train?: number[][];
  proba_test?: number[][];
  pred_train?: number[];
  pred_test?: number[];
  importances: number[];
}

const cases = golden<{ cases: CartCase[] }>('cart_exact.json').cases;

function singleTreeArgs(c: CartCase): ForestArgs {
  return {
    n_estimators: 1,
    criterion: c.criterion,
    max_depth: c.max_depth,
    min_samples_split: 2,
    min_samples_leaf: c.min_samples_leaf,
    max_features: 'all',
    bootstrap: false,
    class_weight: c.class_weight,
    oob_score: false,
    min_impurity_decrease: 0,
    max_bin: 256,
  };
}

describe('CART vs scikit-learn DecisionTree (exact)', () => {
  it.each(cases.map(c => [c.name, c] as const))('%s', async (_name, c) => {
    const ds = datasetFrom(c.X, c.y, c.task);
    const { fit, target } = await fitRandomForest(ds, singleTreeArgs(c), quietContext(1));
    const tree = fit.trees[0]!;
    expect(tree.nNodes).toBe(c.n_nodes);
    expect(Array.from(tree.feature, f => (f < 0 ? -2 : f))).toEqual(c.feature);
    for (let t = 0; t < tree.nNodes; t++) {
      if (c.feature[t]! >= 0) expect(tree.threshold[t]).toBe(c.threshold[t]);
    }
    for (let j = 0; j < c.importances.length; j++) {
      expect(fit.mdi[j]).toBeCloseTo(c.importances[j]!, 12);
    }
    const model = new RandomForestModel(ds.featureNames, fit.trees, target.classes, fit.mdi, {});
    const test = fromRows(c.X_test, ds.featureNames);
    for (const [rowsDs, want] of [
      [ds, c.task === 'continuous' ? c.pred_train : c.proba_train],
      [test, c.task === 'continuous' ? c.pred_test : c.proba_test],
    ] as const) {
      const pred = model.predict(rowsDs);
      const got = pred.kind === 'class' ? pred.proba : pred.kind === 'value' ? pred.values : null;
      const flat = (want as (number | number[])[]).flat();
      expect(got!.length).toBe(flat.length);
      for (let a = 0; a < flat.length; a++) expect(got![a]).toBeCloseTo(flat[a]!, 12);
    }
  });
});

describe('binning', () => {
  it('gives each distinct value its own bin when there are few, and NaN the missing bin', () => {
    const x = Float64Array.from([3, 1, NaN, 2, 2, 5]);
    const b = binColumnsSync(x, 6, 1, 256);
    expect(Array.from(b.codes)).toEqual([2, 0, MISSING_BIN, 1, 1, 3]);
    expect(b.nBins[0]).toBe(4);
    expect(Array.from(b.binMin)).toEqual([1, 2, 3, 5]);
  });

  it('cuts many distinct values into at most max_bin equal-count bins, never splitting ties', () => {
    const n = 1000;
    const x = Float64Array.from({ length: n }, (_, i) => Math.floor(i / 3));
    const b = binColumnsSync(x, n, 1, 16);
    expect(b.nBins[0]).toBeLessThanOrEqual(16);
    expect(b.nBins[0]).toBeGreaterThanOrEqual(15);
    for (let i = 1; i < n; i++) {
      expect(b.codes[i]!).toBeGreaterThanOrEqual(b.codes[i - 1]!);
      if (x[i] === x[i - 1]) expect(b.codes[i]).toBe(b.codes[i - 1]);
    }
    const counts = new Array(b.nBins[0]).fill(0);
    for (const c of b.codes) counts[c]++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(6);
  });
});
