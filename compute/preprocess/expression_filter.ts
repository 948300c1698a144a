/**
 * Low-expression filter learned on training rows: keeps a feature when at least `min_fraction` of
 * its observed training values are ≥ `min_value` (for log2 CPM data, min_value 1 and a fraction
 * equal to the smallest group's share mirror edgeR's filterByExpr rule of thumb).
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { ALL_TASKS, keepFeatures } from './common';

export interface ExpressionFilterArgs {
  min_value: number;
  min_fraction: number;
}

export const expressionFilter: PreprocessorDef<ExpressionFilterArgs> = {
  kind: 'preprocessor',
  code: 'expression_filter',
  label: 'Low-expression filter',
  description:
    'Keeps features reaching min_value in at least min_fraction of the training samples.',
  reference: 'Chen, Lun & Smyth (2016) F1000Research 5:1438 (edgeR filterByExpr)',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    min_value: { type: 'number', default: 1, doc: 'Expression level a sample must reach.' },
    min_fraction: {
      type: 'number',
      default: 0.1,
      min: 0,
      max: 1,
      doc: 'Fraction of (observed) training samples that must reach min_value.',
    },
  } satisfies ArgSpecs,
  fit(train, a) {
    const n = train.nSamples;
    const kept: string[] = [];
    for (let j = 0; j < train.nFeatures; j++) {
      let obs = 0;
      let hit = 0;
      for (let i = j * n; i < (j + 1) * n; i++) {
        const v = train.data[i]!;
        if (v === v) {
          obs++;
          if (v >= a.min_value) hit++;
        }
      }
      if (obs > 0 && hit >= a.min_fraction * obs) kept.push(train.featureNames[j]!);
    }
    return keepFeatures(kept);
  },
};
