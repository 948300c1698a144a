/**
 * Low-variance feature filter learned on training rows: drops features whose population variance
 * is ≤ `threshold` and, with `drop_fraction` > 0, also the least variable fraction of all features
 * (a common "keep the most variable genes" step). Missing values are skipped; a feature with no
 * observed value counts as variance 0.
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { columnMoments } from '../stats/columns';
import { ALL_TASKS, keepFeatures } from './common';

export interface VarianceFilterArgs {
  threshold: number;
  drop_fraction: number;
}

export const varianceFilter: PreprocessorDef<VarianceFilterArgs> = {
  kind: 'preprocessor',
  code: 'variance_filter',
  label: 'Low-variance filter',
  description:
    'Removes features whose training variance is at or below a threshold, or in the lowest fraction.',
  reference:
    'sklearn.feature_selection.VarianceThreshold; Bourgon et al. (2010) PNAS 107:9546–9551',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    threshold: {
      type: 'number',
      default: 0,
      min: 0,
      doc: 'Drop features with variance ≤ threshold.',
    },
    drop_fraction: {
      type: 'number',
      default: 0,
      min: 0,
      max: 1,
      doc: 'Also drop this fraction of all features with the lowest variance (0.75 keeps the top quarter).',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const p = train.nFeatures;
    const m = columnMoments(train.data, train.nSamples, p);
    const v = Float64Array.from({ length: p }, (_, j) =>
      m.count[j]! > 0 ? m.m2[j]! / m.count[j]! : 0,
    );
    const drop = new Uint8Array(p);
    for (let j = 0; j < p; j++) if (v[j]! <= a.threshold) drop[j] = 1;
    const nDrop = Math.floor(a.drop_fraction * p);
    if (nDrop > 0) {
      const order = Int32Array.from({ length: p }, (_, j) => j).sort(
        (x, y) => v[x]! - v[y]! || x - y,
      );
      for (let q = 0; q < nDrop; q++) drop[order[q]!] = 1;
    }
    return keepFeatures(train.featureNames.filter((_, j) => !drop[j]));
  },
};
