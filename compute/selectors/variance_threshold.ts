/**
 * Variance filter, as sklearn.feature_selection.VarianceThreshold: population variance (ddof 0,
 * numpy `nanvar`) per feature; keeps features whose variance is strictly greater than `threshold`.
 * With threshold 0, scikit-learn takes min(variance, peak-to-peak) so that a constant column whose
 * floating-point variance is 1e-33 still counts as 0: we do the same. Unsupervised (the outcome
 * is ignored). Score = variance. Missing values are skipped per feature.
 */
import { type ArgSpecs } from '../core/args';
import { type SelectorDef } from '../core/method';
import { columnCentredMoments, columnRange } from '../stats/columns';
import { selectByScore } from '../stats/selection';

export interface VarianceThresholdArgs {
  threshold: number;
}

const args = {
  threshold: {
    type: 'number',
    default: 0,
    min: 0,
    doc: 'Keep features with (population) variance strictly above this value.',
  },
} satisfies ArgSpecs;

export const varianceThreshold: SelectorDef<VarianceThresholdArgs> = {
  kind: 'selector',
  code: 'variance_threshold',
  label: 'Variance threshold',
  description:
    'Unsupervised filter: drops features whose variance is not above the threshold (0 = constant features).',
  reference: 'sklearn.feature_selection.VarianceThreshold',
  tasks: ['unsupervised', 'binary', 'multiclass', 'continuous', 'survival'],
  device: 'cpu',
  args,
  async run(ds, a, ctx, k) {
    ctx.progress(0, 'variance');
    const n = ds.nSamples;
    const m = columnCentredMoments(ds.data, n, ds.nFeatures);
    const variance = new Float64Array(ds.nFeatures);
    let nAbove = 0;
    for (let j = 0; j < ds.nFeatures; j++) {
      const c = m.count[j]!;
      let v = c > 0 ? m.m2[j]! / c : NaN;
      // min(variance, peak-to-peak) can only be the peak-to-peak when the variance exceeds 4
      // (Popoviciu: variance ≤ ptp²/4, so ptp ≥ 2√variance ≥ variance up to 4, with ample
      // margin for rounding below 2): skip the extra pass over the column where it cannot matter.
      if (a.threshold === 0 && c > 0 && !(v <= 2)) {
        v = Math.min(v, columnRange(ds.data, j * n, (j + 1) * n));
      }
      variance[j] = v;
      if (v > a.threshold) nAbove++;
    }
    const ranked = selectByScore(ds, variance, k, j => variance[j]! > a.threshold);
    ctx.progress(1, 'variance');
    return {
      selected: ranked.selected,
      scores: ranked.scores,
      params: { threshold: a.threshold },
      diagnostics: { nAboveThreshold: nAbove },
      backend: 'float64',
    };
  },
};
