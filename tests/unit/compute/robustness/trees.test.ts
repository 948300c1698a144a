/**
 * Robustness sweep (issues #4/#5), tree-based selectors (random forest, gradient boosting,
 * Boruta, RFE) on awkward but valid omics data through `select`'s code path. Small forests for
 * speed (expect.ts): the sweep is about crashes, refusals and determinism, not accuracy.
 */
import { SWEPT_SELECTORS, sweepSelectors, withoutCases } from './sweep';

const codes = SWEPT_SELECTORS.trees;

describe('tree selectors on awkward data', () => {
  it('every method of this group has cases for its outcome types', () => {
    expect(withoutCases(codes, 'selector')).toEqual([]);
  });
  sweepSelectors(codes);
});
