/**
 * Stability selection of the lasso, 100 subsamples of ⌊n/2⌋ samples at a fixed penalty: ours
 * (`path: auto` = the batched tensor kernel on native TensorFlow, else chunks of subsamples
 * fitted by the float64 coordinate descent on worker threads (compute/stability/float64.ts);
 * plus the batched kernel forced on the active backend) against the loop a
 * scikit-learn user writes — standardise each subsample, fit `Lasso(alpha)` / L1
 * `LogisticRegression`, count non-zero coefficients. The reference draws
 * its own subsamples (same count and size; numpy cannot reproduce our xoshiro stream), so both
 * sides do the same amount of work, not bit-identical work.
 * Objectives match: glmnet's (1/2n)‖y − Xβ‖² + α‖β‖₁ on standardised features is sklearn's Lasso;
 * for the binomial case C = 1 / (n_sub · α) (liblinear also penalises the intercept).
 */
import { parseArgs } from '../../../compute/core/args';
import { type Dataset } from '../../../compute/core/dataset';
import { quietContext } from '../../../compute/core/method';
import { getSelector } from '../../../compute/registry';
import { type BenchCase } from '../case';

const SUBSAMPLES = 100;

function ours(alpha: number, path = 'auto'): (ds: Dataset) => Promise<unknown> {
  return ds => {
    const def = getSelector('stability_selection');
    const args = parseArgs(def.args, {
      base: 'lasso',
      base_args: JSON.stringify({ alpha }),
      n_subsamples: SUBSAMPLES,
      sample_fraction: 0.5,
      path,
    });
    return def.run(ds, args as never, quietContext(42));
  };
}

const loop = (fit: string) => `
rng = np.random.default_rng(0)
n, p = X.shape
counts = np.zeros(p)
for s in range(${SUBSAMPLES}):
    idx = rng.choice(n, n // 2, replace=False)
    Xs = X[idx]
    Xs = (Xs - Xs.mean(axis=0)) / Xs.std(axis=0)
    ys = y[idx]
${fit}
    counts += coef != 0
freq = counts / ${SUBSAMPLES}
`;

export const cases: BenchCase[] = [
  {
    name: 'stability_selection (lasso gaussian)',
    task: 'continuous',
    ours: ours(0.1),
    reference: {
      label: `sklearn Lasso loop × ${SUBSAMPLES}`,
      python:
        'from sklearn.linear_model import Lasso\n' +
        loop('    coef = Lasso(alpha=0.1).fit(Xs, ys).coef_'),
    },
  },
  {
    // The batched float32 FISTA kernel forced on whatever tensor backend is active (wasm here).
    name: 'stability_selection (lasso gaussian batched)',
    task: 'continuous',
    ours: ours(0.1, 'batched'),
    smallOnly: true,
    reference: {
      label: `sklearn Lasso loop × ${SUBSAMPLES}`,
      python:
        'from sklearn.linear_model import Lasso\n' +
        loop('    coef = Lasso(alpha=0.1).fit(Xs, ys).coef_'),
    },
  },
  {
    name: 'stability_selection (lasso binomial)',
    task: 'binary',
    ours: ours(0.05),
    reference: {
      label: `sklearn L1 LogisticRegression (liblinear) loop × ${SUBSAMPLES}`,
      python:
        'from sklearn.linear_model import LogisticRegression\n' +
        loop(
          "    coef = LogisticRegression(penalty='l1', solver='liblinear', C=1 / (len(ys) * 0.05)).fit(Xs, ys).coef_[0]",
        ),
    },
  },
];
