/**
 * Two-sample t-test per feature, positive class versus negative class (binary outcome).
 * Welch's unequal-variance test by default (`equal_var=false`), Student's pooled test with
 * `equal_var=true`; two-sided p-values as scipy.stats.ttest_ind. Score = −log10 p; without k the
 * features with adjusted p ≤ alpha are kept. Missing values are skipped per feature.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type SelectorDef } from '../core/method';
import {
  byFeature,
  chunkedTests,
  pValueArgs,
  pValueResult,
  type PValueArgs,
} from '../stats/selection';
import { tTest as tTestColumns } from '../stats/univariate';

export interface TTestArgs extends PValueArgs {
  equal_var: boolean;
}

const args = {
  equal_var: {
    type: 'boolean',
    default: false,
    doc: "false: Welch's t-test (unequal variances); true: Student's pooled-variance t-test.",
  },
  ...pValueArgs,
} satisfies ArgSpecs;

export const tTest: SelectorDef<TTestArgs> = {
  kind: 'selector',
  code: 't_test',
  label: 't-test',
  description:
    'Two-sample t-test per feature (Welch by default, Student with equal_var); ranks by p-value, keeps adjusted p ≤ alpha.',
  reference:
    'scipy.stats.ttest_ind; Welch (1947) Biometrika 34:28–35; Benjamini & Hochberg (1995) JRSS-B 57:289–300',
  tasks: ['binary'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    const { labels } = classLabels(ds);
    const n = ds.nSamples;
    const tests = await chunkedTests(ds, ctx, 't-test', (data, p) =>
      tTestColumns(data, n, p, labels, a.equal_var),
    );
    return pValueResult(ds, tests, a, k, {
      params: { equal_var: a.equal_var },
      diagnostics: { test: a.equal_var ? 'student' : 'welch', df: byFeature(ds, tests.df) },
    });
  },
};
