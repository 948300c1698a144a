/**
 * Standardisation (sklearn StandardScaler): per feature (x − mean) / sd with mean and sd learned on
 * the training rows and applied unchanged to any rows. sd uses ddof 0 like scikit-learn
 * (`ddof=1` gives the sample sd as R's scale()). Missing values are ignored when fitting and stay
 * missing. A constant feature gets sd 1 (as scikit-learn), i.e. it is only centred.
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { columnMoments } from '../stats/columns';
import { ALL_TASKS, featureIndex, mapColumns } from './common';

export interface ZscoreArgs {
  with_mean: boolean;
  with_std: boolean;
  ddof: number;
}

export const zscore: PreprocessorDef<ZscoreArgs> = {
  kind: 'preprocessor',
  code: 'zscore',
  label: 'z-score',
  description: 'Centre and scale each feature with the training mean and standard deviation.',
  reference: 'sklearn.preprocessing.StandardScaler',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    with_mean: { type: 'boolean', default: true, doc: 'Subtract the training mean.' },
    with_std: { type: 'boolean', default: true, doc: 'Divide by the training standard deviation.' },
    ddof: {
      type: 'integer',
      default: 0,
      min: 0,
      max: 1,
      doc: '0: population sd (scikit-learn); 1: sample sd (R scale()).',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const m = columnMoments(train.data, train.nSamples, train.nFeatures);
    const center = new Float64Array(train.nFeatures);
    const scale = new Float64Array(train.nFeatures).fill(1);
    for (let j = 0; j < train.nFeatures; j++) {
      if (a.with_mean) center[j] = m.mean[j]!;
      if (a.with_std) {
        const sd = Math.sqrt(m.m2[j]! / (m.count[j]! - a.ddof));
        scale[j] = sd > 0 && Number.isFinite(sd) ? sd : 1;
      }
    }
    const names = train.featureNames;
    return {
      transform: ds => {
        const idx = featureIndex(names, ds, 'zscore');
        return mapColumns(ds, (col, out, j) => {
          const c = center[idx[j]!]!;
          const s = scale[idx[j]!]!;
          for (let i = 0; i < col.length; i++) out[i] = (col[i]! - c) / s;
        });
      },
    };
  },
};
