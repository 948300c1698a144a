/**
 * Kruskal–Wallis H test per feature across the classes, as scipy.stats.kruskal: average ranks,
 * H divided by the tie correction 1 − Σ(t³ − t)/(N³ − N), p from χ²(k − 1). A feature whose values
 * are all equal gets p = NaN (scipy raises) and is never selected. Score = −log10 p; without k,
 * adjusted p ≤ alpha. Missing values are skipped per feature.
 */
import { type ArgSpecs } from '../core/args';
import { classLabels } from '../core/dataset';
import { type SelectorDef } from '../core/method';
import { chunkedTests, pValueArgs, pValueResult, type PValueArgs } from '../stats/selection';
import { kruskal as kruskalColumns } from '../stats/univariate';

const args = { ...pValueArgs } satisfies ArgSpecs;

export const kruskal: SelectorDef<PValueArgs> = {
  kind: 'selector',
  code: 'kruskal',
  label: 'Kruskal–Wallis H test',
  description:
    'Rank-based one-way test per feature across classes (tie-corrected H, χ² approximation); keeps adjusted p ≤ alpha.',
  reference: 'scipy.stats.kruskal; Kruskal & Wallis (1952) JASA 47:583–621',
  tasks: ['binary', 'multiclass'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    const { labels, classes } = classLabels(ds);
    const n = ds.nSamples;
    const tests = await chunkedTests(ds, ctx, 'Kruskal–Wallis', (data, p) =>
      kruskalColumns(data, n, p, labels, classes.length),
    );
    return pValueResult(ds, tests, a, k, {
      diagnostics: { test: 'kruskal', dfBetween: classes.length - 1 },
    });
  },
};
