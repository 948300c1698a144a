/**
 * Robustness sweep (issues #4/#5), tree-based selectors (random forest, gradient boosting,
 * Boruta, RFE) on awkward but valid omics data through `select`'s code path. Small forests for
 * speed (expect.ts): the sweep is about crashes, refusals and determinism, not accuracy.
 */
import { sweepSelectors } from './sweep';

describe('tree selectors on awkward data', () => {
  sweepSelectors(['random_forest', 'gradient_boosting', 'boruta', 'rfe']);
});
