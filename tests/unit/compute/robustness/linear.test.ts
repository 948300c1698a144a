/**
 * Robustness sweep (issues #4/#5), penalised linear selectors and the meta-selectors (stability
 * selection, ensemble): awkward but valid omics data through `select`'s code path. Expectations
 * and the speed settings (cv = 3, 20 penalties, 10 subsamples): expect.ts.
 */
import { sweepSelectors } from './sweep';

describe('penalised linear and meta-selectors on awkward data', () => {
  sweepSelectors(['lasso', 'elastic_net', 'ridge', 'l1_svm', 'stability_selection', 'ensemble']);
});
