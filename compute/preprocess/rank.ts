/**
 * Rank transform per feature against the training distribution: a value x gets the plotting
 * position u = (#train < x + ½·#train = x + ½) / (m + 1), m = observed training values. A training
 * value of average rank r gets exactly r / (m + 1) (the van der Waerden position), unseen values
 * fall between their neighbours, and u stays inside (0, 1) even beyond the training range.
 * `output=normal` returns Φ⁻¹(u): the rank-based inverse normal transform. Missing stays missing.
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { normalQuantile } from '../stats/distributions';
import { lowerBound, upperBound } from '../stats/ranks';
import { ALL_TASKS, featureIndex, mapColumns } from './common';

export interface RankArgs {
  output: 'uniform' | 'normal';
}

export const rank: PreprocessorDef<RankArgs> = {
  kind: 'preprocessor',
  code: 'rank',
  label: 'Rank transform',
  description:
    'Per-feature ranks against the training values, as uniform plotting positions r/(m+1) or their normal quantiles (rank-based inverse normal transform).',
  reference: 'van der Waerden (1952); Beasley et al. (2009) Behav. Genet. 39:580–595',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    output: {
      type: 'enum',
      values: ['uniform', 'normal'],
      default: 'uniform',
      doc: 'uniform: r/(m+1) in (0, 1); normal: its standard-normal quantile.',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const n = train.nSamples;
    const sorted: Float64Array[] = [];
    for (let j = 0; j < train.nFeatures; j++) {
      sorted.push(
        train.data
          .subarray(j * n, (j + 1) * n)
          .filter(v => v === v)
          .sort(),
      );
    }
    const names = train.featureNames;
    return {
      transform: ds => {
        const idx = featureIndex(names, ds, 'rank');
        return mapColumns(ds, (col, out, j) => {
          const ref = sorted[idx[j]!]!;
          const m = ref.length;
          for (let i = 0; i < col.length; i++) {
            const v = col[i]!;
            if (v !== v || m === 0) {
              out[i] = NaN;
              continue;
            }
            const less = lowerBound(ref, m, v);
            const equal = upperBound(ref, m, v) - less;
            const u = (less + 0.5 * equal + 0.5) / (m + 1);
            out[i] = a.output === 'normal' ? normalQuantile(u) : u;
          }
        });
      },
    };
  },
};
