/**
 * ANOVA F-test per feature, as scikit-learn's univariate scores: `f_classif` (one-way ANOVA across
 * the classes) for binary / multiclass outcomes and `f_regression` (F of the univariate linear
 * regression, F = r²/(1 − r²)·(n − 2)) for a continuous outcome. Score = −log10 p (identical order
 * to F when no value is missing); without k the features with adjusted p ≤ alpha are kept.
 * Missing values are skipped per feature (scikit-learn rejects them).
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type SelectorDef } from '../core/method';
import {
  scalarOrByFeature,
  chunkedTests,
  pValueArgs,
  pValueResult,
  type PValueArgs,
} from '../stats/selection';
import { fOneway, pearson } from '../stats/univariate';

const args = { ...pValueArgs } satisfies ArgSpecs;

export const anova: SelectorDef<PValueArgs> = {
  kind: 'selector',
  code: 'anova',
  label: 'ANOVA F-test',
  description:
    'F-test per feature: f_classif (one-way ANOVA) for classes, f_regression for a continuous outcome; keeps adjusted p ≤ alpha.',
  reference: 'sklearn.feature_selection.f_classif / f_regression; Fisher (1925)',
  tasks: ['binary', 'multiclass', 'continuous'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    const n = ds.nSamples;
    if (ds.outcome.kind === 'continuous') {
      const y = ds.outcome.values;
      const tests = await chunkedTests(ds, ctx, 'f_regression', (data, p) => {
        const r = pearson(data, n, p, y);
        const f = new Float64Array(p);
        for (let j = 0; j < p; j++) {
          const r2 = r.statistic[j]! * r.statistic[j]!;
          f[j] = (r2 / (1 - r2)) * r.df[j]!;
        }
        return { ...r, statistic: f };
      });
      return pValueResult(ds, tests, a, k, {
        diagnostics: { test: 'f_regression', df: scalarOrByFeature(ds, tests.df) },
      });
    }
    const { labels, classes } = classLabels(ds);
    const tests = await chunkedTests(ds, ctx, 'f_classif', (data, p) =>
      fOneway(data, n, p, labels, classes.length),
    );
    return pValueResult(ds, tests, a, k, {
      diagnostics: {
        test: 'f_classif',
        dfBetween: classes.length - 1,
        dfWithin: scalarOrByFeature(ds, tests.df),
      },
    });
  },
};
