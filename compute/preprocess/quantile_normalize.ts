/**
 * Quantile normalisation across samples (Bolstad et al. 2003; preprocessCore normalize.quantiles):
 * every sample is given the same distribution of values. Fit: sort each training sample's values;
 * the reference distribution is the mean of the sorted vectors. Transform: each sample's value of
 * (average) rank r becomes the reference quantile at r, linearly interpolated for tied (half)
 * ranks. Samples with missing values use their m observed values, rank r mapped to reference
 * position 1 + (r − 1)(p − 1)/(m − 1) (training samples are likewise interpolated onto p
 * positions before averaging); missing stays missing. Applied to new samples with the training
 * reference, so test data never influence it.
 */
import { type ArgSpecs } from '../core/args';
import { type Dataset } from '../core/dataset';
import { type PreprocessorDef } from '../core/method';
import { averageRank } from '../stats/ranks';
import { ALL_TASKS, featureIndex } from './common';

/** Value of a sorted array at fractional 0-based position t (linear interpolation). */
function at(sorted: Float64Array, t: number): number {
  const lo = Math.floor(t);
  const hi = Math.min(sorted.length - 1, lo + 1);
  const w = t - lo;
  return w === 0 ? sorted[lo]! : sorted[lo]! * (1 - w) + sorted[hi]! * w;
}

/** Observed values of sample i (row), in the given feature order. */
function rowValues(ds: Dataset, i: number): { values: Float64Array; m: number } {
  const p = ds.nFeatures;
  const values = new Float64Array(p);
  let m = 0;
  for (let j = 0; j < p; j++) {
    const v = ds.data[j * ds.nSamples + i]!;
    if (v === v) values[m++] = v;
  }
  return { values, m };
}

export const quantileNormalize: PreprocessorDef<Record<string, never>> = {
  kind: 'preprocessor',
  code: 'quantile_normalize',
  label: 'Quantile normalisation',
  description:
    'Gives every sample the same value distribution (mean of the sorted training samples), Bolstad et al. 2003.',
  reference: 'Bolstad et al. (2003) Bioinformatics 19:185–193; preprocessCore::normalize.quantiles',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {} satisfies ArgSpecs,
  fit(train) {
    const p = train.nFeatures;
    const reference = new Float64Array(p);
    let used = 0;
    for (let i = 0; i < train.nSamples; i++) {
      const { values, m } = rowValues(train, i);
      if (m === 0) continue;
      const s = values.subarray(0, m).sort();
      for (let q = 0; q < p; q++)
        reference[q] += m === p ? s[q]! : at(s, p === 1 ? 0 : (q * (m - 1)) / (p - 1));
      used++;
    }
    for (let q = 0; q < p; q++) reference[q] = used > 0 ? reference[q]! / used : NaN;
    const names = train.featureNames;
    return {
      transform: ds => {
        if (ds.nFeatures !== p) {
          throw new Error(`quantile_normalize: fitted on ${p} features, got ${ds.nFeatures}`);
        }
        featureIndex(names, ds, 'quantile_normalize');
        const n = ds.nSamples;
        const data = new Float64Array(ds.data.length);
        const sorted = new Float64Array(p);
        for (let i = 0; i < n; i++) {
          let m = 0;
          for (let j = 0; j < p; j++) {
            const v = ds.data[j * n + i]!;
            if (v === v) sorted[m++] = v;
          }
          const s = sorted.subarray(0, m).sort();
          for (let j = 0; j < p; j++) {
            const v = ds.data[j * n + i]!;
            if (v !== v) {
              data[j * n + i] = NaN;
              continue;
            }
            const r0 = averageRank(s, m, v) - 1; // 0-based, half-integer for ties
            const t = m === 1 ? (p - 1) / 2 : (r0 * (p - 1)) / (m - 1);
            data[j * n + i] = at(reference, t);
          }
        }
        return { ...ds, data };
      },
    };
  },
};
