/**
 * Mann–Whitney U (Wilcoxon rank-sum) test per feature, positive versus negative class, as
 * scipy.stats.mannwhitneyu(pos, neg, alternative='two-sided', method='asymptotic'): average ranks
 * for ties, the tie-corrected normal approximation with continuity correction,
 * z = (max(U1, U2) − n1·n2/2 − ½) / σ, p = min(1, 2·P(Z ≥ z)). The reported statistic is U of the
 * positive class. The exact small-sample distribution is not used (scipy's default switches to it
 * for n ≤ 8 without ties; we always use the asymptotic form, which is what makes a whole-genome
 * scan fast). Score = −log10 p; without k, adjusted p ≤ alpha. Missing values skipped per feature.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type SelectorDef } from '../core/method';
import { chunkedTests, pValueArgs, pValueResult, type PValueArgs } from '../stats/selection';
import { mannWhitney as mannWhitneyColumns } from '../stats/univariate';

const args = { ...pValueArgs } satisfies ArgSpecs;

export const mannWhitney: SelectorDef<PValueArgs> = {
  kind: 'selector',
  code: 'mann_whitney',
  label: 'Mann–Whitney U test',
  description:
    'Wilcoxon rank-sum / Mann–Whitney U per feature (two-sided, tie-corrected normal approximation); keeps adjusted p ≤ alpha.',
  reference:
    "scipy.stats.mannwhitneyu(method='asymptotic'); Mann & Whitney (1947) Ann. Math. Stat. 18:50–60",
  tasks: ['binary'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    const { labels } = classLabels(ds);
    const n = ds.nSamples;
    const tests = await chunkedTests(ds, ctx, 'Mann–Whitney U', (data, p) =>
      mannWhitneyColumns(data, n, p, labels),
    );
    return pValueResult(ds, tests, a, k, {
      diagnostics: {
        test: 'mann_whitney_asymptotic',
        statisticOf: ds.outcome.kind === 'binary' ? ds.outcome.classes[1] : undefined,
      },
    });
  },
};
