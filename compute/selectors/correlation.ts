/**
 * Correlation of each feature with a continuous outcome: Pearson r (scipy.stats.pearsonr) or
 * Spearman ρ (scipy.stats.spearmanr, Pearson on average ranks). Score = |r|; two-sided p-values
 * from t = r·√((n − 2)/(1 − r²)) with n − 2 df, adjusted as chosen; without k the features with
 * adjusted p ≤ alpha are kept. Rows where the feature or the outcome is missing are skipped
 * (pairwise-complete), so n can differ between features.
 */
import { type ArgSpecs } from '../core/args';
import { type SelectorDef } from '../core/method';
import {
  scalarOrByFeature,
  chunkedTests,
  pValueArgs,
  pValueResult,
  type PValueArgs,
} from '../stats/selection';
import { pearson, spearman } from '../stats/univariate';

export interface CorrelationArgs extends PValueArgs {
  method: 'pearson' | 'spearman';
}

const args = {
  method: {
    type: 'enum',
    values: ['pearson', 'spearman'],
    default: 'pearson',
    doc: 'pearson: linear correlation; spearman: rank correlation (robust to outliers, monotone trends).',
  },
  ...pValueArgs,
} satisfies ArgSpecs;

export const correlation: SelectorDef<CorrelationArgs> = {
  kind: 'selector',
  code: 'correlation',
  label: 'Correlation with outcome',
  description:
    '|Pearson| or |Spearman| correlation of each feature with a continuous outcome, with p-values; keeps adjusted p ≤ alpha.',
  reference: 'scipy.stats.pearsonr / spearmanr; Spearman (1904) Am. J. Psychol. 15:72–101',
  tasks: ['continuous'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    if (ds.outcome.kind !== 'continuous') {
      throw new Error(
        `correlation needs a continuous outcome, the dataset has a ${ds.outcome.kind} outcome`,
      );
    }
    const y = ds.outcome.values;
    const n = ds.nSamples;
    const kernel = a.method === 'spearman' ? spearman : pearson;
    const tests = await chunkedTests(ds, ctx, `${a.method} correlation`, (data, p) =>
      kernel(data, n, p, y),
    );
    const scores = new Float64Array(ds.nFeatures);
    for (let j = 0; j < scores.length; j++) scores[j] = Math.abs(tests.statistic[j]!);
    return pValueResult(ds, tests, a, k, {
      scores,
      params: { method: a.method },
      diagnostics: {
        test: a.method,
        n: scalarOrByFeature(
          ds,
          tests.df.map(d => d + 2),
        ),
      },
    });
  },
};
