/**
 * log2(x + pseudocount), elementwise (default pseudocount 1: the usual log2(x + 1) for counts and
 * intensities). Stateless. Values with x + pseudocount ≤ 0 have no logarithm and become NaN
 * (missing), so a later imputation step can handle them.
 */
import { type ArgSpecs } from '../core/args';
import { type PreprocessorDef } from '../core/method';
import { ALL_TASKS, mapColumns } from './common';

export interface Log2Args {
  pseudocount: number;
}

export const log2: PreprocessorDef<Log2Args> = {
  kind: 'preprocessor',
  code: 'log2',
  label: 'log2(x + 1)',
  description: 'Elementwise log2(x + pseudocount); non-positive arguments become missing.',
  reference: 'Standard omics log transform (e.g. limma-voom, Law et al. 2014)',
  tasks: ALL_TASKS,
  device: 'cpu',
  args: {
    pseudocount: { type: 'number', default: 1, min: 0, doc: 'Added before the logarithm.' },
  } satisfies ArgSpecs,
  fit(_train, a) {
    const c = a.pseudocount;
    return {
      transform: ds =>
        mapColumns(ds, (col, out) => {
          for (let i = 0; i < col.length; i++) {
            const v = col[i]! + c;
            out[i] = v > 0 ? Math.log2(v) : NaN;
          }
        }),
    };
  },
};
