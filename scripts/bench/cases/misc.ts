/**
 * Bench cases for mRMR, ReliefF, Cox (univariate and penalised), SVM, kNN, HDG and HEG.
 * References: numpy implementations from the published definitions (mRMR FCQ, ReliefF — the same
 * code as scripts/fixtures/misc.py, vectorised; HDG / HEG — scanpy is not installed, so numpy
 * calls of the same definitions), R survival / glmnet, scikit-learn.
 */
import { parseArgs } from '../../../compute/core/args';
import { type Dataset } from '../../../compute/core/dataset';
import { quietContext } from '../../../compute/core/method';
import { coxModel } from '../../../compute/models/cox';
import { knn, type KnnModel } from '../../../compute/models/knn';
import { svm, type SvmModel } from '../../../compute/models/svm';
import { cox } from '../../../compute/selectors/cox';
import { hdg } from '../../../compute/selectors/hdg';
import { heg } from '../../../compute/selectors/heg';
import { mrmr } from '../../../compute/selectors/mrmr';
import { relieff } from '../../../compute/selectors/relieff';
import { type BenchCase } from '../case';

const args = <A>(
  spec: { args: Parameters<typeof parseArgs>[0] },
  raw: Record<string, unknown> = {},
): A => parseArgs(spec.args, raw) as unknown as A;

const MRMR_K = 50;

const FCQ_PY = `
import numpy as np
from sklearn.feature_selection import f_classif
rel = f_classif(X, y)[0]
cand = np.where(np.nan_to_num(rel) > 0)[0]
Z = X - X.mean(axis=0)
Z /= np.sqrt((Z * Z).sum(axis=0))
red = np.zeros(X.shape[1])
sel = []
free = np.zeros(X.shape[1], bool)
free[cand] = True
for i in range(${MRMR_K}):
    if i == 0:
        score = np.where(free, rel, -np.inf)
    else:
        r = np.abs(Z.T @ Z[:, sel[-1]])
        red += np.maximum(np.nan_to_num(r, nan=0.001), 0.001)
        m = red / i
        score = np.where(free, np.where(m == 1.0, 0.0, rel / m), -np.inf)
    b = int(np.argmax(score))
    sel.append(b)
    free[b] = False
`;

const RELIEFF_PY = `
import numpy as np
n, p = X.shape
rng_ = X.max(0) - X.min(0)
S = X / np.where(rng_ > 0, rng_, 1.0)
D = np.zeros((n, n))
for a in range(0, n, 16):
    D[a:a + 16] = np.abs(S[a:a + 16, None, :] - S[None, :, :]).sum(axis=2)
classes = np.unique(y)
prior = {c: np.mean(y == c) for c in classes}
W = np.zeros(p)
k = 10
for r in range(n):
    d = D[r].copy()
    d[r] = np.inf
    order = np.argsort(d, kind='stable')[:-1]
    for c in classes:
        nb = order[y[order] == c][:k]
        diffs = np.abs(S[nb] - S[r]).sum(axis=0)
        if c == y[r]:
            W -= diffs / (n * len(nb))
        else:
            W += prior[c] / (1 - prior[y[r]]) * diffs / (n * len(nb))
`;

export const cases: BenchCase[] = [
  {
    name: `mrmr (fcq k=${MRMR_K})`,
    task: 'binary',
    ours: (ds: Dataset) => mrmr.run(ds, args(mrmr), quietContext(1), MRMR_K),
    reference: { python: FCQ_PY, label: 'numpy FCQ (mrmr_selection rules)' },
  },
  {
    name: 'relieff (all instances k=10)',
    task: 'binary',
    ours: (ds: Dataset) => relieff.run(ds, args(relieff), quietContext(1)),
    reference: { python: RELIEFF_PY, label: 'numpy ReliefF (same definition)' },
  },
  {
    name: 'cox (univariate efron)',
    task: 'survival',
    ours: (ds: Dataset) => cox.run(ds, args(cox), quietContext(1)),
    reference: {
      r: `library(survival)
p <- sapply(seq_len(ncol(X)), function(j) summary(coxph(Surv(time, event) ~ X[, j]))$coefficients[1, 5])
padj <- p.adjust(p, "BH")`,
      label: 'R survival::coxph per feature',
    },
  },
  {
    name: 'cox (lasso 10-fold cv)',
    task: 'survival',
    ours: (ds: Dataset) => cox.run(ds, args(cox, { penalty: 'lasso' }), quietContext(1)),
    reference: {
      r: `library(survival)
library(glmnet)
fit <- cv.glmnet(X, Surv(time, event), family = "cox", nfolds = 10)`,
      label: 'R glmnet cv.glmnet(family = "cox")',
    },
  },
  {
    name: 'cox model (ridge alpha=0.1)',
    task: 'survival',
    smallOnly: true,
    ours: async (ds: Dataset) => {
      const sub = {
        ...ds,
        nFeatures: 50,
        data: ds.data.subarray(0, 50 * ds.nSamples),
        featureNames: ds.featureNames.slice(0, 50),
      };
      return (await coxModel.fit(sub, args(coxModel, { alpha: 0.1 }), quietContext(1))).predict(
        sub,
      );
    },
    reference: {
      r: `library(survival)
Z <- X[, 1:50]
fit <- coxph(Surv(time, event) ~ ridge(Z, theta = 0.1 * nrow(Z), scale = FALSE))
lp <- predict(fit, type = "lp")`,
      label: 'R coxph(ridge), first 50 features',
    },
  },
  {
    name: 'svm (rbf fit+predict)',
    task: 'binary',
    ours: async (ds: Dataset) => {
      const model = (await svm.fit(ds, args(svm), quietContext(1))) as SvmModel;
      return model.predictAsync(ds);
    },
    reference: {
      python: `from sklearn.svm import SVC
pred = SVC().fit(X, y).predict(X)`,
      label: 'scikit-learn SVC',
    },
  },
  {
    name: 'knn (k=5 fit+predict_proba)',
    task: 'binary',
    ours: async (ds: Dataset) => {
      const model = (await knn.fit(ds, args(knn), quietContext(1))) as KnnModel;
      return model.predictAsync(ds);
    },
    reference: {
      python: `from sklearn.neighbors import KNeighborsClassifier
proba = KNeighborsClassifier().fit(X, y).predict_proba(X)`,
      label: 'scikit-learn KNeighborsClassifier',
    },
  },
  {
    name: 'hdg (cv dispersion)',
    task: 'binary',
    ours: (ds: Dataset) => hdg.run(ds, args(hdg), quietContext(1), 500),
    reference: {
      python: `import numpy as np
m = X.mean(0); d = X.std(0, ddof=1) / (m + 1e-10); top = np.argsort(-d)[:500]`,
      label: 'numpy',
    },
  },
  {
    name: 'heg (mean top 500)',
    task: 'binary',
    ours: (ds: Dataset) => heg.run(ds, args(heg), quietContext(1), 500),
    reference: {
      python: `import numpy as np
m = X.mean(0); top = np.argsort(-m)[:500]`,
      label: 'numpy (same definition; scanpy not installed)',
    },
  },
  {
    name: 'heg (median top 500)',
    task: 'binary',
    ours: (ds: Dataset) => heg.run(ds, args(heg, { metric: 'median' }), quietContext(1), 500),
    reference: {
      python: `import numpy as np
m = np.median(X, axis=0); top = np.argsort(-m)[:500]`,
      label: 'numpy (same definition; scanpy not installed)',
    },
  },
];
