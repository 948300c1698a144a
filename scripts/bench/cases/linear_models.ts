/**
 * The linear models of the model registry (fit + predict on the training matrix), against
 * scikit-learn at its defaults (LogisticRegression's lbfgs given max_iter 1000 so that it
 * converges rather than stopping at 100 iterations with a warning; ours run at their own defaults,
 * which converge tighter: `tol` 1e-9 relative to the null deviance).
 */
import { parseArgs } from '../../../compute/core/args';
import { type Dataset } from '../../../compute/core/dataset';
import { type ModelDef, quietContext } from '../../../compute/core/method';
import { linearRegression } from '../../../compute/models/linear_regression';
import { linearSvm } from '../../../compute/models/linear_svm';
import { logisticRegression } from '../../../compute/models/logistic_regression';
import { ridgeModel } from '../../../compute/models/ridge';
import { type BenchCase } from '../case';

function fitPredict<A>(def: ModelDef<A>, raw: Record<string, unknown> = {}) {
  return async (ds: Dataset) => {
    const model = await def.fit(ds, parseArgs(def.args, raw) as unknown as A, quietContext(1));
    return model.predict(ds);
  };
}

const LOGISTIC_PY = `from sklearn.linear_model import LogisticRegression
pred = LogisticRegression(max_iter=1000).fit(X, y).predict_proba(X)`;

export const cases: BenchCase[] = [
  {
    name: 'logistic_regression (l2 binary fit+predict)',
    task: 'binary',
    ours: fitPredict(logisticRegression),
    reference: { python: LOGISTIC_PY, label: 'scikit-learn LogisticRegression (lbfgs)' },
  },
  {
    name: 'logistic_regression (l2 multinomial fit+predict)',
    task: 'multiclass',
    ours: fitPredict(logisticRegression),
    reference: {
      python: LOGISTIC_PY,
      label: 'scikit-learn LogisticRegression (lbfgs, multinomial)',
    },
  },
  {
    name: 'linear_svm (binary fit+predict)',
    task: 'binary',
    ours: fitPredict(linearSvm),
    reference: {
      python: `from sklearn.svm import LinearSVC
pred = LinearSVC(dual=X.shape[0] < X.shape[1]).fit(X, y).decision_function(X)`,
      label: 'scikit-learn LinearSVC',
    },
  },
  {
    name: 'ridge model (fit+predict)',
    task: 'continuous',
    ours: fitPredict(ridgeModel),
    reference: {
      python: `from sklearn.linear_model import Ridge
pred = Ridge().fit(X, y).predict(X)`,
      label: 'scikit-learn Ridge',
    },
  },
  {
    name: 'linear_regression (fit+predict)',
    task: 'continuous',
    ours: fitPredict(linearRegression),
    reference: {
      python: `from sklearn.linear_model import LinearRegression
pred = LinearRegression().fit(X, y).predict(X)`,
      label: 'scikit-learn LinearRegression',
    },
  },
];
