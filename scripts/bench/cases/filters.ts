/**
 * Bench cases for the statistical filters. References are the vectorised scikit-learn / scipy /
 * numpy calls a user would write (all features at once), followed by the same Benjamini–Hochberg
 * adjustment our default `p_adjust=bh` performs, so both sides do the same work.
 */
import { parseArgs } from '../../../compute/core/args';
import { type Dataset } from '../../../compute/core/dataset';
import { quietContext } from '../../../compute/core/method';
import { getSelector } from '../../../compute/registry';
import { type BenchCase } from '../case';

function ours(code: string, raw: Record<string, unknown> = {}): (ds: Dataset) => Promise<unknown> {
  const def = getSelector(code);
  const args = parseArgs(def.args, raw);
  return ds => def.run(ds, args as never, quietContext(42));
}

/** numpy BH on `p` (R p.adjust "BH"). */
const BH = `
o = np.argsort(p)[::-1]
m = len(p)
q = np.minimum.accumulate(p[o] * m / np.arange(m, 0, -1))
adj = np.empty(m)
adj[o] = np.minimum(q, 1)
`;

const PEARSON_P = `
n = X.shape[0]
Xc = X - X.mean(axis=0)
yc = y - y.mean()
r = (Xc.T @ yc) / np.sqrt((Xc * Xc).sum(axis=0) * (yc @ yc))
t = r * np.sqrt((n - 2) / (1 - r * r))
p = 2 * stats.t.sf(np.abs(t), n - 2)
`;

export const cases: BenchCase[] = [
  {
    name: 'variance_threshold',
    task: 'binary',
    ours: ours('variance_threshold'),
    reference: {
      label: 'sklearn VarianceThreshold',
      python:
        'from sklearn.feature_selection import VarianceThreshold\nVarianceThreshold().fit(X)\n',
    },
  },
  {
    name: 'fold_change',
    task: 'binary',
    ours: ours('fold_change', { log_input: true }),
    reference: {
      label: 'numpy group means',
      python:
        'lfc = X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)\norder = np.argsort(-np.abs(lfc))\n',
    },
  },
  {
    name: 't_test',
    task: 'binary',
    ours: ours('t_test'),
    reference: {
      label: 'scipy ttest_ind(equal_var=False) + BH',
      python: `from scipy.stats import ttest_ind\np = ttest_ind(X[y == 1], X[y == 0], equal_var=False).pvalue\n${BH}`,
    },
  },
  {
    name: 'anova (f_classif)',
    task: 'multiclass',
    ours: ours('anova'),
    reference: {
      label: 'sklearn f_classif + BH',
      python: `from sklearn.feature_selection import f_classif\np = f_classif(X, y)[1]\n${BH}`,
    },
  },
  {
    name: 'anova (f_regression)',
    task: 'continuous',
    ours: ours('anova'),
    reference: {
      label: 'sklearn f_regression + BH',
      python: `from sklearn.feature_selection import f_regression\np = f_regression(X, y)[1]\n${BH}`,
    },
  },
  {
    name: 'mann_whitney',
    task: 'binary',
    ours: ours('mann_whitney'),
    reference: {
      label: "scipy mannwhitneyu(method='asymptotic') + BH",
      python: `from scipy.stats import mannwhitneyu\np = mannwhitneyu(X[y == 1], X[y == 0], method='asymptotic').pvalue\n${BH}`,
    },
  },
  {
    name: 'kruskal',
    task: 'multiclass',
    ours: ours('kruskal'),
    reference: {
      label: 'scipy kruskal (axis=0) + BH',
      python: `from scipy.stats import kruskal\np = kruskal(*[X[y == c] for c in range(3)]).pvalue\n${BH}`,
    },
  },
  {
    name: 'correlation (pearson)',
    task: 'continuous',
    ours: ours('correlation'),
    reference: {
      label: 'numpy Pearson r + scipy t.sf + BH',
      python: `from scipy import stats\n${PEARSON_P}${BH}`,
    },
  },
  {
    name: 'correlation (spearman)',
    task: 'continuous',
    ours: ours('correlation', { method: 'spearman' }),
    reference: {
      label: 'scipy rankdata + numpy r + t.sf + BH',
      python: `from scipy import stats\nX = stats.rankdata(X, axis=0)\ny = stats.rankdata(y)\n${PEARSON_P}${BH}`,
    },
  },
  {
    name: 'correlation_filter',
    task: 'binary',
    ours: ours('correlation_filter'),
    reference: {
      label: 'numpy blocked greedy (BLAS GEMM)',
      python: `from sklearn.feature_selection import f_classif
rel = -np.log10(f_classif(X, y)[1])
order = np.argsort(-rel, kind='stable')
Z = X[:, order]
Z = Z - Z.mean(axis=0)
Z /= np.linalg.norm(Z, axis=0)
p = Z.shape[1]
dropped = np.zeros(p, bool)
kept = []
B = 256
for s in range(0, p, B):
    idx = np.arange(s, min(p, s + B))
    alive = idx[~dropped[idx]]
    if len(alive) == 0:
        continue
    R = Z[:, alive].T @ Z[:, s:]
    for a, i in enumerate(alive):
        if dropped[i]:
            continue
        kept.append(order[i])
        dropped[i + 1:] |= np.abs(R[a, i - s + 1:]) >= 0.9
`,
    },
  },
];
