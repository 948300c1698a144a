/**
 * Robustness sweep (issues #4/#5), statistical filters and single-cell selectors: awkward but
 * valid omics data (cases.ts) through `select`'s own code path. Expectations: expect.ts.
 */
import { sweepSelectors } from './sweep';

describe('filters on awkward data', () => {
  sweepSelectors([
    'variance_threshold',
    'fold_change',
    't_test',
    'anova',
    'mann_whitney',
    'kruskal',
    'correlation',
    'correlation_filter',
    'mrmr',
    'relieff',
    'heg',
    'hdg',
    'cox',
  ]);
});
