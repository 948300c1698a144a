/**
 * HDG — high-deviation genes (OmicSelector2 `HDGSelector`), unsupervised, for single-cell matrices.
 * Dispersion per gene: `cv` = sd / (mean + 1e-10), `variance`, or `std` (sd with ddof = 1). Genes
 * whose mean is below `min_mean` are excluded (score NaN, never selected). Own rule: every eligible
 * gene with dispersion > 0; with k: the top k eligible genes. The outcome is ignored.
 */
import { type ArgSpecs } from '../core/args';
import { checkAbort, type SelectorDef } from '../core/method';
import { rankAndSelect } from '../core/select';

const ALL_TASKS = ['unsupervised', 'binary', 'multiclass', 'continuous', 'survival'] as const;

const hdgArgs = {
  metric: {
    type: 'enum',
    values: ['cv', 'variance', 'std'],
    default: 'cv',
    doc: 'Dispersion: coefficient of variation sd/(mean + 1e-10), variance or sd (ddof = 1).',
  },
  min_mean: { type: 'number', default: 0, doc: 'Genes with a lower mean expression are excluded.' },
} satisfies ArgSpecs;

export interface HdgArgs {
  metric: 'cv' | 'variance' | 'std';
  min_mean: number;
}

export const hdg: SelectorDef<HdgArgs> = {
  kind: 'selector',
  code: 'hdg',
  label: 'High-deviation genes (single-cell)',
  description:
    'Unsupervised: ranks genes by dispersion (CV, variance or sd) among genes with mean ≥ min_mean.',
  reference: 'OmicSelector2 HDGSelector; dispersion-based highly-variable gene selection',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: hdgArgs,
  async run(ds, args, ctx, k) {
    const n = ds.nSamples;
    const p = ds.nFeatures;
    const dispersion = new Float64Array(p);
    const means = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      if (j % 4096 === 0) {
        checkAbort(ctx.signal);
        ctx.progress(j / p, 'dispersion');
      }
      const off = j * n;
      let s = 0;
      let m = 0;
      for (let i = 0; i < n; i++) {
        const v = ds.data[off + i]!;
        if (v === v) {
          s += v;
          m++;
        }
      }
      const mean = s / m;
      let ss = 0;
      for (let i = 0; i < n; i++) {
        const v = ds.data[off + i]!;
        if (v === v) ss += (v - mean) * (v - mean);
      }
      const variance = ss / (m - 1);
      means[j] = mean;
      dispersion[j] =
        mean < args.min_mean || m < 2
          ? NaN
          : args.metric === 'variance'
            ? variance
            : args.metric === 'std'
              ? Math.sqrt(variance)
              : Math.sqrt(variance) / (mean + 1e-10);
    }
    const eligible = (j: number): boolean => dispersion[j]! === dispersion[j]!;
    const ranked = rankAndSelect(ds, dispersion, undefined, j => dispersion[j]! > 0);
    // Top k among eligible genes only (excluded genes never fill up k).
    const selected =
      k !== undefined && k > 0
        ? Array.from(ranked.order)
            .filter(eligible)
            .slice(0, k)
            .map(j => ds.featureNames[j]!)
        : ranked.selected;
    ctx.progress(1, 'done');
    return {
      selected,
      scores: ranked.scores,
      params: { metric: args.metric, min_mean: args.min_mean, k: k ?? null },
      diagnostics: {
        dispersions: ranked.scores,
        excluded_low_mean: ds.featureNames.filter((_, j) => means[j]! < args.min_mean).length,
      },
      backend: 'float64',
    };
  },
};
