/**
 * Penalised linear methods against scikit-learn 1.2 and R glmnet 4.1 on the same matrix.
 *
 * - `lasso (path)`: the full 100-value path (eps 1e-3, standardised features, no early end) vs
 *   scikit-learn `lasso_path` on the standardised matrix (standardisation timed on both sides).
 * - `lasso (glmnet path)` / `lasso (binomial path)`: our default path (glmnet's early end)
 *   vs R `glmnet(x, y, lambda.min.ratio = 1e-3)`, Gaussian and binomial.
 * - `lasso (cv binomial)`: the `lasso` selector (10-fold CV, binomial) vs `cv.glmnet(nfolds = 10)`.
 * - `lasso (multinomial path)` / `lasso (cv multinomial)`: the same on 3 classes vs
 *   `glmnet(family = "multinomial")` / `cv.glmnet(family = "multinomial", nfolds = 10)`
 *   (ungrouped lasso on both sides).
 * - `elastic_net (cv)`: the `elastic_net` selector (10-fold CV, l1_ratio 0.5, Gaussian) vs
 *   `ElasticNetCV(l1_ratio=0.5, cv=10)` on the standardised matrix (scikit-learn runs the folds on
 *   one core, ours on worker threads).
 * - `l1_svm`: LinearSVC(penalty='l1', dual=False, C=0.05) on standardised features.
 * - `lasso (batched × 100)`: the float32 tensor kernel, 100 subsamples of ⌊n/2⌋ at alpha 0.1, vs
 *   the loop a scikit-learn user writes (standardise each subsample, Lasso(alpha=0.1)).
 * Default tolerances on both sides (ours: glmnet thresh 1e-7; scikit-learn: tol 1e-4 duality gap).
 */
import { parseArgs } from '../../../compute/core/args';
import { type Dataset } from '../../../compute/core/dataset';
import { quietContext } from '../../../compute/core/method';
import { Rng } from '../../../compute/core/rng';
import { initAccelBackend } from '../../../compute/linear/accel';
import { batchedElasticNet } from '../../../compute/linear/batched/elastic_net';
import { fitElnet } from '../../../compute/linear/elnet';
import { DEFAULT_CONTROL } from '../../../compute/linear/path';
import { targetOf } from '../../../compute/linear/selector';
import { getSelector } from '../../../compute/registry';
import { type BenchCase } from '../case';

const SUBSAMPLES = 100;

function path(earlyStop: boolean) {
  return async (ds: Dataset) => {
    // As the selectors do: large designs get the tensor backend for the KKT products.
    await initAccelBackend(ds.nSamples * ds.nFeatures);
    return fitElnet(ds.data, ds.nSamples, ds.nFeatures, null, targetOf(ds), {
      l1Ratio: 1,
      nLambda: 100,
      eps: 1e-3,
      standardize: true,
      intercept: true,
      control: { ...DEFAULT_CONTROL, earlyStop },
    }).fit.lambdas.length;
  };
}

function selector(code: string, raw: Record<string, unknown>) {
  return (ds: Dataset) => {
    const def = getSelector(code);
    return def.run(ds, parseArgs(def.args, raw) as never, quietContext(42));
  };
}

const STANDARDISE = 'Xs = (X - X.mean(axis=0)) / X.std(axis=0)\n';

export const cases: BenchCase[] = [
  {
    name: 'lasso (path)',
    task: 'continuous',
    ours: path(false),
    reference: {
      label: 'sklearn lasso_path (100 alphas, eps 1e-3)',
      python:
        'from sklearn.linear_model import lasso_path\n' +
        STANDARDISE +
        'alphas, coefs, _ = lasso_path(Xs, y - y.mean(), eps=1e-3, n_alphas=100)\n',
    },
  },
  {
    name: 'lasso (glmnet path)',
    task: 'continuous',
    ours: path(true),
    reference: {
      label: 'R glmnet gaussian (lambda.min.ratio 1e-3)',
      r: 'library(glmnet)\nfit <- glmnet(X, y, lambda.min.ratio = 1e-3)\n',
    },
  },
  {
    name: 'lasso (binomial path)',
    task: 'binary',
    ours: path(true),
    reference: {
      label: 'R glmnet binomial (lambda.min.ratio 1e-3)',
      r: 'library(glmnet)\nfit <- glmnet(X, y, family = "binomial", lambda.min.ratio = 1e-3)\n',
    },
  },
  {
    name: 'lasso (cv binomial)',
    task: 'binary',
    ours: selector('lasso', { cv: 10 }),
    reference: {
      label: 'R cv.glmnet binomial, 10 folds',
      r:
        'library(glmnet)\n' +
        'cv <- cv.glmnet(X, y, family = "binomial", nfolds = 10, lambda.min.ratio = 1e-3)\n',
    },
  },
  {
    name: 'lasso (multinomial path)',
    task: 'multiclass',
    ours: path(true),
    reference: {
      label: 'R glmnet multinomial (lambda.min.ratio 1e-3)',
      r:
        'library(glmnet)\n' +
        'fit <- glmnet(X, y, family = "multinomial", lambda.min.ratio = 1e-3)\n',
    },
  },
  {
    name: 'lasso (cv multinomial)',
    task: 'multiclass',
    ours: selector('lasso', { cv: 10 }),
    reference: {
      label: 'R cv.glmnet multinomial, 10 folds',
      r:
        'library(glmnet)\n' +
        'cv <- cv.glmnet(X, y, family = "multinomial", nfolds = 10, lambda.min.ratio = 1e-3)\n',
    },
  },
  {
    name: 'elastic_net (cv)',
    task: 'continuous',
    ours: selector('elastic_net', { cv: 10, l1_ratio: 0.5 }),
    reference: {
      label: 'sklearn ElasticNetCV(l1_ratio=0.5, cv=10)',
      python:
        'from sklearn.linear_model import ElasticNetCV\n' +
        STANDARDISE +
        'cv = ElasticNetCV(l1_ratio=0.5, cv=10, eps=1e-3, n_alphas=100).fit(Xs, y)\n',
    },
  },
  {
    name: 'l1_svm',
    task: 'binary',
    ours: selector('l1_svm', { C: 0.05 }),
    reference: {
      label: "sklearn LinearSVC(penalty='l1', dual=False, C=0.05)",
      python:
        'from sklearn.svm import LinearSVC\n' +
        STANDARDISE +
        "svc = LinearSVC(penalty='l1', loss='squared_hinge', dual=False, C=0.05, max_iter=10000).fit(Xs, y)\n",
    },
  },
  {
    name: `lasso (batched × ${SUBSAMPLES})`,
    task: 'continuous',
    ours: async ds => {
      const rng = new Rng(7);
      const subsamples = Array.from({ length: SUBSAMPLES }, () =>
        rng.sample(ds.nSamples, Math.floor(ds.nSamples / 2)),
      );
      const r = await batchedElasticNet({ ds, subsamples, alpha: 0.1, l1_ratio: 1 });
      return r.backend;
    },
    reference: {
      label: `sklearn Lasso(alpha=0.1) loop × ${SUBSAMPLES}`,
      python:
        'from sklearn.linear_model import Lasso\n' +
        'rng = np.random.default_rng(0)\n' +
        'n, p = X.shape\n' +
        `for s in range(${SUBSAMPLES}):\n` +
        '    idx = rng.choice(n, n // 2, replace=False)\n' +
        '    Xs = X[idx]\n' +
        '    Xs = (Xs - Xs.mean(axis=0)) / Xs.std(axis=0)\n' +
        '    coef = Lasso(alpha=0.1).fit(Xs, y[idx]).coef_\n',
    },
  },
];
