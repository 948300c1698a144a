/**
 * Simple imputation (sklearn SimpleImputer, strategy mean or median): each missing value is
 * replaced by its feature's mean / median over the observed training values. A feature with no
 * observed training value stays missing (scikit-learn would drop the column instead).
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { columnMoments } from '../stats/columns';
import { ALL_TASKS, featureIndex, mapColumns } from './common';

export interface ImputeArgs {
  strategy: 'mean' | 'median';
}

function median(values: Float64Array): number {
  const s = values.filter(v => v === v).sort();
  const m = s.length;
  if (m === 0) return NaN;
  return m % 2 === 1 ? s[(m - 1) / 2]! : (s[m / 2 - 1]! + s[m / 2]!) / 2;
}

export const impute: PreprocessorDef<ImputeArgs> = {
  kind: 'preprocessor',
  code: 'impute',
  label: 'Impute (mean / median)',
  description:
    'Replaces missing values with the feature mean or median learned on the training rows.',
  reference: 'sklearn.impute.SimpleImputer',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    strategy: {
      type: 'enum',
      values: ['mean', 'median'],
      default: 'mean',
      doc: 'Statistic of the observed training values used as the fill value.',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const n = train.nSamples;
    let fill: Float64Array;
    if (a.strategy === 'mean') fill = columnMoments(train.data, n, train.nFeatures).mean;
    else {
      fill = new Float64Array(train.nFeatures);
      for (let j = 0; j < train.nFeatures; j++)
        fill[j] = median(train.data.subarray(j * n, (j + 1) * n));
    }
    const names = train.featureNames;
    return {
      transform: ds => {
        const idx = featureIndex(names, ds, 'impute');
        return mapColumns(ds, (col, out, j) => {
          const f = fill[idx[j]!]!;
          for (let i = 0; i < col.length; i++) out[i] = col[i] === col[i] ? col[i]! : f;
        });
      },
    };
  },
};
